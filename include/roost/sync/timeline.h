// roost/sync/timeline.h — a Chrome-trace (chrome://tracing, Perfetto) record of gradient
// synchronization: for each tensor and fused buffer, when it waited in negotiation and in
// the queue, and when it was copied into the fusion buffer, allreduced and copied out.
//
// Events are also kept in memory (name, phase, sequence number) so tests can assert on the
// order of events without measuring time.
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace roost::sync {

struct TimelineEvent {
  std::string name;   // tensor or buffer name
  std::string phase;  // NEGOTIATE, QUEUE, MEMCPY_IN_FUSION_BUFFER, ALLREDUCE, MEMCPY_OUT_FUSION_BUFFER, MARK
  char kind = 'B';    // 'B' begin, 'E' end, 'i' instant, 'X' a measured span
  uint64_t sequence = 0;
  double ts_us = 0;
  double dur_us = 0;  // 'X' only
};

class Timeline {
 public:
  // path empty: events are kept in memory only (bounded by keep_in_memory).
  Timeline(const std::string& path, int rank, size_t keep_in_memory = 100000);
  ~Timeline();
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  void begin(const std::string& name, const std::string& phase);
  void end(const std::string& name, const std::string& phase);
  void mark(const std::string& name);  // an instant event, e.g. "backward_done"
  // A span measured elsewhere (a GPU's, from its events), in this timeline's microseconds.
  void span(const std::string& name, const std::string& phase, double start_us, double end_us);
  double now_us() const;
  bool writes_file() const { return file_.is_open(); }

  std::vector<TimelineEvent> events() const;
  void clear_events();

 private:
  void add(const std::string& name, const std::string& phase, char kind);

  mutable std::mutex mutex_;
  std::ofstream file_;
  bool first_ = true;
  int rank_;
  size_t keep_;
  uint64_t sequence_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::vector<TimelineEvent> events_;
};

}  // namespace roost::sync
