// comm_ring_test.cc — roost's ring over real MPI processes (RingMpiCommunicator), run by
// mpirun with 2..5 ranks: allreduce for counts (0, 1, fewer than ranks, primes, > 1M) ×
// float32/float64/float16/bfloat16 × sum/average against a float64 reference, bitwise identical
// on every rank, with tiny and default segments; chain broadcast from every root; ring
// allgather; and MpiCommunicator's point-to-point calls they are built on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "../unit/comm_test_util.h"
#include "mpi_env.h"
#include "roost/comm/ring.h"
#include "roost/comm/ring_mpi_communicator.h"

namespace roost {
namespace {

using comm::DType;
using comm::ReduceOp;
using comm::RingMpiCommunicator;
using comm::RingMpiOptions;
using comm::RingOptions;

constexpr size_t kRanksMinusOne = ~size_t(0);  // stands for the count n-1
constexpr size_t kLarge = (size_t(1) << 20) + 3;

uint64_t fnv1a(const std::vector<char>& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

// Every rank's result must hash the same: the ring copies each finished chunk byte for byte.
void expect_identical_everywhere(const std::vector<char>& result) {
  const uint64_t mine = fnv1a(result);
  std::vector<uint64_t> all(testing::g_mpi->size());
  MPI_Allgather(&mine, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, testing::g_mpi->comm());
  for (size_t r = 1; r < all.size(); ++r) EXPECT_EQ(all[r], all[0]) << "rank " << r << " differs bitwise";
}

using Path = comm::RingMpiOptions::Path;
using Case = std::tuple<Path, DType, ReduceOp, size_t>;

class RingMpiAllreduceTest : public ::testing::TestWithParam<Case> {
 protected:
  void run(RingMpiOptions options) {
    const auto [path, type, op, count_param] = GetParam();
    options.path = path;
    RingMpiCommunicator comm(testing::g_mpi->comm(), options);
    const int n = comm.size();
    const size_t count = count_param == kRanksMinusOne ? size_t(n - 1) : count_param;
    const uint64_t seed = count * 131 + static_cast<uint64_t>(type) * 3 + static_cast<int>(op);
    std::vector<char> buf = testing::make_input(type, seed, comm.rank(), count);
    comm.allreduce(buf.data(), count, type, op);
    EXPECT_STREQ(comm.path(), path == Path::kMessages ? "messages" : "shared-memory");
    const std::string bad = testing::check_allreduce(type, op, seed, n, buf.data(), count);
    EXPECT_TRUE(bad.empty()) << "rank " << comm.rank() << ": " << bad;
    expect_identical_everywhere(buf);
    // A second call on the same communicator (the shared path alternates window halves).
    buf = testing::make_input(type, seed, comm.rank(), count);
    comm.allreduce(buf.data(), count, type, op);
    EXPECT_TRUE(testing::check_allreduce(type, op, seed, n, buf.data(), count).empty());
  }
};

TEST_P(RingMpiAllreduceTest, TinySegments) {
  // 12-byte ring segments / 64-byte shared pieces: long pipelines, chunks of 0 or 1 elements;
  // larger counts use 4 KiB to keep the test quick.
  RingMpiOptions options;
  const size_t count = std::get<3>(GetParam());
  const bool large = count > 1021 && count != kRanksMinusOne;
  options.ring.segment_bytes = large ? 4096 : 12;
  options.shm_piece_bytes = large ? 4096 : 64;
  run(options);
}

TEST_P(RingMpiAllreduceTest, DefaultSegments) { run(RingMpiOptions{}); }

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const auto [path, type, op, count] = info.param;
  const std::string c = count == kRanksMinusOne ? "nminus1" : std::to_string(count);
  return std::string(path == Path::kMessages ? "ring_" : "shm_") + comm::dtype_name(type) + "_" +
         comm::reduce_op_name(op) + "_" + c;
}

// mpirun runs the tests' ranks on one node, where the shared path is available.
INSTANTIATE_TEST_SUITE_P(
    Matrix, RingMpiAllreduceTest,
    ::testing::Combine(::testing::Values(Path::kMessages, Path::kSharedMemory),
                       ::testing::Values(DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16),
                       ::testing::Values(ReduceOp::kSum, ReduceOp::kAverage),
                       ::testing::Values(size_t(0), size_t(1), size_t(2), size_t(3), kRanksMinusOne, size_t(7),
                                         size_t(1021), size_t(65537), kLarge)),
    case_name);

TEST(RingMpi, BackendNameAndIntegerSumOnBothPaths) {
  for (Path path : {Path::kMessages, Path::kAuto}) {
    RingMpiOptions options;
    options.path = path;
    RingMpiCommunicator comm(testing::g_mpi->comm(), options);
    EXPECT_EQ(comm.backend(), "mpi-ring");
    EXPECT_STREQ(comm.path(), "undecided");
    std::vector<char> buf = testing::make_input(DType::kInt64, 9, comm.rank(), 999);
    comm.allreduce(buf.data(), 999, DType::kInt64, ReduceOp::kSum);
    const std::string bad = testing::check_allreduce(DType::kInt64, ReduceOp::kSum, 9, comm.size(), buf.data(), 999);
    EXPECT_TRUE(bad.empty()) << bad;
    int64_t v = 1;
    EXPECT_THROW(comm.allreduce(&v, 1, DType::kInt64, ReduceOp::kAverage), Error);
  }
}

TEST(RingMpi, AutoPathSwitchesBySizeOnOneCommunicator) {
  // With a 4 KiB limit, 1021 float32 (4084 bytes) go through the window, 1025 by messages;
  // interleaving them checks that neither path disturbs the other's state.
  RingMpiOptions options;
  options.shm_max_bytes = 4096;
  options.ring.segment_bytes = 1000;
  options.shm_piece_bytes = 1000;
  RingMpiCommunicator comm(testing::g_mpi->comm(), options);
  for (int round = 0; round < 3; ++round) {
    for (size_t count : {size_t(1021), size_t(1025)}) {
      const uint64_t seed = 77 + count + round;
      std::vector<char> buf = testing::make_input(DType::kFloat32, seed, comm.rank(), count);
      comm.allreduce(buf.data(), count, DType::kFloat32, ReduceOp::kAverage);
      EXPECT_STREQ(comm.path(), count == 1021 ? "shared-memory" : "messages");
      const std::string bad =
          testing::check_allreduce(DType::kFloat32, ReduceOp::kAverage, seed, comm.size(), buf.data(), count);
      EXPECT_TRUE(bad.empty()) << bad;
      expect_identical_everywhere(buf);
    }
  }
}

TEST(RingMpi, AllreducePartsEqualsAllreduceOfTheConcatenation) {
  // Parts of awkward lengths (empty, 1, across 1000-byte pieces, one larger than a piece):
  // the result must be byte for byte what allreduce gives for the concatenated buffer, on
  // the window and on the ring, and the parts must be left as they were.
  const std::vector<size_t> lengths = {0, 1, 250, 3, 0, 997, 1, 2600, 7};
  for (Path path : {Path::kSharedMemory, Path::kMessages}) {
    RingMpiOptions options;
    options.path = path;
    options.shm_piece_bytes = 1000;
    options.ring.segment_bytes = 1000;
    RingMpiCommunicator comm(testing::g_mpi->comm(), options);
    for (DType type : {DType::kFloat32, DType::kBFloat16}) {
      const size_t elem = comm::dtype_size(type);
      size_t total = 0;
      for (size_t n : lengths) total += n;
      const std::vector<char> whole = testing::make_input(type, 31, comm.rank(), total);
      std::vector<std::vector<char>> parts_data;
      std::vector<comm::Communicator::Part> parts;
      size_t at = 0;
      for (size_t n : lengths) {
        parts_data.emplace_back(whole.begin() + at * elem, whole.begin() + (at + n) * elem);
        at += n;
      }
      for (size_t i = 0; i < lengths.size(); ++i) parts.push_back({parts_data[i].data(), lengths[i]});
      std::vector<char> expected = whole;
      comm.allreduce(expected.data(), total, type, ReduceOp::kAverage);
      std::vector<char> out(total * elem, 0x5a);
      comm.allreduce_parts(parts, out.data(), type, ReduceOp::kAverage);
      EXPECT_STREQ(comm.path(), path == Path::kMessages ? "messages" : "shared-memory");
      EXPECT_EQ(out, expected) << comm::dtype_name(type);
      at = 0;
      for (size_t i = 0; i < lengths.size(); ++i) {
        EXPECT_TRUE(std::equal(parts_data[i].begin(), parts_data[i].end(), whole.begin() + at * elem))
            << "part " << i << " changed";
        at += lengths[i];
      }
      expect_identical_everywhere(out);
    }
  }
}

TEST(RingMpi, ChainBroadcastFromEveryRoot) {
  comm::MpiCommunicator comm(testing::g_mpi->comm());
  for (size_t segment : {size_t(7), size_t(1) << 20}) {
    RingOptions options;
    options.segment_bytes = segment;
    for (size_t bytes : {size_t(0), size_t(1), size_t(4099), size_t(3) << 20}) {
      if (segment == 7 && bytes > 4099) continue;
      for (int root = 0; root < comm.size(); ++root) {
        std::vector<uint8_t> buf(bytes, static_cast<uint8_t>(comm.rank() + 100));
        if (comm.rank() == root)
          for (size_t i = 0; i < bytes; ++i) buf[i] = static_cast<uint8_t>(i * 31 + root);
        comm::ring_broadcast(comm, buf.data(), bytes, root, options);
        for (size_t i = 0; i < bytes; ++i)
          ASSERT_EQ(buf[i], static_cast<uint8_t>(i * 31 + root)) << "root " << root << " at " << i;
      }
    }
  }
}

TEST(RingMpi, RingAllgatherInRankOrder) {
  comm::MpiCommunicator comm(testing::g_mpi->comm());
  for (size_t per : {size_t(0), size_t(3), size_t(65539)}) {
    std::vector<uint8_t> mine(per), out(per * comm.size());
    for (size_t i = 0; i < per; ++i) mine[i] = static_cast<uint8_t>(comm.rank() * 41 + i);
    comm::ring_allgather(comm, mine.data(), out.data(), per);
    for (int r = 0; r < comm.size(); ++r)
      for (size_t i = 0; i < per; ++i) ASSERT_EQ(out[r * per + i], static_cast<uint8_t>(r * 41 + i));
  }
}

TEST(MpiPointToPoint, SendrecvAroundTheRingAndIsendrecvChain) {
  comm::MpiCommunicator comm(testing::g_mpi->comm());
  const int n = comm.size(), r = comm.rank();
  std::vector<double> out(100000, r + 0.5), in(100000, -1);
  comm.sendrecv(out.data(), out.size() * 8, (r + 1) % n, in.data(), in.size() * 8, (r + n - 1) % n, 5);
  for (double v : in) ASSERT_EQ(v, (r + n - 1) % n + 0.5);
  // A chain 0 → 1 → … → n-1 whose ends leave out one half.
  int send = 1000 + r, got = -1;
  auto request = comm.isendrecv(&send, sizeof send, r + 1 < n ? r + 1 : comm::kNoPeer, &got, sizeof got,
                                r > 0 ? r - 1 : comm::kNoPeer, 6);
  request->wait();
  EXPECT_EQ(got, r > 0 ? 1000 + r - 1 : -1);
}

TEST(MpiPointToPoint, ZeroBytesAndTagsMatch) {
  comm::MpiCommunicator comm(testing::g_mpi->comm());
  const int r = comm.rank();
  if (r > 1) return;  // a conversation between ranks 0 and 1
  if (r == 0) {
    comm.send(nullptr, 0, 1, 11);
    int a = 1, b = 2;
    comm.send(&a, sizeof a, 1, 12);
    comm.send(&b, sizeof b, 1, 13);
  } else {
    comm.recv(nullptr, 0, 0, 11);
    int a = 0, b = 0;
    comm.recv(&b, sizeof b, 0, 13);  // matched by tag, not arrival order
    comm.recv(&a, sizeof a, 0, 12);
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
  }
}

TEST(MpiPointToPoint, ShortMessageIsAnErrorNamingPeerAndTag) {
  comm::MpiCommunicator comm(testing::g_mpi->comm());
  const int r = comm.rank();
  if (r > 1) return;
  char buf[8] = {};
  if (r == 0) {
    comm.send(buf, 3, 1, 14);
  } else {
    try {
      comm.recv(buf, 8, 0, 14);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("expected 8 bytes from rank 0 with tag 14"), std::string::npos) << e.message();
    }
  }
}

}  // namespace
}  // namespace roost
