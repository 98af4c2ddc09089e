// data_image_folder_test.cc — the ImageFolder scan: class order, file order, extension filter,
// loading, and a clear UsageError for each kind of unusable data directory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "roost/core/error.h"
#include "roost/data/dataset.h"
#include "roost/data/decode.h"

namespace roost::data {
namespace {

namespace fs = std::filesystem;

class DataImageFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/roost-folder-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    root_ = dir_template;
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& relative, const std::vector<uint8_t>& bytes) {
    fs::path path = fs::path(root_) / relative;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }

  static Image solid(int height, int width, uint8_t value) {
    return Image{height, width, std::vector<uint8_t>(static_cast<size_t>(height) * width * 3, value)};
  }

  // Expects open_image_folder(path) to raise a UsageError whose message contains `needle`.
  static void expect_usage_error(const std::string& path, const std::string& needle) {
    try {
      open_image_folder(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const UsageError& e) {
      EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
    }
  }

  std::string root_;
};

TEST_F(DataImageFolder, ScansClassesAndFilesInSortedOrder) {
  write("turkey/b.PNG", encode_png(solid(4, 5, 30)));
  write("turkey/a.jpeg", encode_jpeg(solid(8, 8, 90)));
  write("chicken/z.jpg", encode_jpeg(solid(6, 7, 150)));
  write("chicken/y.png", encode_png(solid(3, 2, 210)));
  write("chicken/notes.txt", {'h', 'i'});
  write("chicken/.hidden.jpg", {0});
  write(".cache/x.jpg", encode_jpeg(solid(8, 8, 1)));
  write("README", {'x'});

  auto dataset = open_image_folder(root_);
  ASSERT_EQ(dataset->class_names(), (std::vector<std::string>{"chicken", "turkey"}));
  ASSERT_EQ(dataset->size(), 4);
  const std::vector<std::string> names{"chicken/y.png", "chicken/z.jpg", "turkey/a.jpeg", "turkey/b.PNG"};
  const std::vector<int64_t> labels{0, 0, 1, 1};
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(dataset->describe(i), (fs::path(root_) / names[i]).string());
    EXPECT_EQ(dataset->label(i), labels[i]);
  }
  Image y = dataset->load(0);
  EXPECT_EQ(y.height, 3);
  EXPECT_EQ(y.width, 2);
  EXPECT_EQ(y.pixels, solid(3, 2, 210).pixels);
  Image a = dataset->load(2);
  EXPECT_EQ(a.height, 8);
  EXPECT_NEAR(a.pixels[0], 90, 2);
  EXPECT_THROW(dataset->load(4), Error);
}

TEST_F(DataImageFolder, BadFileLoadsAsDecodeError) {
  write("a/good.png", encode_png(solid(2, 2, 5)));
  write("b/bad.jpg", {0xFF, 0xD8, 0xFF, 0x00, 0x01});
  auto dataset = open_image_folder(root_);
  EXPECT_NO_THROW(dataset->load(0));
  EXPECT_THROW(dataset->load(1), DecodeError);
}

TEST_F(DataImageFolder, MissingRootIsUsageError) { expect_usage_error(root_ + "/nowhere", "does not exist"); }

TEST_F(DataImageFolder, FileAsRootIsUsageError) {
  write("file.jpg", encode_jpeg(solid(2, 2, 5)));
  expect_usage_error(root_ + "/file.jpg", "not a directory");
}

TEST_F(DataImageFolder, NoClassFoldersIsUsageError) {
  write("loose.jpg", encode_jpeg(solid(2, 2, 5)));
  expect_usage_error(root_, "no class folders");
}

TEST_F(DataImageFolder, EmptyClassFolderIsNamed) {
  write("chicken/a.jpg", encode_jpeg(solid(2, 2, 5)));
  write("turkey/readme.txt", {'x'});
  expect_usage_error(root_, "turkey");
}

}  // namespace
}  // namespace roost::data
