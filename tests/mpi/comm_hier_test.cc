// comm_hier_test.cc — the hierarchical allreduce (reduce inside each node, exchange between
// node leaders, broadcast inside the node) over real MPI processes. Under the np2..5 runs all
// ranks share one node (one leader, no exchange); the mpi_hier_* runs cut 4 ranks into nodes
// with ROOST_NODE_SPLIT: 2+2 and 3+1 (two leaders, the direct exchange) and 1+1+1+1 (the
// ring between four leaders). Results against a float64 reference, bitwise identical on every
// rank; on 2+2 bitwise equal to the documented order (x0 + x1) + (x2 + x3).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "../unit/comm_test_util.h"
#include "mpi_env.h"
#include "roost/comm/ring_mpi_communicator.h"
#include "roost/core/error.h"

namespace roost {
namespace {

using comm::DType;
using comm::ReduceOp;
using comm::RingMpiCommunicator;
using comm::RingMpiOptions;
using Path = RingMpiOptions::Path;

// The test's own reading of the hook: K consecutive ranks per node (0: all on one node).
int split() {
  const char* v = std::getenv("ROOST_NODE_SPLIT");
  return v ? std::atoi(v) : 0;
}
int node_of(int rank) { return split() > 0 ? rank / split() : 0; }

void expect_identical_everywhere(const std::vector<char>& result) {
  std::vector<char> first(result);
  MPI_Bcast(first.data(), static_cast<int>(first.size()), MPI_CHAR, 0, testing::g_mpi->comm());
  EXPECT_TRUE(first == result) << "rank " << testing::g_mpi->rank() << " differs bitwise from rank 0";
}

RingMpiOptions hier(size_t piece_bytes) {
  RingMpiOptions o;
  o.path = Path::kHierarchical;
  o.hier_piece_bytes = piece_bytes;
  return o;
}

using Case = std::tuple<DType, ReduceOp, size_t>;
class HierAllreduceTest : public ::testing::TestWithParam<Case> {};

TEST_P(HierAllreduceTest, MatchesTheReferenceOnEveryRank) {
  const auto [type, op, count] = GetParam();
  // 64-byte pieces: many pieces in flight, chunks of 0 or 1 elements; 4 KiB for the large
  // counts; and the default.
  for (size_t piece : {size_t(64), size_t(4096), RingMpiOptions{}.hier_piece_bytes}) {
    if (piece == 64 && count > 5000) continue;
    RingMpiCommunicator comm(testing::g_mpi->comm(), hier(piece));
    const uint64_t seed = count * 7 + static_cast<uint64_t>(type) * 3 + static_cast<int>(op) + piece;
    for (int round = 0; round < 2; ++round) {  // a second call reuses the window slots
      std::vector<char> buf = testing::make_input(type, seed + round, comm.rank(), count);
      comm.allreduce(buf.data(), count, type, op);
      EXPECT_STREQ(comm.path(), "hierarchical");
      const std::string bad = testing::check_allreduce(type, op, seed + round, comm.size(), buf.data(), count);
      EXPECT_TRUE(bad.empty()) << "rank " << comm.rank() << " piece " << piece << ": " << bad;
      expect_identical_everywhere(buf);
    }
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const auto [type, op, count] = info.param;
  return std::string(comm::dtype_name(type)) + "_" + comm::reduce_op_name(op) + "_" + std::to_string(count);
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, HierAllreduceTest,
    ::testing::Combine(::testing::Values(DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16),
                       ::testing::Values(ReduceOp::kSum, ReduceOp::kAverage),
                       ::testing::Values(size_t(1), size_t(3), size_t(7), size_t(1021), (size_t(1) << 18) + 3)),
    case_name);

TEST(Hier, IntegerSumAndAverageRefused) {
  RingMpiCommunicator comm(testing::g_mpi->comm(), hier(256));
  std::vector<char> buf = testing::make_input(DType::kInt64, 5, comm.rank(), 1001);
  comm.allreduce(buf.data(), 1001, DType::kInt64, ReduceOp::kSum);
  EXPECT_TRUE(testing::check_allreduce(DType::kInt64, ReduceOp::kSum, 5, comm.size(), buf.data(), 1001).empty());
  int64_t v = 1;
  EXPECT_THROW(comm.allreduce(&v, 1, DType::kInt64, ReduceOp::kAverage), Error);
}

// On 2+2 every element is (x0 + x1) + (x2 + x3), the average that divided by 4 in the same
// last addition: the documented order, bitwise.
template <typename T>
void expect_documented_order(ReduceOp op) {
  RingMpiCommunicator comm(testing::g_mpi->comm(), hier(4096));
  const DType type = sizeof(T) == 4 ? DType::kFloat32 : DType::kFloat64;
  const size_t count = 5003;
  std::vector<char> buf = testing::make_input(type, 11, comm.rank(), count);
  comm.allreduce(buf.data(), count, type, op);
  std::vector<std::vector<char>> x;
  for (int r = 0; r < 4; ++r) x.push_back(testing::make_input(type, 11, r, count));
  for (size_t i = 0; i < count; ++i) {
    auto at = [&](const std::vector<char>& b) {
      T v;
      std::memcpy(&v, b.data() + i * sizeof(T), sizeof(T));
      return v;
    };
    const T node0 = at(x[0]) + at(x[1]), node1 = at(x[2]) + at(x[3]);
    const T expected = op == ReduceOp::kSum ? node0 + node1 : (node0 + node1) / T(4);
    ASSERT_EQ(std::memcmp(&expected, buf.data() + i * sizeof(T), sizeof(T)), 0) << "element " << i;
  }
}

TEST(Hier, TwoByTwoSumsInTheDocumentedOrder) {
  if (split() != 2 || testing::g_mpi->size() != 4) GTEST_SKIP() << "needs 4 ranks as 2+2 nodes";
  expect_documented_order<float>(ReduceOp::kSum);
  expect_documented_order<float>(ReduceOp::kAverage);
  expect_documented_order<double>(ReduceOp::kAverage);
}

TEST(Hier, AutoTakesItOnSeveralNodesWithAPopulatedOne) {
  RingMpiCommunicator comm(testing::g_mpi->comm());
  const int n = comm.size(), k = split();
  const int nodes = k > 0 ? (n + k - 1) / k : 1;
  std::vector<char> buf = testing::make_input(DType::kFloat32, 3, comm.rank(), 999);
  comm.allreduce(buf.data(), 999, DType::kFloat32, ReduceOp::kAverage);
  const char* expected = nodes == 1 ? "shared-memory" : k > 1 ? "hierarchical" : "messages";
  EXPECT_STREQ(comm.path(), expected) << nodes << " node(s) of up to " << k << " rank(s)";
  EXPECT_TRUE(testing::check_allreduce(DType::kFloat32, ReduceOp::kAverage, 3, n, buf.data(), 999).empty());
}

TEST(Hier, PartsEqualAllreduceOfTheConcatenation) {
  RingMpiCommunicator comm(testing::g_mpi->comm(), hier(1000));
  const std::vector<size_t> lengths = {0, 1, 250, 3, 0, 997, 1, 2600, 7};
  size_t total = 0;
  for (size_t n : lengths) total += n;
  const std::vector<char> whole = testing::make_input(DType::kFloat32, 31, comm.rank(), total);
  std::vector<comm::Communicator::Part> parts;
  size_t at = 0;
  for (size_t n : lengths) parts.push_back({whole.data() + at * 4, n}), at += n;
  std::vector<char> expected = whole;
  comm.allreduce(expected.data(), total, DType::kFloat32, ReduceOp::kAverage);
  std::vector<char> out(total * 4, 0x5a);
  comm.allreduce_parts(parts, out.data(), DType::kFloat32, ReduceOp::kAverage);
  EXPECT_STREQ(comm.path(), "hierarchical");
  EXPECT_EQ(out, expected);
  EXPECT_EQ(whole, testing::make_input(DType::kFloat32, 31, comm.rank(), total)) << "the input changed";
}

// map_shared gives each node a mapping of its own, and reduce_apply hands every chunk of the
// result to one rank per node: applied into the node's memory, it is the whole result there.
TEST(Hier, ReduceApplyFillsEachNodesSharedMemory) {
  RingMpiCommunicator comm(testing::g_mpi->comm(), hier(1000));
  const size_t count = 3001;
  std::shared_ptr<void> mem = comm.map_shared(count * 4 + 64);
  ASSERT_TRUE(mem);
  auto* marks = reinterpret_cast<int32_t*>(static_cast<char*>(mem.get()) + count * 4);
  if (comm.initializes_shared()) *marks = 1000 + node_of(comm.rank());
  comm.barrier();
  EXPECT_EQ(*marks, 1000 + node_of(comm.rank())) << "one mapping per node";
  const std::vector<char> in = testing::make_input(DType::kFloat32, 41, comm.rank(), count);
  const std::vector<comm::Communicator::Part> parts = {{in.data(), 1000}, {in.data() + 4000, count - 1000}};
  auto* result = static_cast<float*>(mem.get());
  comm.reduce_apply(parts, DType::kFloat32, ReduceOp::kAverage,
                    [&](size_t part, size_t first, size_t n, const void* values) {
                      std::memcpy(result + (part == 0 ? 0 : 1000) + first, values, n * 4);
                    });
  std::vector<char> expected = in;
  comm.allreduce(expected.data(), count, DType::kFloat32, ReduceOp::kAverage);
  EXPECT_EQ(std::memcmp(result, expected.data(), count * 4), 0);
  comm.barrier();  // nobody unmaps while another still reads
}

}  // namespace
}  // namespace roost
