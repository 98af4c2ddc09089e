// src/data/seed_mix.h — deterministic seed derivation shared by the sampler and the loader.
//
// std::mt19937_64's output for a given seed is fixed by the C++ standard, but its seed must
// not be a plain sum of (seed, epoch, index): nearby tuples would give correlated streams.
// splitmix64 (Steele, Lea, Flood 2014) scrambles each part before it is combined.
#pragma once

#include <cstdint>

namespace roost::data::detail {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Order-sensitive: mix_seed(a, b) != mix_seed(b, a) in general.
inline uint64_t mix_seed(uint64_t a, uint64_t b) { return splitmix64(splitmix64(a) ^ b); }

inline uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c) { return mix_seed(mix_seed(a, b), c); }

}  // namespace roost::data::detail
