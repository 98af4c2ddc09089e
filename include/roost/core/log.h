// roost/core/log.h — logging with a rank prefix.
//
// Rank 0 prints info to the console; every rank prints warnings and errors to stderr and
// writes everything to its own file (outputs/logs/rank-K.log) once a file is attached.
// One Logger per process, owned by main and passed by reference where needed; the free
// functions below use the process logger installed by LoggerScope so deep code (a decoder
// skipping a bad file) can warn without plumbing.
#pragma once

#include <fstream>
#include <mutex>
#include <string>

#include "roost/core/error.h"

namespace roost {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

class Logger {
 public:
  Logger(int rank, int world_size);

  // Starts copying every line to `path` (directories must exist). Throws on failure.
  void attach_file(const std::string& path);
  void set_console_level(LogLevel level) { console_level_ = level; }

  void log(LogLevel level, const std::string& message);
  // Only into the attached file (an error the caller reports on the console itself).
  void log_to_file(LogLevel level, const std::string& message);
  int rank() const { return rank_; }

 private:
  int rank_;
  int world_size_;
  LogLevel console_level_ = LogLevel::kInfo;
  std::mutex mutex_;
  std::ofstream file_;
};

// Installs `logger` as the process logger for the lifetime of the scope.
class LoggerScope {
 public:
  explicit LoggerScope(Logger& logger);
  ~LoggerScope();
  LoggerScope(const LoggerScope&) = delete;
  LoggerScope& operator=(const LoggerScope&) = delete;

 private:
  Logger* previous_;
};

// Log through the process logger; without one, warnings and errors go to stderr.
void log(LogLevel level, const std::string& message);

template <typename... Args>
void log_info(const Args&... args) {
  log(LogLevel::kInfo, detail::concat(args...));
}
template <typename... Args>
void log_warn(const Args&... args) {
  log(LogLevel::kWarn, detail::concat(args...));
}
template <typename... Args>
void log_error(const Args&... args) {
  log(LogLevel::kError, detail::concat(args...));
}
template <typename... Args>
void log_debug(const Args&... args) {
  log(LogLevel::kDebug, detail::concat(args...));
}

}  // namespace roost
