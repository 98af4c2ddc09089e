// model_pth_fuzz_test.cc — damaged .pth files the fuzz target pth_fuzz crashed the reader with
// (tests/fuzz/regressions/fuzz_pth/): each must end in a roost::Error from the reader and a
// UsageError from load_pth, never in another exception, a memory error or undefined behaviour
// (the sanitizer build, tests/sanitize.sh, runs this test with ASan, UBSan and LeakSanitizer).
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "fuzz_regression.h"
#include "roost/core/error.h"
#include "roost/model/pretrained.h"

namespace roost::model {
namespace {

class PthFuzzRegression : public ::testing::TestWithParam<const char*> {};

TEST_P(PthFuzzRegression, IsARoostError) {
  const std::string path = roost::testing::fuzz_regression_path("fuzz_pth", GetParam());
  ASSERT_FALSE(roost::testing::fuzz_regression_input("fuzz_pth", GetParam()).empty()) << path;
  EXPECT_THROW(read_pth_state_dict(path), roost::Error);
  EXPECT_THROW(load_pth(path), UsageError);
}

INSTANTIATE_TEST_SUITE_P(Inputs, PthFuzzRegression,
                         ::testing::Values("storage-not-whole-elements.pth",  // 12 bytes for one double: heap overflow
                                           "memo-never-stored.pth",           // BINGET of nothing: std::out_of_range
                                           "list-appended-to-itself.pth",     // a cycle: leaked
                                           "long1-nine-bytes.pth",            // LONG1 of 9 bytes: shift by 64
                                           "rebuild-parameter-no-args.pth"),  // _rebuild_parameter(): std::out_of_range
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace roost::model
