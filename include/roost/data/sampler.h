// roost/data/sampler.h — which samples each rank sees in an epoch.
//
// Training (DistributedSampler semantics): a permutation of [0, n) seeded by (seed, epoch),
// padded by wrapping to a multiple of world_size, rank r takes positions r, r+W, r+2W, ...
// so every rank runs the same number of steps. Validation: no shuffle, no padding; rank r
// takes positions r, r+W, ... so every sample is evaluated exactly once across ranks.
//
// A run stopped mid-epoch has trained the positions [0, first) of the epoch's order (after
// S steps of B samples on W ranks, first = S·B·W). Resumed at any world size W', it splits
// the positions from `first` on the same way (rank r: first+r, first+r+W', ...; padded by the
// same wrap to a multiple of W'), so the epoch trains every sample it had not reached yet,
// once. At the same world size this is exactly the rest of each rank's shard.
#pragma once

#include <cstdint>
#include <vector>

namespace roost::data {

std::vector<int64_t> train_shard(int64_t n, int rank, int world_size, uint64_t seed, uint64_t epoch,
                                 bool shuffle = true, int64_t first = 0);
std::vector<int64_t> val_shard(int64_t n, int rank, int world_size);
// Samples in every rank's train_shard (n padded to a multiple of world_size, divided); from
// position `first` on, those of the n - first positions left.
inline int64_t train_shard_size(int64_t n, int world_size, int64_t first = 0) {
  const int64_t left = n > first ? n - first : 0;
  return (left + world_size - 1) / world_size;
}

}  // namespace roost::data
