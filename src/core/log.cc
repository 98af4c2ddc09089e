// roost/core/log.cc — rank-prefixed console and per-rank file logging.
#include "roost/core/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace roost {

namespace {
Logger* g_process_logger = nullptr;  // set only by LoggerScope

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warning";
    case LogLevel::kError: return "error";
  }
  return "?";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

Logger::Logger(int rank, int world_size) : rank_(rank), world_size_(world_size) {}

void Logger::attach_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  file_.open(path, std::ios::app);
  if (!file_) ROOST_THROW("cannot open log file ", path);
}

void Logger::log(LogLevel level, const std::string& message) {
  std::string prefix = world_size_ > 1 ? "[rank " + std::to_string(rank_) + "] " : "";
  std::string tag = level >= LogLevel::kWarn ? std::string(level_name(level)) + ": " : "";
  std::lock_guard<std::mutex> lock(mutex_);
  if (file_.is_open()) {
    file_ << timestamp() << " " << level_name(level) << " " << message << "\n";
    file_.flush();
  }
  if (level < console_level_) return;
  if (level >= LogLevel::kWarn) {
    std::cerr << prefix << tag << message << std::endl;
  } else if (rank_ == 0) {
    std::cout << prefix << message << std::endl;
  }
}

void Logger::log_to_file(LogLevel level, const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!file_.is_open()) return;
  file_ << timestamp() << " " << level_name(level) << " " << message << "\n";
  file_.flush();
}

LoggerScope::LoggerScope(Logger& logger) : previous_(g_process_logger) { g_process_logger = &logger; }
LoggerScope::~LoggerScope() { g_process_logger = previous_; }

void log(LogLevel level, const std::string& message) {
  if (g_process_logger) {
    g_process_logger->log(level, message);
  } else if (level >= LogLevel::kWarn) {
    std::cerr << (level == LogLevel::kWarn ? "warning: " : "error: ") << message << std::endl;
  }
}

}  // namespace roost
