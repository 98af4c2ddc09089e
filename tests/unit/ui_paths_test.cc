// ui_paths_test.cc — roost ui serves files of the workspace only: "..", absolute paths and
// symbolic links that lead outside are refused.
#include "paths.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace roost::ui {
namespace {
namespace fs = std::filesystem;

class UiPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = ::testing::TempDir() + "/ui_paths_" + std::to_string(getpid());
    fs::remove_all(root);
    fs::create_directories(root + "/ws/runs/1");
    fs::create_directories(root + "/outside");
    std::ofstream(root + "/ws/runs/1/metrics.jsonl") << "{}\n";
    std::ofstream(root + "/outside/secret") << "x\n";
    fs::create_directory_symlink(root + "/outside", root + "/ws/link");
  }
  void TearDown() override { fs::remove_all(root); }
  std::string root;
};

TEST_F(UiPathsTest, InsideIsResolved) {
  const auto p = resolve_inside(root + "/ws", "runs/1/metrics.jsonl");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, fs::canonical(root + "/ws/runs/1/metrics.jsonl").string());
  EXPECT_TRUE(resolve_inside(root + "/ws", fs::canonical(root + "/ws").string() + "/runs/1/metrics.jsonl"));
  EXPECT_TRUE(resolve_inside(root + "/ws", "runs/1/../1/metrics.jsonl"));
  EXPECT_EQ(relative_to(root + "/ws", *p), "runs/1/metrics.jsonl");
}

TEST_F(UiPathsTest, OutsideIsRefused) {
  EXPECT_FALSE(resolve_inside(root + "/ws", ""));
  EXPECT_FALSE(resolve_inside(root + "/ws", "."));
  EXPECT_FALSE(resolve_inside(root + "/ws", "../outside/secret"));
  EXPECT_FALSE(resolve_inside(root + "/ws", "runs/../../outside/secret"));
  EXPECT_FALSE(resolve_inside(root + "/ws", "/etc/passwd"));
  EXPECT_FALSE(resolve_inside(root + "/ws", "link/secret"));  // a symbolic link out
  EXPECT_FALSE(resolve_inside(root + "/no-such-workspace", "x"));
  EXPECT_EQ(relative_to(root + "/ws", root + "/outside/secret"), "");
}

TEST(UiContentType, ByExtension) {
  EXPECT_EQ(content_type_of("a/training_curves.png"), "image/png");
  EXPECT_EQ(content_type_of("logs/rank-0.log"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_of("model.h5"), "application/octet-stream");
}

}  // namespace
}  // namespace roost::ui
