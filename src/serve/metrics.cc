// roost/serve/metrics.cc — Prometheus text exposition of the server's counters (metrics.h).
#include "roost/serve/metrics.h"

#include <cstdio>

namespace roost::serve {

namespace {
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

std::string Histogram::render(const std::string& name) const {
  std::string out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
  return out;
}

ServerMetrics::ServerMetrics()
    : latency_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      batch_sizes_({1, 2, 4, 8, 16, 32, 64, 128}) {}

void ServerMetrics::request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  latency_.observe(seconds);
}

void ServerMetrics::batch(int size) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_sizes_.observe(size);
}

void ServerMetrics::queue_depth(const std::string& model, int depth) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_depth_[model] = depth;
}

std::string ServerMetrics::prometheus() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out =
      "# HELP roost_requests_total HTTP requests answered, by route and status code.\n"
      "# TYPE roost_requests_total counter\n";
  uint64_t errors = 0;
  for (const auto& [key, n] : requests_) {
    out += "roost_requests_total{route=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
    if (key.second >= 400) errors += n;
  }
  out +=
      "# HELP roost_request_errors_total HTTP requests answered with a 4xx or 5xx status.\n"
      "# TYPE roost_request_errors_total counter\n"
      "roost_request_errors_total " +
      std::to_string(errors) + "\n";
  out += "# HELP roost_queue_depth Images waiting for a forward pass, by model.\n# TYPE roost_queue_depth gauge\n";
  for (const auto& [model, depth] : queue_depth_)
    out += "roost_queue_depth{model=\"" + model + "\"} " + std::to_string(depth) + "\n";
  out += "# HELP roost_batch_size Images per forward pass.\n# TYPE roost_batch_size histogram\n";
  out += batch_sizes_.render("roost_batch_size");
  out +=
      "# HELP roost_request_duration_seconds Time from a request's arrival to its answer.\n"
      "# TYPE roost_request_duration_seconds histogram\n";
  out += latency_.render("roost_request_duration_seconds");
  return out;
}

}  // namespace roost::serve
