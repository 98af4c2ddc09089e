// roost/data/sampler.h — which samples each rank sees in an epoch.
//
// Training (DistributedSampler semantics): a permutation of [0, n) seeded by (seed, epoch),
// padded by wrapping to a multiple of world_size, rank r takes positions r, r+W, r+2W, ...
// so every rank runs the same number of steps. Validation: no shuffle, no padding; rank r
// takes positions r, r+W, ... so every sample is evaluated exactly once across ranks.
#pragma once

#include <cstdint>
#include <vector>

namespace roost::data {

std::vector<int64_t> train_shard(int64_t n, int rank, int world_size, uint64_t seed, uint64_t epoch,
                                 bool shuffle = true);
std::vector<int64_t> val_shard(int64_t n, int rank, int world_size);
// Samples in every rank's train_shard (n padded to a multiple of world_size, divided).
inline int64_t train_shard_size(int64_t n, int world_size) { return (n + world_size - 1) / world_size; }

}  // namespace roost::data
