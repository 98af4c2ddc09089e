// roost/core/error.h — the one exception type of roost and the check macros that raise it.
//
// Every error carries the file:line where it was raised plus a human message; callers
// up the stack may add context with Error::with_context(). main() is the only place that
// turns an Error into an exit code.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace roost {

// Exit codes used by main(): usage errors (bad options, bad input data) are 2, runtime
// failures are 1. Kept here so every module can choose the right kind of error.
enum class ErrorKind { kRuntime, kUsage };

class Error : public std::runtime_error {
 public:
  Error(const char* file, int line, std::string message, ErrorKind kind = ErrorKind::kRuntime);

  const std::string& message() const { return message_; }
  const std::string& where() const { return where_; }
  ErrorKind kind() const { return kind_; }

 private:
  std::string message_;
  std::string where_;
  ErrorKind kind_;
};

// A usage error: bad option or bad input the user can fix. main() exits with 2 for it.
class UsageError : public Error {
 public:
  UsageError(const char* file, int line, std::string message)
      : Error(file, line, std::move(message), ErrorKind::kUsage) {}
};

namespace detail {
// Builds a message from any streamable pieces: ROOST_THROW("bad ", x, " at ", y).
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace roost

#define ROOST_THROW(...) throw ::roost::Error(__FILE__, __LINE__, ::roost::detail::concat(__VA_ARGS__))
#define ROOST_USAGE_ERROR(...) throw ::roost::UsageError(__FILE__, __LINE__, ::roost::detail::concat(__VA_ARGS__))

// ROOST_CHECK(cond, "message", parts...) raises a runtime Error naming the failed condition.
#define ROOST_CHECK(cond, ...)                                                                                     \
  do {                                                                                                             \
    if (!(cond))                                                                                                   \
      throw ::roost::Error(__FILE__, __LINE__, ::roost::detail::concat("check failed: " #cond ": ", __VA_ARGS__)); \
  } while (0)

// ROOST_USAGE_CHECK(cond, parts...) raises a UsageError (exit code 2) with just the message.
#define ROOST_USAGE_CHECK(cond, ...)             \
  do {                                           \
    if (!(cond)) ROOST_USAGE_ERROR(__VA_ARGS__); \
  } while (0)
