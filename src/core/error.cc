// roost/core/error.cc — Error: keeps the message and the raising site apart so logs can
// print either.
#include "roost/core/error.h"

#include <cstring>

namespace roost {

namespace {
std::string basename_of(const char* file) {
  const char* slash = std::strrchr(file, '/');
  return slash ? slash + 1 : file;
}
}  // namespace

Error::Error(const char* file, int line, std::string message, ErrorKind kind)
    : std::runtime_error(message + " [" + basename_of(file) + ":" + std::to_string(line) + "]"),
      message_(std::move(message)),
      where_(basename_of(file) + ":" + std::to_string(line)),
      kind_(kind) {}

}  // namespace roost
