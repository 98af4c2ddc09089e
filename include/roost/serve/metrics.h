// roost/serve/metrics.h — what `roost serve` exposes on GET /metrics, in Prometheus' text
// format: requests and errors by route and status, the batch sizes forward passes ran at, the
// queue depth, and a request latency histogram. Thread-safe; no torch.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace roost::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double v);
  // name{le="..."} cumulative buckets, name_sum and name_count, under `labels` (may be "").
  std::string render(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void request(const std::string& route, int status, double seconds);
  void batch(int size);
  void queue_depth(const std::string& model, int depth);
  std::string prometheus() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status) -> count
  std::map<std::string, int> queue_depth_;
  Histogram latency_, batch_sizes_;
};

}  // namespace roost::serve
