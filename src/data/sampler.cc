// roost/data/sampler.cc — per-rank sample lists: torch DistributedSampler semantics for
// training (seeded shuffle, wrap padding, strided shard) and an unpadded strided split for
// validation.
//
// The permutation must be identical on every rank and on every machine, whatever the C++
// standard library: std::shuffle and std::uniform_int_distribution are implementation-defined,
// so the Fisher–Yates shuffle below draws its integers itself from std::mt19937_64, whose
// output sequence the standard fixes.
#include "roost/data/sampler.h"

#include <numeric>
#include <random>

#include "roost/core/error.h"
#include "seed_mix.h"

namespace roost::data {

namespace {

// Uniform integer in [0, bound) by rejection: drawing from the largest multiple of `bound`
// below 2^64 removes the modulo bias a plain `x % bound` would have.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound + 1) % bound;
  uint64_t x;
  do {
    x = rng();
  } while (x > limit);
  return x % bound;
}

void check_world(int rank, int world_size) {
  ROOST_CHECK(world_size >= 1, "world size must be at least 1, got ", world_size);
  ROOST_CHECK(rank >= 0 && rank < world_size, "rank ", rank, " outside world of ", world_size);
}

}  // namespace

std::vector<int64_t> train_shard(int64_t n, int rank, int world_size, uint64_t seed, uint64_t epoch, bool shuffle,
                                 int64_t first) {
  check_world(rank, world_size);
  ROOST_CHECK(n >= 0, "dataset size must not be negative, got ", n);
  ROOST_CHECK(first >= 0, "first position must not be negative, got ", first);
  if (n == 0 || first >= n) return {};

  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (shuffle) {
    std::mt19937_64 rng(detail::mix_seed(seed, epoch));
    for (int64_t i = n - 1; i > 0; --i) {
      auto j = static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(i) + 1));
      std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    }
  }

  // Pad to a multiple of world_size by repeating the list from its start (several times when
  // world_size > n), as DistributedSampler does, so every rank runs the same number of steps.
  const int64_t per_rank = train_shard_size(n, world_size, first);
  const int64_t end = first + per_rank * world_size;
  std::vector<int64_t> shard;
  shard.reserve(static_cast<size_t>(per_rank));
  for (int64_t pos = first + rank; pos < end; pos += world_size) shard.push_back(order[static_cast<size_t>(pos % n)]);
  return shard;
}

std::vector<int64_t> val_shard(int64_t n, int rank, int world_size) {
  check_world(rank, world_size);
  ROOST_CHECK(n >= 0, "dataset size must not be negative, got ", n);
  std::vector<int64_t> shard;
  shard.reserve(static_cast<size_t>(n / world_size + 1));
  for (int64_t i = rank; i < n; i += world_size) shard.push_back(i);
  return shard;
}

}  // namespace roost::data
