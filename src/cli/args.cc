// args.cc — strict number parsing for options (whole string must be a number).
#include "args.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "roost/core/error.h"

namespace roost::cli {

namespace {
std::string raw(const cxxopts::ParseResult& r, const std::string& name) { return r[name].as<std::string>(); }
}  // namespace

int get_int(const cxxopts::ParseResult& r, const std::string& name) {
  std::string s = raw(r, name);
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE || v < INT_MIN || v > INT_MAX)
    ROOST_USAGE_ERROR("--", name, " expects an integer, got '", s, "'");
  return static_cast<int>(v);
}

uint64_t get_uint64(const cxxopts::ParseResult& r, const std::string& name) {
  std::string s = raw(r, name);
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || *end != '\0' || errno == ERANGE)
    ROOST_USAGE_ERROR("--", name, " expects a non-negative integer, got '", s, "'");
  return v;
}

double get_double(const cxxopts::ParseResult& r, const std::string& name) {
  std::string s = raw(r, name);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    ROOST_USAGE_ERROR("--", name, " expects a number, got '", s, "'");
  return v;
}

std::vector<int> get_int_list(const cxxopts::ParseResult& r, const std::string& name) {
  std::string s = raw(r, name);
  std::vector<int> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0') ROOST_USAGE_ERROR("--", name, " expects comma-separated integers, got '", s, "'");
    out.push_back(static_cast<int>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool print_help_if_asked(cxxopts::Options& options, const cxxopts::ParseResult& r) {
  if (!r.count("help")) return false;
  std::cout << options.help() << std::endl;
  return true;
}

std::string get_required(const cxxopts::ParseResult& r, const std::string& name) {
  if (!r.count(name)) ROOST_USAGE_ERROR("--", name, " is required");
  return r[name].as<std::string>();
}

cxxopts::ParseResult parse_or_usage(cxxopts::Options& options, int argc, char** argv) {
  try {
    cxxopts::ParseResult result = options.parse(argc, argv);
    if (!result.unmatched().empty()) ROOST_USAGE_ERROR("unexpected argument '", result.unmatched().front(), "'");
    return result;
  } catch (const cxxopts::exceptions::exception& e) {
    ROOST_USAGE_ERROR(e.what());
  }
}

}  // namespace roost::cli
