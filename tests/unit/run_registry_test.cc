// run_registry_test.cc — model versions 1, 2, … with checksums and the run's metrics, only
// from Completed runs, and downloads that verify the checksum (a damaged copy is refused).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "roost/core/error.h"
#include "roost/run/registry.h"
#include "roost/run/sha256.h"
#include "run_test_util.h"

namespace fs = std::filesystem;

namespace roost::run {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_test_dir("roost_registry");
    store_ = std::make_unique<RunStore>(dir_ + "/ws");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A Completed run whose outputs/model.h5 holds `content`.
  int64_t completed_run(const std::string& content) {
    const int64_t id = store_->create_run(test::local_run("e"));
    std::ofstream(store_->get_run(id).run_dir + "/outputs/model.h5", std::ios::binary) << content;
    store_->ingest_metrics(id, {R"({"epoch": 1, "val_acc": 0.5})", R"({"epoch": 2, "val_acc": 0.625})"});
    store_->set_status(id, RunStatus::kCompleted);
    return id;
  }
  std::string dir_;
  std::unique_ptr<RunStore> store_;
};

TEST_F(RegistryTest, VersionsChecksumsAndMetrics) {
  ModelRegistry reg(*store_);
  const int64_t a = completed_run("weights A"), b = completed_run("weights B, longer");
  ModelVersion v1 = reg.register_model(a, "fashion", "outputs/model.h5");
  ModelVersion v2 = reg.register_model(b, "fashion", "outputs/model.h5");
  ModelVersion other = reg.register_model(b, "other", "outputs/model.h5");
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v2.version, 2);
  EXPECT_EQ(other.version, 1);
  EXPECT_EQ(v1.sha256, sha256_hex("weights A"));
  EXPECT_EQ(v2.size, 17);
  EXPECT_EQ(v1.run_id, a);
  EXPECT_NE(v1.metrics.find("0.625"), std::string::npos) << v1.metrics;
  EXPECT_EQ(reg.get("fashion").version, 2);  // newest
  EXPECT_EQ(reg.get("fashion", 1).sha256, v1.sha256);
  EXPECT_EQ(reg.list("fashion").size(), 2u);
  EXPECT_EQ(reg.list().size(), 3u);
  EXPECT_THROW(reg.get("fashion", 3), UsageError);
  EXPECT_THROW(reg.get("nothing"), UsageError);
  // The registry keeps its own copy: the run's file may change or go.
  fs::remove(store_->get_run(a).run_dir + "/outputs/model.h5");
  const std::string copy = reg.download("fashion", 1, dir_ + "/down");
  EXPECT_EQ(copy, dir_ + "/down/model.h5");
  EXPECT_EQ(sha256_file(copy), v1.sha256);
}

TEST_F(RegistryTest, OnlyCompletedRunsAndFilesInside) {
  ModelRegistry reg(*store_);
  const int64_t running = store_->create_run(test::local_run("e"));
  store_->set_status(running, RunStatus::kRunning);
  EXPECT_THROW(reg.register_model(running, "m", "outputs/model.h5"), UsageError);
  const int64_t done = completed_run("w");
  EXPECT_THROW(reg.register_model(done, "m", "outputs/missing.h5"), UsageError);
  EXPECT_THROW(reg.register_model(done, "m", "../../../../etc/passwd"), UsageError);
  EXPECT_THROW(reg.register_model(done, "m", "/etc/passwd"), UsageError);
  EXPECT_THROW(reg.register_model(done, "bad/name", "outputs/model.h5"), UsageError);
  EXPECT_TRUE(reg.list().empty());
}

TEST_F(RegistryTest, DownloadRefusesADamagedFile) {
  ModelRegistry reg(*store_);
  ModelVersion v = reg.register_model(completed_run("good weights"), "m", "outputs/model.h5");
  std::ofstream(v.path, std::ios::binary) << "bad weights!";
  EXPECT_THROW(reg.download("m", 1, dir_ + "/down"), Error);
  EXPECT_FALSE(fs::exists(dir_ + "/down/model.h5"));
  EXPECT_FALSE(fs::exists(dir_ + "/down/model.h5.part"));
}

TEST_F(RegistryTest, AttachedFormatsAreKeptAndDownloadedVerified) {
  ModelRegistry reg(*store_);
  const ModelVersion v = reg.register_model(completed_run("weights"), "m", "outputs/model.h5");
  const std::string staged = dir_ + "/staged.onnx";
  std::ofstream(staged, std::ios::binary) << "onnx bytes";
  const ModelFile f = reg.attach_file("m", v.version, "onnx", staged);
  EXPECT_EQ(f.path, fs::path(v.path).parent_path().string() + "/model.onnx");
  EXPECT_EQ(f.sha256, sha256_hex("onnx bytes"));
  EXPECT_FALSE(fs::exists(staged));  // moved into the version's folder
  ASSERT_EQ(reg.files("m", 1).size(), 1u);
  EXPECT_THROW(reg.attach_file("m", 1, "onnx", staged), UsageError);  // already there
  EXPECT_THROW(reg.attach_file("m", 1, "tflite", staged), UsageError);
  EXPECT_THROW(reg.attach_file("m", 7, "pth", staged), UsageError);  // no such version
  const std::string copy = reg.download("m", 1, dir_ + "/down", "onnx");
  EXPECT_EQ(copy, dir_ + "/down/model.onnx");
  EXPECT_EQ(sha256_file(copy), f.sha256);
  EXPECT_EQ(reg.download("m", 1, dir_ + "/down2", "h5"), dir_ + "/down2/model.h5");
  try {
    reg.download("m", 1, dir_ + "/down3", "pth");
    FAIL() << "a format the version lacks was downloaded";
  } catch (const UsageError& e) {
    EXPECT_NE(e.message().find("it has: h5, onnx"), std::string::npos) << e.message();
  }
  std::ofstream(f.path, std::ios::binary) << "tampered";
  EXPECT_THROW(reg.download("m", 1, dir_ + "/down4", "onnx"), Error);
  EXPECT_FALSE(fs::exists(dir_ + "/down4/model.onnx"));
}

}  // namespace
}  // namespace roost::run
