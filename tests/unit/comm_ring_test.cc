// comm_ring_test.cc — the ring collectives over the thread backend: allreduce for ranks
// 1..5 and 8 × counts (0, 1, fewer than ranks, primes, > 1M) × float32/float64/float16/bfloat16
// × sum/average, against a float64 reference and bitwise identical on every rank; once with
// tiny segments (many pipelined pieces, odd byte counts) and once with the default; broadcast
// from every root; allgather; integer sums; the chunk layout.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "comm_test_util.h"
#include "roost/comm/ring.h"
#include "roost/comm/thread_communicator.h"
#include "roost/core/error.h"

namespace roost {
namespace {

using comm::DType;
using comm::ReduceOp;
using comm::RingOptions;

constexpr size_t kRanksMinusOne = ~size_t(0);  // stands for the count n-1
constexpr size_t kLarge = (size_t(1) << 20) + 3;

using Case = std::tuple<int, DType, ReduceOp, size_t>;

class RingAllreduceTest : public ::testing::TestWithParam<Case> {
 protected:
  // Runs the allreduce on n threads and checks every rank's result; returns rank 0's.
  void run(const RingOptions& options) {
    const auto [n, type, op, count_param] = GetParam();
    const size_t count = count_param == kRanksMinusOne ? size_t(n - 1) : count_param;
    const uint64_t seed = count * 31 + static_cast<uint64_t>(type) * 7 + static_cast<int>(op);
    std::vector<std::vector<char>> results(n);
    comm::run_ranks(
        n,
        [&](comm::Communicator& c) {
          std::vector<char> buf = testing::make_input(type, seed, c.rank(), count);
          c.allreduce(buf.data(), count, type, op);
          results[c.rank()] = std::move(buf);
        },
        options);
    std::string bad = testing::check_allreduce(type, op, seed, n, results[0].data(), count);
    ASSERT_TRUE(bad.empty()) << bad << " (segment_bytes " << options.segment_bytes << ")";
    for (int r = 1; r < n; ++r) ASSERT_TRUE(results[r] == results[0]) << "rank " << r << " differs from rank 0 bitwise";
  }
};

TEST_P(RingAllreduceTest, TinySegments) {
  // 12 bytes: 1, 3 or 6 elements per segment, so even small counts run a long pipeline; the
  // larger counts use 4 KiB pieces (still hundreds of them) to keep the test quick.
  RingOptions options;
  const size_t count = std::get<3>(GetParam());
  options.segment_bytes = count > 1021 && count != kRanksMinusOne ? 4096 : 12;
  run(options);
}

TEST_P(RingAllreduceTest, DefaultSegments) { run(RingOptions{}); }

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const auto [n, type, op, count] = info.param;
  const std::string c = count == kRanksMinusOne ? "nminus1" : std::to_string(count);
  return "n" + std::to_string(n) + "_" + comm::dtype_name(type) + "_" + comm::reduce_op_name(op) + "_" + c;
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, RingAllreduceTest,
    ::testing::Combine(::testing::Values(1, 2, 3, 4, 5, 8),
                       ::testing::Values(DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16),
                       ::testing::Values(ReduceOp::kSum, ReduceOp::kAverage),
                       ::testing::Values(size_t(0), size_t(1), size_t(2), size_t(3), kRanksMinusOne, size_t(7),
                                         size_t(1021), size_t(65537), kLarge)),
    case_name);

TEST(RingAllreduce, IntegerSumsAreExact) {
  for (int n : {2, 3, 5}) {
    for (DType type : {DType::kInt64, DType::kUInt8}) {
      const size_t count = 1000;
      std::vector<std::vector<char>> results(n);
      RingOptions options;
      options.segment_bytes = 64;
      comm::run_ranks(
          n,
          [&](comm::Communicator& c) {
            std::vector<char> buf = testing::make_input(type, 5, c.rank(), count);
            c.allreduce(buf.data(), count, type, ReduceOp::kSum);
            results[c.rank()] = std::move(buf);
          },
          options);
      std::string bad = testing::check_allreduce(type, ReduceOp::kSum, 5, n, results[0].data(), count);
      EXPECT_TRUE(bad.empty()) << bad;
      for (int r = 1; r < n; ++r) EXPECT_TRUE(results[r] == results[0]);
    }
  }
}

TEST(RingAllreduce, IntegerAverageIsRejectedOnEveryRank) {
  comm::run_ranks(3, [](comm::Communicator& c) {
    int64_t v[4] = {1, 2, 3, 4};
    EXPECT_THROW(c.allreduce(v, 4, DType::kInt64, ReduceOp::kAverage), Error);
  });
}

TEST(RingBroadcast, FromEveryRootAndSegmentSize) {
  for (int n : {1, 2, 3, 4, 5, 8}) {
    for (size_t bytes : {size_t(0), size_t(1), size_t(7), size_t(4099), size_t(100003)}) {
      for (size_t segment : {size_t(1), size_t(1000), size_t(1) << 20}) {
        if (segment == 1 && bytes > 4099) continue;  // 100k one-byte messages prove nothing new
        RingOptions options;
        options.segment_bytes = segment;
        comm::run_ranks(
            n,
            [&](comm::Communicator& c) {
              for (int root = 0; root < n; ++root) {
                std::vector<uint8_t> buf(bytes, static_cast<uint8_t>(0xa0 + c.rank()));
                if (c.rank() == root)
                  for (size_t i = 0; i < bytes; ++i) buf[i] = static_cast<uint8_t>(i * 31 + root + 1);
                c.broadcast(buf.data(), bytes, root);
                for (size_t i = 0; i < bytes; ++i)
                  ASSERT_EQ(buf[i], static_cast<uint8_t>(i * 31 + root + 1))
                      << "n=" << n << " bytes=" << bytes << " root=" << root << " rank=" << c.rank();
              }
            },
            options);
      }
    }
  }
}

TEST(RingBroadcast, RejectsABadRoot) {
  comm::run_ranks(2, [](comm::Communicator& c) {
    char b = 0;
    EXPECT_THROW(c.broadcast(&b, 1, 2), Error);
    EXPECT_THROW(c.broadcast(&b, 1, -1), Error);
  });
}

TEST(RingAllgather, RankOrderSeparateAndInPlace) {
  for (int n : {1, 2, 3, 5, 8}) {
    for (size_t per : {size_t(0), size_t(1), size_t(5), size_t(4096), size_t(70001)}) {
      comm::run_ranks(n, [&](comm::Communicator& c) {
        auto pattern = [&](int r, size_t i) { return static_cast<uint8_t>(r * 37 + i * 11 + 1); };
        std::vector<uint8_t> mine(per), out(per * n, 0), inplace(per * n, 0);
        for (size_t i = 0; i < per; ++i) mine[i] = inplace[c.rank() * per + i] = pattern(c.rank(), i);
        c.allgather(mine.data(), out.data(), per);
        comm::ring_allgather(c, inplace.data() + c.rank() * per, inplace.data(), per);
        for (int r = 0; r < n; ++r)
          for (size_t i = 0; i < per; ++i) {
            ASSERT_EQ(out[r * per + i], pattern(r, i)) << "n=" << n << " per=" << per << " from " << r;
            ASSERT_EQ(inplace[r * per + i], pattern(r, i));
          }
      });
    }
  }
}

TEST(ChunkLayout, CoversTheBufferWithSizesDifferingByAtMostOne) {
  for (size_t count : {size_t(0), size_t(1), size_t(2), size_t(7), size_t(1021), size_t(65537)}) {
    for (int parts : {1, 2, 3, 5, 8}) {
      comm::ChunkLayout layout{count, parts};
      size_t next = 0;
      for (int c = 0; c < parts; ++c) {
        EXPECT_EQ(layout.offset(c), next);
        EXPECT_LE(layout.length(0) - layout.length(c), 1u);
        next += layout.length(c);
      }
      EXPECT_EQ(next, count);
    }
  }
}

}  // namespace
}  // namespace roost
