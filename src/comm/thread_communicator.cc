// thread_communicator.cc — the in-process backend: mailboxes, barrier, and ranks as threads.
#include "roost/comm/thread_communicator.h"

#include <cstring>
#include <exception>
#include <thread>

#include "roost/core/error.h"

namespace roost::comm {

ThreadGroup::ThreadGroup(int size, std::chrono::milliseconds timeout) : size_(size), timeout_(timeout) {
  ROOST_CHECK(size >= 1, "a thread group needs at least one rank, not ", size);
  for (int r = 0; r < size; ++r) mailboxes_.push_back(std::make_unique<Mailbox>());
}

void ThreadGroup::check_rank(int rank, const char* what) const {
  ROOST_CHECK(rank >= 0 && rank < size_, what, " rank ", rank, " outside 0..", size_ - 1);
}

void ThreadGroup::throw_if_aborted() {
  if (!aborted_.load()) return;
  std::lock_guard<std::mutex> lock(abort_mutex_);
  ROOST_THROW("thread group aborted: ", abort_reason_);
}

void ThreadGroup::post(int src, int dst, int tag, const void* data, size_t bytes) {
  check_rank(src, "source");
  check_rank(dst, "destination");
  // Copy outside the lock: the receiver may be draining other queues of the same mailbox.
  std::vector<char> message(bytes);
  if (bytes) std::memcpy(message.data(), data, bytes);
  Mailbox& box = *mailboxes_[dst];
  {
    std::lock_guard<std::mutex> lock(box.mutex);
    box.queues[{src, tag}].push_back(std::move(message));
  }
  box.arrived.notify_all();
}

void ThreadGroup::take(int src, int dst, int tag, void* data, size_t bytes) {
  check_rank(src, "source");
  check_rank(dst, "destination");
  Mailbox& box = *mailboxes_[dst];
  std::vector<char> message;
  {
    std::unique_lock<std::mutex> lock(box.mutex);
    auto& queue = box.queues[{src, tag}];
    const bool ready = box.arrived.wait_for(lock, timeout_, [&] { return !queue.empty() || aborted_.load(); });
    if (queue.empty()) {
      lock.unlock();
      throw_if_aborted();
      ROOST_CHECK(ready, "rank ", dst, " waited ", timeout_.count(), " ms for a message from rank ", src, " with tag ",
                  tag, " that never came");
    }
    message = std::move(queue.front());
    queue.pop_front();
  }
  ROOST_CHECK(message.size() == bytes, "rank ", dst, " expected ", bytes, " bytes from rank ", src, " with tag ", tag,
              " but ", message.size(), " were sent");
  if (bytes) std::memcpy(data, message.data(), bytes);
}

bool ThreadGroup::has(int src, int dst, int tag) {
  check_rank(src, "source");
  check_rank(dst, "destination");
  throw_if_aborted();
  Mailbox& box = *mailboxes_[dst];
  std::lock_guard<std::mutex> lock(box.mutex);
  auto it = box.queues.find({src, tag});
  return it != box.queues.end() && !it->second.empty();
}

void ThreadGroup::barrier(int rank) {
  check_rank(rank, "barrier");
  std::unique_lock<std::mutex> lock(barrier_mutex_);
  const unsigned long generation = barrier_generation_;
  if (++barrier_waiting_ == size_) {
    barrier_waiting_ = 0;
    ++barrier_generation_;
    barrier_cv_.notify_all();
    return;
  }
  const bool released =
      barrier_cv_.wait_for(lock, timeout_, [&] { return barrier_generation_ != generation || aborted_.load(); });
  if (barrier_generation_ != generation) return;
  --barrier_waiting_;  // leave the count as if this rank had never arrived
  lock.unlock();
  throw_if_aborted();
  ROOST_CHECK(released, "rank ", rank, " waited ", timeout_.count(), " ms in a barrier that not every rank reached");
}

void ThreadGroup::abort(const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(abort_mutex_);
    if (abort_reason_.empty()) abort_reason_ = why.empty() ? "a rank failed" : why;
  }
  aborted_.store(true);
  // Taking each mutex before notifying means no waiter can test the predicate, miss the flag
  // and then sleep through the notification.
  for (auto& box : mailboxes_) {
    { std::lock_guard<std::mutex> lock(box->mutex); }
    box->arrived.notify_all();
  }
  { std::lock_guard<std::mutex> lock(barrier_mutex_); }
  barrier_cv_.notify_all();
}

namespace {
// The receive half of an isendrecv; the send half was buffered when the request was made.
// Dropping the request unwaited leaves the message queued and writes nothing.
class ThreadRecvRequest : public Request {
 public:
  ThreadRecvRequest(ThreadGroup& group, int src, int dst, int tag, void* data, size_t bytes)
      : group_(group), src_(src), dst_(dst), tag_(tag), data_(data), bytes_(bytes) {}
  void wait() override {
    if (done_) return;
    done_ = true;
    group_.take(src_, dst_, tag_, data_, bytes_);
  }

 private:
  ThreadGroup& group_;
  int src_, dst_, tag_;
  void* data_;
  size_t bytes_;
  bool done_ = false;
};
}  // namespace

ThreadCommunicator::ThreadCommunicator(ThreadGroup& group, int rank, RingOptions options)
    : group_(group), rank_(rank), options_(options) {
  ROOST_CHECK(rank >= 0 && rank < group.size(), "rank ", rank, " outside 0..", group.size() - 1);
}

void ThreadCommunicator::barrier() { group_.barrier(rank_); }

void ThreadCommunicator::broadcast(void* data, size_t bytes, int root) {
  ring_broadcast(*this, data, bytes, root, options_);
}

void ThreadCommunicator::allgather(const void* in, void* out, size_t bytes_per_rank) {
  ring_allgather(*this, in, out, bytes_per_rank, options_);
}

void ThreadCommunicator::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  ring_allreduce(*this, data, count, type, op, options_, &scratch_);
}

void ThreadCommunicator::send(const void* data, size_t bytes, int peer, int tag) {
  group_.post(rank_, peer, tag, data, bytes);
}

void ThreadCommunicator::recv(void* data, size_t bytes, int peer, int tag) {
  group_.take(peer, rank_, tag, data, bytes);
}

void ThreadCommunicator::sendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes, int src,
                                  int tag) {
  if (dst != kNoPeer) group_.post(rank_, dst, tag, sendbuf, sbytes);
  if (src != kNoPeer) group_.take(src, rank_, tag, recvbuf, rbytes);
}

bool ThreadCommunicator::probe(int peer, int tag) { return group_.has(peer, rank_, tag); }

std::unique_ptr<Request> ThreadCommunicator::isendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf,
                                                       size_t rbytes, int src, int tag) {
  if (dst != kNoPeer) group_.post(rank_, dst, tag, sendbuf, sbytes);
  if (src == kNoPeer) return std::make_unique<DoneRequest>();
  group_.check_rank(src, "source");
  return std::make_unique<ThreadRecvRequest>(group_, src, rank_, tag, recvbuf, rbytes);
}

void run_ranks(int n, const std::function<void(Communicator&)>& body, RingOptions options,
               std::chrono::milliseconds timeout) {
  ThreadGroup group(n, timeout);
  std::mutex first_mutex;
  std::exception_ptr first;
  auto fail = [&](const std::string& why) {
    {
      std::lock_guard<std::mutex> lock(first_mutex);
      if (!first) first = std::current_exception();
    }
    group.abort(why);
  };
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      try {
        ThreadCommunicator comm(group, r, options);
        body(comm);
      } catch (const std::exception& e) {
        fail("rank " + std::to_string(r) + " failed: " + e.what());
      } catch (...) {
        fail("rank " + std::to_string(r) + " failed");
      }
    });
  }
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace roost::comm
