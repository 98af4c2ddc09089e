// roost/sync/controller.cc — rank 0 coordinates negotiation rounds over point-to-point messages.
#include "roost/sync/controller.h"

#include <sstream>
#include <thread>

#include "roost/core/error.h"
#include "roost/core/log.h"

namespace roost::sync {

namespace {
constexpr int kTagRequest = 101;
constexpr int kTagResponse = 102;
constexpr int64_t kStatusOk = 0, kStatusError = 1;

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  return os.str() + "]";
}

const char* dtype_str(int32_t d) {
  static const char* names[] = {"float32", "float64", "float16", "bfloat16", "int64", "uint8"};
  return d >= 0 && d < 6 ? names[d] : "?";
}

// A message is its length in words, then the words (a receive names its exact size).
constexpr int64_t kMaxWords = int64_t(1) << 28;

std::vector<int64_t> recv_words(comm::Communicator& comm, int source, int tag) {
  int64_t count = 0;
  comm.recv(&count, sizeof count, source, tag);
  ROOST_CHECK(count >= 0 && count <= kMaxWords, "negotiation message from rank ", source, " declares ", count,
              " words");
  std::vector<int64_t> words(static_cast<size_t>(count));
  if (count > 0) comm.recv(words.data(), words.size() * sizeof(int64_t), source, tag);
  return words;
}

void send_words(comm::Communicator& comm, const std::vector<int64_t>& words, int dest, int tag) {
  const int64_t count = static_cast<int64_t>(words.size());
  comm.send(&count, sizeof count, dest, tag);
  if (count > 0) comm.send(words.data(), words.size() * sizeof(int64_t), dest, tag);
}
}  // namespace

std::vector<int64_t> encode_requests(const std::vector<TensorRequest>& requests) {
  std::vector<int64_t> w{static_cast<int64_t>(requests.size())};
  for (const auto& r : requests) {
    w.push_back(r.index);
    w.push_back(r.dtype);
    w.push_back(static_cast<int64_t>(r.shape.size()));
    w.insert(w.end(), r.shape.begin(), r.shape.end());
  }
  return w;
}

std::vector<TensorRequest> decode_requests(const std::vector<int64_t>& w) {
  std::vector<TensorRequest> out;
  size_t pos = 0;
  auto take = [&]() -> int64_t {
    ROOST_CHECK(pos < w.size(), "truncated negotiation message");
    return w[pos++];
  };
  int64_t n = take();
  for (int64_t i = 0; i < n; ++i) {
    TensorRequest r;
    r.index = static_cast<int32_t>(take());
    r.dtype = static_cast<int32_t>(take());
    int64_t ndim = take();
    ROOST_CHECK(ndim >= 0 && ndim <= 16, "bad rank in negotiation message");
    for (int64_t d = 0; d < ndim; ++d) r.shape.push_back(take());
    out.push_back(std::move(r));
  }
  return out;
}

Controller::Controller(comm::Communicator& comm, std::vector<std::string> names, ControllerOptions options)
    : comm_(comm), rank_(comm.rank()), size_(comm.size()), names_(std::move(names)), options_(options) {}

std::string Controller::describe(const TensorRequest& r) const {
  return std::string(dtype_str(r.dtype)) + " " + shape_str(r.shape);
}

std::vector<int32_t> Controller::negotiate(const std::vector<TensorRequest>& newly_ready) {
  if (size_ == 1) {
    std::vector<int32_t> out;
    for (const auto& r : newly_ready) out.push_back(r.index);
    return out;
  }
  return rank_ == 0 ? coordinate(newly_ready) : follow(newly_ready);
}

std::vector<int32_t> Controller::follow(const std::vector<TensorRequest>& mine) {
  send_words(comm_, encode_requests(mine), 0, kTagRequest);
  std::vector<int64_t> resp = recv_words(comm_, 0, kTagResponse);
  ROOST_CHECK(resp.size() >= 2, "truncated negotiation response");
  if (resp[0] == kStatusError) {
    std::string message(resp.begin() + 2, resp.end());
    throw Error(__FILE__, __LINE__, message);
  }
  return std::vector<int32_t>(resp.begin() + 2, resp.begin() + 2 + resp[1]);
}

std::string Controller::record(int rank, const std::vector<TensorRequest>& requests) {
  auto now = std::chrono::steady_clock::now();
  for (const auto& r : requests) {
    if (r.index < 0 || static_cast<size_t>(r.index) >= names_.size())
      return "rank " + std::to_string(rank) + " submitted unknown tensor #" + std::to_string(r.index);
    auto it = pending_.find(r.index);
    if (it == pending_.end()) {
      Pending p;
      p.first = r;
      p.first_rank = rank;
      p.since = now;
      it = pending_.emplace(r.index, std::move(p)).first;
    } else if (it->second.first.shape != r.shape || it->second.first.dtype != r.dtype) {
      const bool shape = it->second.first.shape != r.shape;
      return std::string("Mismatched allreduce tensor ") + (shape ? "shapes" : "dtypes") + " for '" + names_[r.index] +
             "': rank " + std::to_string(it->second.first_rank) + " has " + describe(it->second.first) + ", rank " +
             std::to_string(rank) + " has " + describe(r);
    }
    it->second.ranks.insert(rank);
    if (static_cast<int>(it->second.ranks.size()) == size_) {
      ready_order_.push_back(r.index);
      pending_.erase(it);
    }
  }
  return "";
}

void Controller::inspect_stalls(const std::set<int>& waiting_for) {
  auto now = std::chrono::steady_clock::now();
  for (auto& [index, p] : pending_) {
    double waited = std::chrono::duration<double>(now - p.since).count();
    if (waited < options_.stall_warning_s) continue;
    std::string missing;
    for (int r = 0; r < size_; ++r)
      if (!p.ranks.count(r)) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    if (options_.stall_shutdown_s > 0 && waited >= options_.stall_shutdown_s)
      ROOST_THROW("stalled for ", static_cast<int>(waited), " s: rank(s) ", missing, " never submitted '",
                  names_[index], "' (--stall-shutdown-s ", options_.stall_shutdown_s, ")");
    if (!p.warned) {
      p.warned = true;
      ++stall_warnings_;
      last_stall_warning_ = "stall: '" + names_[index] + "' was submitted by some ranks " +
                            std::to_string(static_cast<int>(waited)) + " s ago but not by rank(s) " + missing +
                            "; one rank may be stuck or running different code";
      log_warn(last_stall_warning_);
    }
  }
  (void)waiting_for;
}

std::vector<int32_t> Controller::coordinate(const std::vector<TensorRequest>& mine) {
  std::string error = record(0, mine);
  std::set<int> waiting;
  for (int r = 1; r < size_; ++r) waiting.insert(r);
  auto last_inspect = std::chrono::steady_clock::now();
  while (!waiting.empty()) {
    bool progressed = false;
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (!comm_.probe(*it, kTagRequest)) {
        ++it;
        continue;
      }
      auto requests = decode_requests(recv_words(comm_, *it, kTagRequest));
      if (error.empty()) error = record(*it, requests);
      it = waiting.erase(it);
      progressed = true;
    }
    if (waiting.empty()) break;
    auto now = std::chrono::steady_clock::now();
    if (now - last_inspect > std::chrono::milliseconds(500)) {
      last_inspect = now;
      try {
        inspect_stalls(waiting);
      } catch (const Error& e) {
        // Tell the ranks that did report, then fail here; the stuck ones are ended by the
        // job abort that follows.
        error = e.message();
        break;
      }
    }
    if (!progressed) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  std::vector<int64_t> resp;
  std::vector<int32_t> ready;
  if (!error.empty()) {
    resp = {kStatusError, 0};
    resp.insert(resp.end(), error.begin(), error.end());
  } else {
    ready.swap(ready_order_);
    resp = {kStatusOk, static_cast<int64_t>(ready.size())};
    resp.insert(resp.end(), ready.begin(), ready.end());
  }
  for (int r = 1; r < size_; ++r)
    if (!waiting.count(r)) send_words(comm_, resp, r, kTagResponse);
  if (!error.empty()) ROOST_THROW(error);
  return ready;
}

}  // namespace roost::sync
