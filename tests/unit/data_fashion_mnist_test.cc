// data_fashion_mnist_test.cc — the embedded default dataset: the tree written from Debian's
// dataset-fashion-mnist files has the requested classes, counts and image shapes, and bad
// options are usage errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "roost/core/error.h"
#include "roost/data/dataset.h"
#include "roost/data/decode.h"
#include "roost/data/fashion_mnist.h"

namespace roost::data {
namespace {

namespace fs = std::filesystem;

const char* const kSource = "/usr/share/datasets/fashion-mnist";

class DataFashionMnist : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(kSource) / "train-images-idx3-ubyte.gz"))
      GTEST_SKIP() << kSource << " is absent (Debian package dataset-fashion-mnist)";
    char dir_template[] = "/tmp/roost-fmnist-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    out_ = dir_template;
  }
  void TearDown() override {
    if (!out_.empty()) fs::remove_all(out_);
  }

  FashionMnistOptions small(int size, bool rgb) const {
    FashionMnistOptions o;
    o.out_dir = out_ + "/set";
    o.classes = {7, 0, 9};
    o.train_per_class = 5;
    o.val_per_class = 3;
    o.size = size;
    o.rgb = rgb;
    return o;
  }

  std::string out_;
};

class DataFashionMnistShapes : public DataFashionMnist, public ::testing::WithParamInterface<std::tuple<int, bool>> {};

TEST_P(DataFashionMnistShapes, WritesExpectedTree) {
  auto [size, rgb] = GetParam();
  FashionMnistOptions o = small(size, rgb);
  EXPECT_EQ(write_fashion_mnist_folder(o), 3 * 5 + 3 * 3);
  auto train = open_image_folder(o.out_dir + "/train");
  auto val = open_image_folder(o.out_dir + "/val");
  const std::vector<std::string> names{"ankle-boot", "sneaker", "t-shirt"};
  EXPECT_EQ(train->class_names(), names);
  EXPECT_EQ(val->class_names(), names);
  ASSERT_EQ(train->size(), 15);
  ASSERT_EQ(val->size(), 9);
  for (int64_t i = 0; i < train->size(); ++i) {
    Image image = train->load(i);
    ASSERT_EQ(image.height, size);
    ASSERT_EQ(image.width, size);
    bool any = false, gray = true;
    for (size_t p = 0; p < image.pixels.size(); p += 3) {
      any |= image.pixels[p] != 0;
      gray &= image.pixels[p] == image.pixels[p + 1] && image.pixels[p] == image.pixels[p + 2];
    }
    EXPECT_TRUE(any) << train->describe(i);
    EXPECT_TRUE(gray) << train->describe(i);
  }
  EXPECT_EQ(train->label(0), 0);
  EXPECT_EQ(train->label(14), 2);
}

INSTANTIATE_TEST_SUITE_P(Data, DataFashionMnistShapes,
                         ::testing::Values(std::make_tuple(28, true), std::make_tuple(28, false),
                                           std::make_tuple(64, true), std::make_tuple(12, false)));

TEST_F(DataFashionMnist, DefaultsMatchTheReferenceShape) {
  FashionMnistOptions o;
  o.out_dir = out_ + "/default";
  EXPECT_EQ(write_fashion_mnist_folder(o), 2 * 120 + 2 * 100);
  auto train = open_image_folder(o.out_dir + "/train");
  EXPECT_EQ(train->class_names(), (std::vector<std::string>{"coat", "pullover"}));
  EXPECT_EQ(train->size(), 240);
  EXPECT_EQ(open_image_folder(o.out_dir + "/val")->size(), 200);
  // A second run into the same place is refused rather than mixed with the first.
  EXPECT_THROW(write_fashion_mnist_folder(o), UsageError);
}

TEST_F(DataFashionMnist, BadOptionsAreUsageErrors) {
  auto expect_bad = [&](FashionMnistOptions o) { EXPECT_THROW(write_fashion_mnist_folder(o), UsageError); };
  FashionMnistOptions o = small(28, true);
  o.classes = {3};
  expect_bad(o);
  o.classes = {3, 3};
  expect_bad(o);
  o.classes = {3, 10};
  expect_bad(o);
  o = small(28, true);
  o.train_per_class = 0;
  expect_bad(o);
  o = small(28, true);
  o.train_per_class = 6001;
  expect_bad(o);
  o = small(28, true);
  o.val_per_class = 1001;
  expect_bad(o);
  o = small(7, true);
  expect_bad(o);
  o = small(28, true);
  o.source_dir = out_ + "/nowhere";
  expect_bad(o);
}

}  // namespace
}  // namespace roost::data
