// Run identity: which starts may use an outputs directory, which checkpoints may continue a
// run, and the files of a run (run_identity.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "roost/core/error.h"
#include "roost/train/config.h"
#include "roost/train/run_identity.h"

namespace roost::train {
namespace {
namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("roost-run-id-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path / "checkpoints"); }
  ~TempDir() { fs::remove_all(path); }
  void touch(const std::string& name) const { std::ofstream(path / name) << "x"; }
};

RunIdentity sample_identity() {
  RunIdentity id;
  id.run_id = "20261207-041530-3fa9c1";
  id.started_at = "2026-12-07T04:15:30Z";
  id.arch = "resnet18";
  id.class_names = {"chicken", "turkey"};
  id.dataset = {"data/fowl", 240, 200, "0123456789abcdef"};
  id.world_size = 2;
  id.config_json = R"({"lr": 0.001, "seed": 42})";
  return id;
}

TEST(RunIdentity, NewIdsDifferAndReadAsTimeAndRandomTail) {
  const std::string a = new_run_id(), b = new_run_id();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 22u) << a;
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[15], '-');
}

TEST(RunIdentity, JsonRoundTripKeepsEveryField) {
  const RunIdentity id = sample_identity();
  const RunIdentity back = parse_run_identity(run_identity_json(id), "run.json");
  EXPECT_EQ(back.run_id, id.run_id);
  EXPECT_EQ(back.started_at, id.started_at);
  EXPECT_EQ(back.arch, id.arch);
  EXPECT_EQ(back.class_names, id.class_names);
  EXPECT_EQ(back.dataset.path, id.dataset.path);
  EXPECT_EQ(back.dataset.train_images, 240);
  EXPECT_EQ(back.dataset.val_images, 200);
  EXPECT_EQ(back.dataset.fingerprint, id.dataset.fingerprint);
  EXPECT_EQ(back.world_size, 2);
  EXPECT_NE(back.config_json.find("\"seed\":42"), std::string::npos) << back.config_json;
}

TEST(RunIdentity, ForeignRunJsonIsAUsageErrorNamingTheFile) {
  EXPECT_THROW(parse_run_identity("{\"name\": 1}", "OUT/run.json"), UsageError);
  try {
    parse_run_identity("not json", "OUT/run.json");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(e.message().find("OUT/run.json"), std::string::npos) << e.message();
  }
}

TEST(RunFiles, ListsTheRunsFilesAndLeftoverTemporariesButNotLogs) {
  TempDir dir;
  EXPECT_TRUE(run_files(dir.path).empty());
  for (const char* f : {"model.h5", "metrics.jsonl", "summary.json", "checkpoints/epoch-2.h5",
                        "checkpoints/epoch-3.h5.tmp", "checkpoints/notes.txt"})
    dir.touch(f);
  fs::create_directories(dir.path / "logs");
  dir.touch("logs/rank-0.log");
  const std::vector<std::string> want = {"model.h5", "summary.json", "metrics.jsonl", "checkpoints/epoch-2.h5",
                                         "checkpoints/epoch-3.h5.tmp"};
  EXPECT_EQ(run_files(dir.path), want);
  EXPECT_EQ(remove_stale_temporaries(dir.path), 1);
  EXPECT_FALSE(fs::exists(dir.path / "checkpoints/epoch-3.h5.tmp"));
  remove_run_files(dir.path);
  EXPECT_TRUE(run_files(dir.path).empty());
  EXPECT_TRUE(fs::exists(dir.path / "logs/rank-0.log"));
  EXPECT_TRUE(fs::exists(dir.path / "checkpoints/notes.txt"));  // not the run's: left alone
}

TEST(RunIdentity, ReadWriteInAnOutputsDirectory) {
  TempDir dir;
  EXPECT_FALSE(read_run_identity(dir.path).has_value());
  write_run_identity(dir.path, sample_identity());
  ASSERT_TRUE(read_run_identity(dir.path).has_value());
  EXPECT_EQ(read_run_identity(dir.path)->run_id, sample_identity().run_id);
  EXPECT_FALSE(fs::exists(dir.path / "run.json.tmp"));
}

TEST(DecideOutputs, AnEmptyDirectoryStartsFresh) {
  TrainConfig c;
  EXPECT_EQ(decide_outputs(c, std::nullopt, {}).action, OutputsAction::kFresh);
  EXPECT_TRUE(decide_outputs(c, std::nullopt, {"checkpoints/epoch-1.h5.tmp"}).error.empty());
}

TEST(DecideOutputs, AnotherRunsOutputsNeedResumeOrOverwrite) {
  TrainConfig c;
  c.output_dir = "OUT";
  const OutputsDecision refused = decide_outputs(c, sample_identity(), {"run.json", "model.h5"});
  EXPECT_NE(refused.error.find("run 20261207-041530-3fa9c1"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("--resume auto"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("--overwrite"), std::string::npos) << refused.error;
  // Files written before runs had ids count as a run too.
  EXPECT_FALSE(decide_outputs(c, std::nullopt, {"metrics.jsonl"}).error.empty());

  c.overwrite = true;
  const OutputsDecision over = decide_outputs(c, sample_identity(), {"run.json", "model.h5"});
  EXPECT_TRUE(over.error.empty());
  EXPECT_EQ(over.action, OutputsAction::kOverwrite);
  EXPECT_NE(over.message.find("model.h5"), std::string::npos) << over.message;

  c.overwrite = false;
  c.resume = "auto";
  EXPECT_EQ(decide_outputs(c, sample_identity(), {"run.json"}).action, OutputsAction::kContinue);
}

TEST(CheckpointMismatch, RefusesAnotherRunArchOrClassOrder) {
  const std::vector<std::string> classes = {"chicken", "turkey"};
  EXPECT_EQ(checkpoint_mismatch("c.h5", "A", "resnet18", classes, "A", "resnet18", classes), "");
  const std::string other = checkpoint_mismatch("c.h5", "B", "resnet18", classes, "A", "resnet18", classes);
  EXPECT_NE(other.find("run B"), std::string::npos) << other;
  EXPECT_NE(other.find("run A"), std::string::npos) << other;
  EXPECT_NE(checkpoint_mismatch("c.h5", "A", "resnet34", classes, "A", "resnet18", classes).find("resnet34"),
            std::string::npos);
  const std::string order =
      checkpoint_mismatch("c.h5", "A", "resnet18", {"turkey", "chicken"}, "A", "resnet18", classes);
  EXPECT_NE(order.find("[turkey,chicken]"), std::string::npos) << order;
  // A checkpoint from before run ids: accepted where no run is recorded, refused where one is.
  EXPECT_EQ(checkpoint_mismatch("c.h5", "", "", {}, "", "resnet18", classes), "");
  EXPECT_FALSE(checkpoint_mismatch("c.h5", "", "", {}, "A", "resnet18", classes).empty());
}

}  // namespace
}  // namespace roost::train
