// trainer_checkpoint_test.cc — checkpoint files: exact round trip of every piece of state,
// detection of truncated and bit-flipped files, the newest-valid search of --resume auto,
// pruning, and the option-change report of a resumed run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "python_peer.h"
#include "roost/core/error.h"
#include "roost/train/checkpoint.h"
#include "roost/train/resume.h"

using namespace roost::train;
namespace fs = std::filesystem;

namespace {
Checkpoint sample(int epochs_done, int step) {
  torch::manual_seed(epochs_done * 100 + step);
  Checkpoint c;
  c.model = {{"conv1.weight", torch::randn({4, 3, 3, 3})},
             {"bn1.running_mean", torch::randn({4})},
             {"bn1.num_batches_tracked", torch::tensor(int64_t{17})}};
  c.momentum = {torch::randn({4, 3, 3, 3}), torch::Tensor(), torch::randn({4})};
  c.rng = torch::randint(0, 255, {64}, torch::kUInt8);
  c.epochs_done = epochs_done;
  c.step = step;
  c.world_size = 2;
  c.best_val_acc = 0.625;
  c.loss_scale = 32768;
  c.loss_scale_clean_steps = 12;
  c.partial.train_loss_sum = 3.25;
  c.partial.train_count = 8;
  c.partial.sync_wait_s = 0.5;
  EpochRecord r;
  r.epoch = 1, r.train_loss = 0.7, r.val_acc = 0.5, r.lr = 0.001, r.skipped_images = 3, r.world_size = 2;
  c.history = {r};
  c.config_json = "{\"arch\": \"resnet18\", \"lr\": 0.001}";
  return c;
}

bool same_tensor(const torch::Tensor& a, const torch::Tensor& b) {
  return a.defined() == b.defined() && (!a.defined() || (a.sizes() == b.sizes() && a.equal(b)));
}
}  // namespace

TEST(Checkpoint, RoundTripIsExact) {
  roost::testing::TempDir dir;
  const Checkpoint c = sample(3, 5);
  const std::string path = checkpoint_path(dir.file(""), 3, 5);
  EXPECT_EQ(fs::path(path).filename(), "epoch-3-step-5.h5");
  save_checkpoint(path, c);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  Checkpoint back = load_checkpoint(path);
  ASSERT_EQ(back.model.size(), c.model.size());
  for (size_t i = 0; i < c.model.size(); ++i) {
    EXPECT_EQ(back.model[i].first, c.model[i].first);  // state-dict order kept
    EXPECT_TRUE(same_tensor(back.model[i].second, c.model[i].second)) << c.model[i].first;
    EXPECT_EQ(back.model[i].second.scalar_type(), c.model[i].second.scalar_type());
  }
  ASSERT_EQ(back.momentum.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_tensor(back.momentum[i], c.momentum[i])) << i;
  EXPECT_TRUE(same_tensor(back.rng, c.rng));
  EXPECT_EQ(back.epochs_done, 3);
  EXPECT_EQ(back.step, 5);
  EXPECT_EQ(back.world_size, 2);
  EXPECT_EQ(back.best_val_acc, 0.625);
  EXPECT_EQ(back.loss_scale, 32768);
  EXPECT_EQ(back.loss_scale_clean_steps, 12);
  EXPECT_EQ(back.partial.to_values(), c.partial.to_values());
  ASSERT_EQ(back.history.size(), 1u);
  EXPECT_EQ(back.history[0].to_values(), c.history[0].to_values());
  EXPECT_EQ(back.config_json, c.config_json);
}

TEST(Checkpoint, CorruptionIsDetected) {
  roost::testing::TempDir dir;
  const std::string path = dir.file("epoch-1.h5");
  const Checkpoint c = sample(1, 0);
  save_checkpoint(path, c);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Flip one bit inside the stored data of a parameter, of a momentum buffer and of the
  // config: HDF5 reads each without complaint, only the checksum can notice.
  auto raw = [](const torch::Tensor& t) {
    return std::string(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  };
  for (const std::string& needle : {raw(c.model[0].second), raw(c.momentum[2]), c.config_json}) {
    const size_t at = bytes.find(needle);
    ASSERT_NE(at, std::string::npos);
    std::string flipped = bytes;
    flipped[at + needle.size() / 2] = static_cast<char>(flipped[at + needle.size() / 2] ^ 0x10);
    std::ofstream(dir.file("flip.h5"), std::ios::binary) << flipped;
    try {
      load_checkpoint(dir.file("flip.h5"));
      ADD_FAILURE() << "a flipped bit at " << at << " was not detected";
    } catch (const roost::Error& e) {
      EXPECT_NE(e.message().find("checksum"), std::string::npos) << e.message();
    }
  }
  fs::resize_file(path, bytes.size() / 3);
  EXPECT_THROW(load_checkpoint(path), roost::Error);
  std::ofstream(dir.file("empty.h5")).close();
  EXPECT_THROW(load_checkpoint(dir.file("empty.h5")), roost::Error);
  EXPECT_THROW(load_checkpoint(dir.file("missing.h5")), roost::Error);
}

TEST(Checkpoint, LatestValidSkipsCorruptNewerOnes) {
  roost::testing::TempDir dir;
  const std::string d = dir.file("checkpoints");
  fs::create_directories(d);
  save_checkpoint(checkpoint_path(d, 1, 0), sample(1, 0));
  save_checkpoint(checkpoint_path(d, 2, 0), sample(2, 0));
  save_checkpoint(checkpoint_path(d, 2, 7), sample(2, 7));
  save_checkpoint(checkpoint_path(d, 10, 0), sample(10, 0));  // numeric, not name, order
  std::ofstream(d + "/notes.txt") << "not a checkpoint";
  std::vector<std::string> skipped;
  EXPECT_EQ(find_latest_checkpoint(d, &skipped), checkpoint_path(d, 10, 0));
  EXPECT_TRUE(skipped.empty());
  fs::resize_file(checkpoint_path(d, 10, 0), 1000);
  EXPECT_EQ(find_latest_checkpoint(d, &skipped), checkpoint_path(d, 2, 7));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("epoch-10.h5"), std::string::npos) << skipped[0];
  EXPECT_EQ(find_latest_checkpoint(dir.file("nowhere"), nullptr), "");
}

TEST(Checkpoint, PruneKeepsTheNewest) {
  roost::testing::TempDir dir;
  const std::string d = dir.file("checkpoints");
  fs::create_directories(d);
  for (int e = 1; e <= 5; ++e) save_checkpoint(checkpoint_path(d, e, 0), sample(e, 0));
  std::ofstream(d + "/model.h5") << "other file";
  prune_checkpoints(d, 2);
  EXPECT_FALSE(fs::exists(checkpoint_path(d, 3, 0)));
  EXPECT_TRUE(fs::exists(checkpoint_path(d, 4, 0)));
  EXPECT_TRUE(fs::exists(checkpoint_path(d, 5, 0)));
  EXPECT_TRUE(fs::exists(d + "/model.h5"));
}

TEST(Checkpoint, UnwritableDirectoryLeavesOldFileIntact) {
  roost::testing::TempDir dir;
  const std::string path = dir.file("epoch-1.h5");
  save_checkpoint(path, sample(1, 0));
  // A path whose parent is a regular file cannot be created: the error names it.
  EXPECT_THROW(save_checkpoint(dir.file("epoch-1.h5/epoch-2.h5"), sample(2, 0)), roost::Error);
  EXPECT_NO_THROW(load_checkpoint(path));
}

TEST(ResumeConfig, ChangedOptionsAreNamed) {
  TrainConfig before;
  TrainConfig after = before;
  after.epochs = 40;  // allowed to change silently
  after.resume = "auto";
  after.lr = 0.01;
  after.data_dir = "/data/with \"quote\"";
  const auto changes = changed_options(to_json(before), after);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0], "data_dir (was \"\", now \"/data/with \\\"quote\\\"\")");
  EXPECT_EQ(changes[1], "lr (was 0.001, now 0.01)");
  EXPECT_TRUE(changed_options(to_json(after), after).empty());
}

// A checkpoint from before --jpeg-dct-scale existed decoded at full size: resumed with "off"
// nothing changed; with "on" (or switched between checkpoint and resume) the change is named.
TEST(ResumeConfig, JpegDctScaleIsKeptAndChecked) {
  TrainConfig off;
  TrainConfig on = off;
  on.jpeg_dct_scale = "on";
  const std::string older = R"({"lr": 0.001})";
  auto dct_changes = [](std::vector<std::string> changes) {
    std::vector<std::string> out;
    for (auto& c : changes)
      if (c.rfind("jpeg_dct_scale", 0) == 0) out.push_back(c);
    return out;
  };
  EXPECT_TRUE(dct_changes(changed_options(older, off)).empty());
  EXPECT_EQ(dct_changes(changed_options(older, on)),
            std::vector<std::string>{"jpeg_dct_scale (was (absent), now \"on\")"});
  EXPECT_TRUE(changed_options(to_json(on), on).empty());
  EXPECT_EQ(changed_options(to_json(on), off), std::vector<std::string>{"jpeg_dct_scale (was \"on\", now \"off\")"});
}
