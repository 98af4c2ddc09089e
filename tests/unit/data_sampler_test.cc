// data_sampler_test.cc — the per-rank sample lists: training shards are disjoint up to the
// wrap padding, cover the dataset, have equal lengths and are reproducible; validation shards
// cover every sample exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>
#include <vector>

#include "roost/core/error.h"
#include "roost/data/sampler.h"

namespace roost::data {
namespace {

class DataSamplerWorld : public ::testing::TestWithParam<std::tuple<int64_t, int>> {};

TEST_P(DataSamplerWorld, TrainShardsCoverPadAndAgree) {
  auto [n, world] = GetParam();
  const int64_t per_rank = (n + world - 1) / world;
  std::map<int64_t, int> seen;
  std::vector<int64_t> interleaved(per_rank * world);
  for (int rank = 0; rank < world; ++rank) {
    auto shard = train_shard(n, rank, world, 42, 3);
    ASSERT_EQ(static_cast<int64_t>(shard.size()), per_rank) << "rank " << rank;
    EXPECT_EQ(shard, train_shard(n, rank, world, 42, 3)) << "not deterministic";
    for (size_t k = 0; k < shard.size(); ++k) {
      ASSERT_GE(shard[k], 0);
      ASSERT_LT(shard[k], n);
      ++seen[shard[k]];
      interleaved[k * world + rank] = shard[k];
    }
  }
  // Every index appears; only the padding (per_rank * world - n positions) repeats any.
  EXPECT_EQ(static_cast<int64_t>(seen.size()), n);
  int64_t repeats = 0;
  for (auto& [index, count] : seen) repeats += count - 1;
  EXPECT_EQ(repeats, per_rank * world - n);
  // Interleaving the shards gives back the permutation followed by its own start (the wrap).
  for (int64_t pos = n; pos < per_rank * world; ++pos) EXPECT_EQ(interleaved[pos], interleaved[pos % n]);
  std::vector<int64_t> first(interleaved.begin(), interleaved.begin() + n);
  std::sort(first.begin(), first.end());
  std::vector<int64_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(first, all);
}

TEST_P(DataSamplerWorld, ValShardsCoverEachSampleOnce) {
  auto [n, world] = GetParam();
  std::vector<int> count(n, 0);
  for (int rank = 0; rank < world; ++rank)
    for (int64_t index : val_shard(n, rank, world)) {
      ASSERT_GE(index, 0);
      ASSERT_LT(index, n);
      ++count[index];
    }
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(count[i], 1) << "index " << i;
}

TEST_P(DataSamplerWorld, UnshuffledTrainShardIsStrided) {
  auto [n, world] = GetParam();
  for (int rank = 0; rank < world; ++rank) {
    auto shard = train_shard(n, rank, world, 1, 1, /*shuffle=*/false);
    for (size_t k = 0; k < shard.size(); ++k) EXPECT_EQ(shard[k], (rank + int64_t(k) * world) % n);
  }
}

INSTANTIATE_TEST_SUITE_P(Data, DataSamplerWorld,
                         ::testing::Combine(::testing::Values<int64_t>(1, 3, 5, 17, 101, 240), ::testing::Range(1, 8)));

TEST(DataSampler, EpochsAndSeedsDiffer) {
  auto base = train_shard(1000, 0, 1, 7, 0);
  EXPECT_NE(base, train_shard(1000, 0, 1, 7, 1));
  EXPECT_NE(base, train_shard(1000, 0, 1, 8, 0));
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(base, identity);
}

// The permutation is defined by roost, not by the standard library: pin a few values so a
// change in the algorithm (which would change every run's data order) is noticed.
TEST(DataSampler, PermutationIsStable) {
  EXPECT_EQ(train_shard(10, 0, 1, 0, 0), (std::vector<int64_t>{6, 1, 2, 4, 7, 5, 3, 0, 9, 8}));
  EXPECT_EQ(train_shard(10, 1, 3, 5, 2), (std::vector<int64_t>{1, 5, 2, 8}));
}

// Samples every rank trains in the first `steps` steps of `batch` (its shard's first
// steps × batch entries), and then in the rest of the epoch from position `first` on.
std::vector<int64_t> trained(int64_t n, int world, int64_t from, int64_t take_per_rank) {
  std::vector<int64_t> out;
  for (int r = 0; r < world; ++r) {
    auto shard = train_shard(n, r, world, 11, 4, true, from);
    const auto count = std::min<int64_t>(take_per_rank, static_cast<int64_t>(shard.size()));
    out.insert(out.end(), shard.begin(), shard.begin() + count);
  }
  return out;
}

TEST(DataSampler, ResumedAtTheSameWorldSizeTrainsTheRestOfEachShard) {
  const int64_t n = 101;
  const int world = 3, batch = 4, steps = 5;
  for (int r = 0; r < world; ++r) {
    auto whole = train_shard(n, r, world, 11, 4);
    auto rest = train_shard(n, r, world, 11, 4, true, int64_t{steps} * batch * world);
    ASSERT_EQ(rest.size(), whole.size() - steps * batch);
    EXPECT_TRUE(std::equal(rest.begin(), rest.end(), whole.begin() + steps * batch)) << "rank " << r;
  }
}

TEST(DataSampler, ResumedAtAnotherWorldSizeTrainsEverySampleOnce) {
  // 2 ranks stop after 5 steps of 4, the epoch goes on with 1 rank for 7 steps, then ends on
  // 3 ranks: together every sample once, plus the final split's padding.
  const int64_t n = 103;
  const int batch = 4;
  std::vector<int64_t> ids = trained(n, 2, 0, 5 * batch);
  int64_t done = 5 * batch * 2;
  const auto middle = trained(n, 1, done, 7 * batch);
  ids.insert(ids.end(), middle.begin(), middle.end());
  done += 7 * batch * 1;
  const auto last = trained(n, 3, done, n);
  ids.insert(ids.end(), last.begin(), last.end());
  EXPECT_EQ(static_cast<int64_t>(last.size()), 3 * train_shard_size(n, 3, done));
  std::map<int64_t, int> seen;
  for (int64_t id : ids) ++seen[id];
  ASSERT_EQ(static_cast<int64_t>(seen.size()), n) << "a sample was never trained";
  int64_t repeats = 0;
  for (const auto& [id, count] : seen) repeats += count - 1;
  // n - done = 35 left for 3 ranks: padded to 36, so exactly one sample twice.
  EXPECT_EQ(repeats, 1);
  // The positions already trained are never handed out again.
  EXPECT_TRUE(train_shard(n, 0, 2, 11, 4, true, n).empty());
  EXPECT_EQ(train_shard_size(n, 2, n + 5), 0);
}

TEST(DataSampler, RejectsBadRank) {
  EXPECT_THROW(train_shard(10, 2, 2, 0, 0), Error);
  EXPECT_THROW(train_shard(10, -1, 2, 0, 0), Error);
  EXPECT_THROW(val_shard(10, 0, 0), Error);
}

TEST(DataSampler, EmptyDataset) {
  EXPECT_TRUE(train_shard(0, 0, 2, 0, 0).empty());
  EXPECT_TRUE(val_shard(0, 1, 2).empty());
}

}  // namespace
}  // namespace roost::data
