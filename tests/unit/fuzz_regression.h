// tests/unit/fuzz_regression.h — reads the inputs under tests/fuzz/regressions/<target>/,
// which the fuzz targets once crashed on, so each unit test replays its finding with the
// normal build. Header-only: each regression test file includes it.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace roost::testing {

inline std::string fuzz_regression_path(const std::string& target, const std::string& name) {
  return std::string(ROOST_SOURCE_DIR) + "/tests/fuzz/regressions/" + target + "/" + name;
}

// The bytes of one committed input; empty when the file is missing (the test then fails on
// its own ASSERT that the input is not empty).
inline std::vector<uint8_t> fuzz_regression_input(const std::string& target, const std::string& name) {
  std::ifstream in(fuzz_regression_path(target, name), std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace roost::testing
