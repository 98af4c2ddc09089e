// comm_mpi_test.cc — the MPI communicator under real mpirun: allreduce (sum and average,
// float32/float64, counts 0..large), broadcast from every root, allgather, and the MPI
// scope's rank bookkeeping. Each rank's inputs are random and rank-dependent; the expected
// result is computed in float64 from every rank's inputs, regenerated locally from seeds.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "mpi_env.h"
#include "roost/comm/mpi_communicator.h"

namespace roost {
namespace {

using comm::DType;
using comm::MpiCommunicator;
using comm::ReduceOp;

std::vector<double> rank_input(int rank, size_t count) {
  std::mt19937_64 rng(1000 + rank * 7919 + count);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(count);
  for (auto& x : v) x = u(rng) + 0.25;  // never all zeros
  return v;
}

class AllreduceTest : public ::testing::TestWithParam<size_t> {};

TEST_P(AllreduceTest, SumAndAverageMatchFloat64Reference) {
  MpiCommunicator comm(testing::g_mpi->comm());
  const size_t count = GetParam();
  std::vector<double> expected(count, 0.0);
  for (int r = 0; r < comm.size(); ++r) {
    auto in = rank_input(r, count);
    for (size_t i = 0; i < count; ++i) expected[i] += in[i];
  }
  auto mine = rank_input(comm.rank(), count);
  std::vector<float> f(mine.begin(), mine.end());
  comm.allreduce(f.data(), count, DType::kFloat32, ReduceOp::kSum);
  std::vector<double> d = mine;
  comm.allreduce(d.data(), count, DType::kFloat64, ReduceOp::kAverage);
  for (size_t i = 0; i < count; ++i) {
    ASSERT_NEAR(f[i], expected[i], 1e-5 * comm.size()) << "float32 sum at " << i;
    ASSERT_NEAR(d[i], expected[i] / comm.size(), 1e-12) << "float64 average at " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Counts, AllreduceTest, ::testing::Values(0, 1, 2, 3, 7, 1021, 65537, 1 << 20));

TEST(MpiCommunicator, BroadcastFromEveryRoot) {
  MpiCommunicator comm(testing::g_mpi->comm());
  for (int root = 0; root < comm.size(); ++root) {
    std::vector<uint8_t> buf(4099, static_cast<uint8_t>(comm.rank() + 1));
    if (comm.rank() == root)
      for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 31 + root);
    comm.broadcast(buf.data(), buf.size(), root);
    for (size_t i = 0; i < buf.size(); ++i) ASSERT_EQ(buf[i], static_cast<uint8_t>(i * 31 + root));
  }
}

TEST(MpiCommunicator, AllgatherInRankOrder) {
  MpiCommunicator comm(testing::g_mpi->comm());
  int64_t mine[2] = {comm.rank() * 10 + 1, -comm.rank() - 5};
  std::vector<int64_t> all(2 * comm.size());
  comm.allgather(mine, all.data(), sizeof mine);
  for (int r = 0; r < comm.size(); ++r) {
    EXPECT_EQ(all[2 * r], r * 10 + 1);
    EXPECT_EQ(all[2 * r + 1], -r - 5);
  }
}

TEST(MpiScope, LocalRanksAreConsistent) {
  const MpiScope& mpi = *testing::g_mpi;
  EXPECT_GE(mpi.size(), 2) << "run under mpirun -np 2 or more";
  EXPECT_GE(mpi.local_rank(), 0);
  EXPECT_LT(mpi.local_rank(), mpi.local_size());
  EXPECT_LE(mpi.local_size(), mpi.size());
  EXPECT_GE(mpi.thread_level(), MPI_THREAD_SERIALIZED);
}

TEST(MpiScope, ErrorsComeBackAsExceptions) {
  // MPI_ERRORS_RETURN on roost's communicator: an invalid root is an exception, not an abort.
  MpiCommunicator comm(testing::g_mpi->comm());
  int value = 1;
  EXPECT_THROW(comm.broadcast(&value, sizeof value, comm.size() + 3), Error);
}

}  // namespace
}  // namespace roost
