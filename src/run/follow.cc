// follow.cc — FileFollower and last_lines.
#include "roost/run/follow.h"

#include <fstream>
#include <sstream>

namespace roost::run {

std::string FileFollower::read_new() {
  std::ifstream in(path_, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  if (size < offset_) {
    offset_ = 0;
    partial_.clear();
  }
  if (size == offset_) return "";
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string data(size - offset_, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  offset_ += data.size();
  return data;
}

std::vector<std::string> FileFollower::read_new_lines() {
  partial_ += read_new();
  std::vector<std::string> lines;
  size_t start = 0, nl;
  while ((nl = partial_.find('\n', start)) != std::string::npos) {
    lines.push_back(partial_.substr(start, nl - start));
    start = nl + 1;
  }
  partial_.erase(0, start);
  return lines;
}

std::string last_lines(const std::string& path, int n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  if (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (int i = 0; i < n && pos != std::string::npos && pos > 0; ++i) pos = text.rfind('\n', pos - 1);
  return (pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1)) + (text.empty() ? "" : "\n");
}

}  // namespace roost::run
