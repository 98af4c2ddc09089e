// roost/sync/timeline.cc — streaming Chrome-trace JSON writer plus an in-memory event log.
#include "roost/sync/timeline.h"

#include <cstdio>

#include "roost/core/error.h"
#include "roost/core/json.h"

namespace roost::sync {

Timeline::Timeline(const std::string& path, int rank, size_t keep_in_memory)
    : rank_(rank), keep_(keep_in_memory), start_(std::chrono::steady_clock::now()) {
  if (path.empty()) return;
  file_.open(path, std::ios::trunc);
  if (!file_) ROOST_THROW("cannot write timeline ", path);
  // The trace viewer accepts an array left open, so a crashed run still has a usable file.
  file_ << "[\n";
}

Timeline::~Timeline() {
  if (file_.is_open()) file_ << "\n]\n";
}

void Timeline::begin(const std::string& name, const std::string& phase) { add(name, phase, 'B'); }
void Timeline::end(const std::string& name, const std::string& phase) { add(name, phase, 'E'); }
void Timeline::mark(const std::string& name) { add(name, "MARK", 'i'); }

double Timeline::now_us() const {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_).count();
}

void Timeline::span(const std::string& name, const std::string& phase, double start_us, double end_us) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (file_.is_open()) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "\"ts\": %.3f, \"dur\": %.3f", start_us, end_us - start_us);
    file_ << (first_ ? "" : ",\n") << "{\"name\": " << json_escape(phase) << ", \"cat\": " << json_escape(phase)
          << ", \"ph\": \"X\", " << buf << ", \"pid\": " << rank_ << ", \"tid\": " << json_escape(name) << "}";
    first_ = false;
  }
  if (events_.size() < keep_)
    events_.push_back(TimelineEvent{name, phase, 'X', sequence_++, start_us, end_us - start_us});
}

void Timeline::add(const std::string& name, const std::string& phase, char kind) {
  const double ts = now_us();
  std::lock_guard<std::mutex> lock(mutex_);
  TimelineEvent e{name, phase, kind, sequence_++, ts};
  if (file_.is_open()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", ts);
    // One lane (tid) per tensor name, like Horovod's timeline; phases nest within a lane.
    file_ << (first_ ? "" : ",\n") << "{\"name\": " << json_escape(kind == 'i' ? name : phase)
          << ", \"cat\": " << json_escape(phase) << ", \"ph\": \"" << kind << "\", \"ts\": " << buf
          << ", \"pid\": " << rank_ << ", \"tid\": " << json_escape(name) << (kind == 'i' ? ", \"s\": \"p\"" : "")
          << "}";
    first_ = false;
  }
  if (events_.size() < keep_) events_.push_back(std::move(e));
}

std::vector<TimelineEvent> Timeline::events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_;
}

void Timeline::clear_events() {
  std::lock_guard<std::mutex> lock(mutex_);
  events_.clear();
}

}  // namespace roost::sync
