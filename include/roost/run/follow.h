// roost/run/follow.h — reading a file as it grows (tail -f without a thread): the monitor
// follows metrics.jsonl, `roost submit --wait` follows rank 0's log.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace roost::run {

class FileFollower {
 public:
  explicit FileFollower(std::string path) : path_(std::move(path)) {}

  // Bytes appended since the last call ("" while the file does not exist). A file that became
  // shorter was replaced (training rewrites metrics.jsonl when it resumes): read it again from 0.
  std::string read_new();
  // Complete lines appended since the last call; a partial last line waits for its newline.
  std::vector<std::string> read_new_lines();

 private:
  std::string path_;
  uint64_t offset_ = 0;
  std::string partial_;
};

// The last `n` lines of a file ("" when it cannot be read).
std::string last_lines(const std::string& path, int n);

}  // namespace roost::run
