// data_h5_pack_fuzz_test.cc — damaged packs the fuzz target pack_fuzz crashed the reader with
// (tests/fuzz/regressions/fuzz_pack/): opening each split must end in a UsageError naming the
// file, never in another exception, a huge allocation or undefined behaviour (the sanitizer
// build, tests/sanitize.sh, runs this test with ASan and UBSan).
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "fuzz_regression.h"
#include "roost/core/error.h"

#ifdef ROOST_WITH_HDF5
#include "roost/data/h5_pack.h"

namespace roost::data {
namespace {

class PackFuzzRegression : public ::testing::TestWithParam<const char*> {};

TEST_P(PackFuzzRegression, IsAUsageError) {
  const std::string path = roost::testing::fuzz_regression_path("fuzz_pack", GetParam());
  ASSERT_FALSE(roost::testing::fuzz_regression_input("fuzz_pack", GetParam()).empty()) << path;
  EXPECT_THROW(open_pack(path, "train"), UsageError);
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, PackFuzzRegression,
    ::testing::Values("shape-product-overflows.h5",  // height * width * 3 overflowed int64
                      "table-larger-than-file.h5"),  // labels claim 2^34 entries: 128 GiB asked for
    [](const auto& info) {
      std::string name = info.param;
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

}  // namespace
}  // namespace roost::data
#endif  // ROOST_WITH_HDF5
