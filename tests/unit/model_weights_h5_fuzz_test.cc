// model_weights_h5_fuzz_test.cc — damaged roost weight files that broke the reader under the
// fuzz target weights_h5_fuzz (tests/fuzz/regressions/fuzz_weights_h5/): each must be refused
// with a roost::Error that says what is wrong, before anything is allocated for it.
#include <gtest/gtest.h>

#include <string>

#include "fuzz_regression.h"
#include "roost/core/error.h"
#include "roost/model/state_dict.h"

namespace roost::model {
namespace {

TEST(WeightsH5FuzzRegression, UnwrittenHugeDatasetIsRefusedBeforeAllocating) {
  // A 6 KB file declaring a never-written 4 TiB float tensor: once allocated from its extent.
  const std::string path = roost::testing::fuzz_regression_path("fuzz_weights_h5", "unwritten-huge-dataset.h5");
  ASSERT_FALSE(roost::testing::fuzz_regression_input("fuzz_weights_h5", "unwritten-huge-dataset.h5").empty());
  try {
    load_weights_h5(path);
    FAIL() << "loaded " << path;
  } catch (const roost::Error& e) {
    EXPECT_NE(e.message().find("the file does not hold"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace roost::model
