// data_loader_test.cc — the prefetching loader: batches do not depend on the worker count,
// unreadable files are skipped and counted, worker errors reach the consumer, and the loader
// shuts down cleanly when the consumer stops early.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "roost/core/error.h"
#include "roost/data/dataset.h"
#include "roost/data/decode.h"
#include "roost/data/loader.h"
#include "roost/data/next_loader.h"
#include "roost/data/resize.h"
#include "roost/data/sampler.h"

namespace roost::data {
namespace {

namespace fs = std::filesystem;

Image noise_image(int height, int width, uint32_t seed) {
  std::mt19937 rng(seed);
  Image image{height, width, std::vector<uint8_t>(static_cast<size_t>(height) * width * 3)};
  for (auto& p : image.pixels) p = static_cast<uint8_t>(1 + rng() % 255);
  return image;
}

std::vector<Batch> drain(Loader& loader) {
  std::vector<Batch> batches;
  Batch batch;
  while (loader.next(batch)) {
    EXPECT_GE(batch.wait_seconds, 0.0);
    batches.push_back(std::move(batch));
  }
  return batches;
}

// A real ImageFolder of 3 classes × 7 images of assorted sizes, JPEG and PNG, and optionally
// two broken files.
class DataLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/roost-loader-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    root_ = dir_template;
    for (int c = 0; c < 3; ++c) {
      fs::create_directories(root_ + "/class" + std::to_string(c));
      for (int i = 0; i < 7; ++i) {
        Image image = noise_image(20 + 3 * i, 31 - 2 * i + c, 100 * c + i);
        auto bytes = (i % 2) ? encode_jpeg(image, 90) : encode_png(image);
        write("class" + std::to_string(c) + "/img" + std::to_string(i) + (i % 2 ? ".jpg" : ".png"), bytes);
      }
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& relative, const std::vector<uint8_t>& bytes) {
    std::ofstream out(root_ + "/" + relative, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }

  static LoaderOptions options(int workers, Augment augment) {
    LoaderOptions o;
    o.batch_size = 4;
    o.workers = workers;
    o.queue_depth = 2;
    o.image_size = 16;
    o.resize_short = 18;
    o.seed = 1234;
    o.epoch = 2;
    o.augment = augment;
    return o;
  }

  std::string root_;
};

class DataLoaderAugment : public DataLoader, public ::testing::WithParamInterface<Augment> {};

TEST_P(DataLoaderAugment, BatchesDoNotDependOnWorkerCount) {
  auto dataset = open_image_folder(root_);
  auto indices = train_shard(dataset->size(), 1, 2, 9, 2);  // 11 samples: a short last batch
  std::vector<std::vector<Batch>> runs;
  for (int workers : {0, 1, 4}) {
    Loader loader(dataset, indices, options(workers, GetParam()));
    EXPECT_EQ(loader.num_batches(), 3);
    runs.push_back(drain(loader));
  }
  ASSERT_EQ(runs[0].size(), 3u);
  EXPECT_EQ(runs[0][2].size, 3);
  for (size_t b = 0; b < runs[0].size(); ++b) {
    const Batch& ref = runs[0][b];
    ASSERT_EQ(ref.data.size(), static_cast<size_t>(ref.size) * 3 * 16 * 16);
    EXPECT_EQ(ref.skipped, 0);
    for (size_t k = 0; k < ref.indices.size(); ++k) {
      EXPECT_EQ(ref.indices[k], indices[4 * b + k]);
      EXPECT_EQ(ref.labels[k], dataset->label(ref.indices[k]));
    }
    for (size_t r = 1; r < runs.size(); ++r) {
      EXPECT_EQ(runs[r][b].indices, ref.indices) << "run " << r << " batch " << b;
      EXPECT_EQ(runs[r][b].labels, ref.labels) << "run " << r << " batch " << b;
      EXPECT_EQ(runs[r][b].data, ref.data) << "run " << r << " batch " << b;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Data, DataLoaderAugment, ::testing::Values(Augment::kTrain, Augment::kVal));

TEST_F(DataLoader, TrainAugmentationDependsOnEpoch) {
  auto dataset = open_image_folder(root_);
  std::vector<int64_t> indices{0, 5, 9, 20};
  LoaderOptions o = options(2, Augment::kTrain);
  Loader first(dataset, indices, o);
  o.epoch = 3;
  Loader second(dataset, indices, o);
  auto a = drain(first), b = drain(second);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NE(a[0].data, b[0].data);
}

TEST_F(DataLoader, UnreadableFilesAreSkippedAndCounted) {
  write("class1/broken.jpg", {0xFF, 0xD8, 0xFF, 0xE0, 0x00});
  write("class2/empty.png", {});
  auto dataset = open_image_folder(root_);
  ASSERT_EQ(dataset->size(), 23);
  std::vector<int64_t> indices = val_shard(dataset->size(), 0, 1);
  for (int workers : {0, 3}) {
    ::testing::internal::CaptureStderr();
    std::vector<Batch> batches;
    {
      Loader loader(dataset, indices, options(workers, Augment::kVal));
      batches = drain(loader);
    }
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(log.find("broken.jpg"), std::string::npos) << log;
    EXPECT_NE(log.find("empty.png"), std::string::npos) << log;
    int delivered = 0, skipped = 0;
    ASSERT_EQ(batches.size(), 6u);  // 23 positions in batches of 4
    for (size_t b = 0; b < batches.size(); ++b) {
      const Batch& batch = batches[b];
      EXPECT_EQ(batch.size + batch.skipped, b < 5 ? 4 : 3);
      EXPECT_EQ(batch.indices.size(), static_cast<size_t>(batch.size));
      EXPECT_EQ(batch.labels.size(), static_cast<size_t>(batch.size));
      EXPECT_EQ(batch.data.size(), static_cast<size_t>(batch.size) * 3 * 16 * 16);
      for (int64_t index : batch.indices) EXPECT_EQ(dataset->describe(index).find("broken"), std::string::npos);
      delivered += batch.size;
      skipped += batch.skipped;
    }
    EXPECT_EQ(delivered, 21) << workers << " workers";
    EXPECT_EQ(skipped, 2) << workers << " workers";
  }
}

TEST_F(DataLoader, DecodeOnlyFillsImagesAndPlans) {
  auto dataset = open_image_folder(root_);
  std::vector<int64_t> indices{3, 1, 4, 15, 9, 2};
  auto run = [&](bool decode_only) {
    LoaderOptions o = options(2, Augment::kTrain);
    o.decode_only = decode_only;
    Loader loader(dataset, indices, o);
    return drain(loader);
  };
  const std::vector<Batch> decoded = run(true), finished = run(false);
  ASSERT_EQ(decoded.size(), 2u);
  ASSERT_EQ(finished.size(), 2u);
  const size_t floats = 3 * 16 * 16;
  std::vector<float> out(floats);
  for (size_t b = 0; b < decoded.size(); ++b) {
    const Batch& batch = decoded[b];
    EXPECT_TRUE(batch.data.empty());
    ASSERT_EQ(batch.images.size(), static_cast<size_t>(batch.size));
    ASSERT_EQ(batch.plans.size(), static_cast<size_t>(batch.size));
    for (int k = 0; k < batch.size; ++k) {
      // The image may be just the region its plan reads (JPEG crops); the plan is relative
      // to it, and together they give exactly what the CPU path gives.
      const Image full = dataset->load(batch.indices[k]);
      EXPECT_LE(batch.images[k].height, full.height);
      EXPECT_LE(batch.images[k].width, full.width);
      EXPECT_EQ(batch.plans[k].out_h, 16);
      EXPECT_EQ(batch.plans[k].out_w, 16);
      apply_plan_normalized(batch.images[k], batch.plans[k], Normalization{}, out.data());
      const float* expected = finished[b].data.data() + floats * k;
      EXPECT_EQ(out, std::vector<float>(expected, expected + floats)) << "sample " << batch.indices[k];
    }
  }
}

TEST_F(DataLoader, ConsumerMayStopEarly) {
  auto dataset = open_image_folder(root_);
  auto indices = train_shard(dataset->size(), 0, 1, 0, 0);
  LoaderOptions o = options(4, Augment::kTrain);
  o.batch_size = 1;
  o.queue_depth = 1;
  Loader loader(dataset, indices, o);
  Batch batch;
  ASSERT_TRUE(loader.next(batch));
  EXPECT_EQ(batch.size, 1);
}  // the destructor must join the workers although 20 batches are left

// Polls loader.drained() for up to 30 s; no consumer calls next() meanwhile.
bool becomes_drained(const Loader& loader) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!loader.drained()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void expect_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].indices, b[i].indices) << "batch " << i;
    EXPECT_EQ(a[i].data, b[i].data) << "batch " << i;
  }
}

// Whether taking the batches ends in a std::runtime_error (a worker's, rethrown).
bool next_rethrows(Loader& loader) {
  Batch batch;
  try {
    while (loader.next(batch)) {
    }
  } catch (const std::runtime_error&) {
    return true;
  }
  return false;
}

TEST_F(DataLoader, DrainedOnceEverySampleIsDecoded) {
  auto dataset = open_image_folder(root_);
  auto indices = train_shard(dataset->size(), 0, 1, 9, 2);  // 21 samples, 6 batches
  LoaderOptions o = options(2, Augment::kTrain);
  o.queue_depth = 1;  // the workers may only take batch 0 until the consumer takes it
  Loader windowed(dataset, indices, o);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(windowed.drained());
  const std::vector<Batch> consumed = drain(windowed);
  EXPECT_TRUE(windowed.drained());

  o.queue_depth = 6;  // room for every batch: the workers finish without a consumer
  Loader roomy(dataset, indices, o);
  EXPECT_TRUE(becomes_drained(roomy));
  expect_same_batches(drain(roomy), consumed);

  o.workers = 0;  // inline: decoded only as the batches are taken
  Loader inline_loader(dataset, indices, o);
  Batch batch;
  for (int b = 0; b < 6; ++b) {
    EXPECT_FALSE(inline_loader.drained()) << "before batch " << b;
    ASSERT_TRUE(inline_loader.next(batch));
  }
  EXPECT_TRUE(inline_loader.drained());
}

TEST_F(DataLoader, NextLoaderStartsTheNextPassEarlyWithTheSameBatches) {
  auto dataset = open_image_folder(root_);
  auto train = train_shard(dataset->size(), 0, 1, 9, 2);
  auto val = val_shard(dataset->size(), 0, 1);
  LoaderOptions t = options(2, Augment::kTrain), v = options(2, Augment::kVal);
  v.queue_depth = 6;
  const NextLoader::Make make_val = [&] { return std::make_unique<Loader>(dataset, val, v); };
  Loader reference(dataset, val, v);
  const std::vector<Batch> expected = drain(reference);

  NextLoader ahead(true);
  Loader current(dataset, train, t);
  Batch batch;
  int taken = 0;
  while (current.next(batch)) {
    const bool before = ahead.started();     // true once an earlier batch left it drained
    ahead.start_after(current, 1, nullptr);  // no pass follows: nothing starts
    EXPECT_EQ(ahead.started(), before);
    ahead.start_after(current, 1, make_val);
    ++taken;
  }
  EXPECT_EQ(taken, 6);
  ASSERT_TRUE(ahead.started());  // the last batch at the latest leaves the loader drained
  std::unique_ptr<Loader> next = ahead.take(1, make_val);
  EXPECT_FALSE(ahead.started());
  EXPECT_TRUE(becomes_drained(*next));  // it decoded without anyone asking for a batch
  expect_same_batches(drain(*next), expected);

  NextLoader off(false);
  Loader again(dataset, train, t);
  while (again.next(batch)) off.start_after(again, 1, make_val);
  EXPECT_FALSE(off.started());
  std::unique_ptr<Loader> made = off.take(1, make_val);  // made on demand instead
  expect_same_batches(drain(*made), expected);

  // A loader started for one pass is not handed to another: asked for pass 2, the one
  // started for pass 1 (validation) is dropped and pass 2's (training, 6 batches) is made.
  Loader third(dataset, train, t);
  while (third.next(batch)) ahead.start_after(third, 1, make_val);
  ASSERT_TRUE(ahead.started());
  std::unique_ptr<Loader> other = ahead.take(2, [&] { return std::make_unique<Loader>(dataset, train, t); });
  EXPECT_FALSE(ahead.started());
  EXPECT_EQ(other->num_batches(), 6);
  EXPECT_EQ(static_cast<int>(drain(*other).size()), 6);
}

struct FirstIndex : PreparedBatch {
  explicit FirstIndex(int64_t i) : index(i) {}
  int64_t index;
};

TEST_F(DataLoader, PrepareRunsOnceOnEachFinishedBatchOffTheConsumerThread) {
  auto dataset = open_image_folder(root_);
  auto indices = train_shard(dataset->size(), 1, 2, 9, 2);  // 11 samples: 3 batches
  Loader plain(dataset, indices, options(2, Augment::kTrain));
  const std::vector<Batch> expected = drain(plain);
  for (int workers : {0, 1, 4}) {
    std::mutex mutex;
    std::vector<std::thread::id> threads;
    LoaderOptions o = options(workers, Augment::kTrain);
    o.prepare = [&](Batch& b) {
      // Complete when prepared: every sample's floats, index and label are in place.
      EXPECT_EQ(b.data.size(), static_cast<size_t>(b.size) * 3 * 16 * 16);
      EXPECT_EQ(b.indices.size(), static_cast<size_t>(b.size));
      b.prepared = std::make_shared<FirstIndex>(b.indices.front());
      std::lock_guard<std::mutex> lock(mutex);
      threads.push_back(std::this_thread::get_id());
    };
    Loader loader(dataset, indices, o);
    const std::vector<Batch> got = drain(loader);
    expect_same_batches(got, expected);
    ASSERT_EQ(got.size(), 3u);
    for (const Batch& b : got) {
      ASSERT_NE(b.prepared, nullptr) << workers << " workers";
      const auto* first = dynamic_cast<const FirstIndex*>(b.prepared.get());
      ASSERT_NE(first, nullptr);
      EXPECT_EQ(first->index, b.indices.front());
    }
    ASSERT_EQ(threads.size(), 3u) << workers << " workers";  // once per batch
    for (const auto& id : threads) EXPECT_EQ(id == std::this_thread::get_id(), workers == 0) << workers << " workers";
  }
}

TEST_F(DataLoader, NotDrainedWhileABatchIsBeingPrepared) {
  auto dataset = open_image_folder(root_);
  std::vector<int64_t> indices{0, 3, 8, 13};  // one batch
  std::atomic<bool> entered{false}, release{false};
  LoaderOptions o = options(2, Augment::kTrain);
  o.prepare = [&](Batch&) {
    entered = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  Loader loader(dataset, indices, o);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!entered && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(entered);
  EXPECT_FALSE(loader.drained());  // every sample is decoded, the batch is still being prepared
  release = true;
  EXPECT_TRUE(becomes_drained(loader));
  EXPECT_EQ(drain(loader).size(), 1u);
}

TEST_F(DataLoader, PrepareErrorIsRethrownByNext) {
  auto dataset = open_image_folder(root_);
  auto indices = train_shard(dataset->size(), 1, 2, 9, 2);
  for (int workers : {0, 2}) {
    LoaderOptions o = options(workers, Augment::kTrain);
    o.prepare = [](Batch& b) {
      if (b.indices.size() < 4) throw std::runtime_error("cannot pack");  // the short last batch
    };
    Loader loader(dataset, indices, o);
    EXPECT_TRUE(next_rethrows(loader)) << workers << " workers";
    EXPECT_TRUE(next_rethrows(loader)) << workers << " workers: a second call rethrows too";
  }
}

// A dataset whose sample 5 fails with an error that is not a decode error.
class FailingDataset : public Dataset {
 public:
  int64_t size() const override { return 12; }
  int64_t label(int64_t index) const override { return index % 2; }
  const std::vector<std::string>& class_names() const override { return names_; }
  Image load(int64_t index) const override {
    if (index == 5) throw std::runtime_error("disk on fire");
    return noise_image(10, 12, static_cast<uint32_t>(index));
  }
  std::string describe(int64_t index) const override { return "fake:" + std::to_string(index); }

 private:
  std::vector<std::string> names_{"a", "b"};
};

TEST(DataLoaderErrors, WorkerErrorIsRethrownByNext) {
  auto dataset = std::make_shared<FailingDataset>();
  std::vector<int64_t> indices(12);
  for (int i = 0; i < 12; ++i) indices[i] = i;
  for (int workers : {0, 2}) {
    LoaderOptions o;
    o.batch_size = 2;
    o.workers = workers;
    o.image_size = 8;
    Loader loader(dataset, indices, o);
    EXPECT_TRUE(next_rethrows(loader)) << workers << " workers";
  }
}

TEST(DataLoaderErrors, RejectsBadOptions) {
  auto dataset = std::make_shared<FailingDataset>();
  LoaderOptions o;
  o.batch_size = 0;
  EXPECT_THROW(Loader(dataset, {0, 1}, o), Error);
  o.batch_size = 2;
  EXPECT_THROW(Loader(dataset, {0, 12}, o), Error);
}

}  // namespace
}  // namespace roost::data
