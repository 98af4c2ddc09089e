// comm_shared_test.cc — memory shared by the ranks of one node (map_shared) and the
// reduction that hands each chunk of its result to one rank (reduce_apply), over real MPI
// processes.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "../../src/comm/stale_shm.h"
#include "../unit/comm_test_util.h"
#include "../unit/dead_pid.h"
#include "mpi_env.h"
#include "roost/comm/ring_mpi_communicator.h"
#include "roost/comm/thread_communicator.h"
#include "roost/core/error.h"

namespace roost {
namespace {

using comm::DType;
using comm::ReduceOp;
using comm::RingMpiCommunicator;
using comm::RingMpiOptions;
using Path = RingMpiOptions::Path;

TEST(MapShared, OneZeroFilledMemoryThatEveryRankSeesWrite) {
  RingMpiCommunicator comm(testing::g_mpi->comm());
  const int n = comm.size();
  std::shared_ptr<void> mem = comm.map_shared(n * sizeof(int64_t) + 4096);
  ASSERT_TRUE(mem) << "the ranks of this test share one node";
  auto* slots = static_cast<int64_t*>(mem.get());
  for (int r = 0; r < n; ++r) EXPECT_EQ(slots[r], 0) << "fresh memory is zero-filled";
  comm.barrier();
  slots[comm.rank()] = 1000 + comm.rank();
  comm.barrier();
  for (int r = 0; r < n; ++r) EXPECT_EQ(slots[r], 1000 + r) << "rank " << comm.rank() << " reading rank " << r;
  comm.barrier();  // nobody unmaps while another still reads
}

// An object that a setup left behind when its rank 0 died (killed before it removed the
// name) goes at the next setup on the node, once old enough that no live setup can own it.
TEST(MapShared, ASetupRemovesWhatADeadSetupLeftBehind) {
  RingMpiCommunicator comm(testing::g_mpi->comm());
  std::string left;
  if (comm.rank() == 0) {
    const long pid = testing::dead_pid();
    ASSERT_GT(pid, 1) << "no free pid";
    left = comm::detail::node_shared_name(pid, 7, 0x0bad5eedu);
    const int fd = shm_open(left.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    ASSERT_GE(fd, 0) << "shm_open " << left;
    EXPECT_EQ(ftruncate(fd, 1 << 20), 0);
    const time_t old = std::time(nullptr) - 3600;
    const timespec times[2] = {{old, 0}, {old, 0}};
    EXPECT_EQ(futimens(fd, times), 0);
    close(fd);
  }
  comm.barrier();
  std::shared_ptr<void> mem = comm.map_shared(4096);
  ASSERT_TRUE(mem) << "the ranks of this test share one node";
  if (comm.rank() == 0) {
    const int fd = shm_open(left.c_str(), O_RDWR, 0600);
    EXPECT_LT(fd, 0) << left << " is still there";
    if (fd >= 0) {
      close(fd);
      shm_unlink(left.c_str());
    }
  }
  comm.barrier();
}

TEST(MapShared, NoneWhereTheBackendCannotShare) {
  RingMpiOptions options;
  options.path = Path::kMessages;
  RingMpiCommunicator messages(testing::g_mpi->comm(), options);
  EXPECT_FALSE(messages.map_shared(4096));
  comm::ThreadGroup group(1);
  comm::ThreadCommunicator threads(group, 0);
  EXPECT_FALSE(threads.map_shared(4096));
  EXPECT_THROW(threads.reduce_apply({}, DType::kFloat32, ReduceOp::kSum, [](size_t, size_t, size_t, const void*) {}),
               Error);
}

// Parts of awkward lengths across pieces; every element must be applied once, by one rank,
// with exactly the value allreduce gives, and be visible to all ranks when the call returns.
void check_reduce_apply(size_t piece_bytes, DType type) {
  RingMpiOptions options;
  options.shm_piece_bytes = piece_bytes;
  RingMpiCommunicator comm(testing::g_mpi->comm(), options);
  const std::vector<size_t> lengths = {0, 1, 250, 3, 0, 997, 1, 2600, 7, 40000};
  const size_t elem = comm::dtype_size(type);
  size_t total = 0;
  for (size_t n : lengths) total += n;
  const std::vector<char> whole = testing::make_input(type, 77, comm.rank(), total);
  std::vector<char> expected = whole;
  comm.allreduce(expected.data(), total, type, ReduceOp::kAverage);

  std::vector<comm::Communicator::Part> parts;
  std::vector<size_t> starts;  // each part's first element in the concatenation
  size_t at = 0;
  for (size_t n : lengths) parts.push_back({whole.data() + at * elem, n}), starts.push_back(at), at += n;
  const size_t counts_at = (total * elem + 7) / 8 * 8;  // aligned for the int32 counts
  std::shared_ptr<void> mem = comm.map_shared(counts_at + total * sizeof(int32_t));
  ASSERT_TRUE(mem);
  char* result = static_cast<char*>(mem.get());
  auto* applied = reinterpret_cast<int32_t*>(result + counts_at);
  for (int round = 1; round <= 2; ++round) {  // a second call reuses the window's halves
    size_t mine = 0;
    comm.reduce_apply(parts, type, ReduceOp::kAverage,
                      [&](size_t part, size_t in_part, size_t count, const void* values) {
                        ASSERT_LT(part, lengths.size());
                        ASSERT_LE(in_part + count, lengths[part]) << "a run spans two parts";
                        const size_t first = starts[part] + in_part;
                        std::memcpy(result + first * elem, values, count * elem);
                        for (size_t i = first; i < first + count; ++i) ++applied[i];
                        mine += count;
                      });
    EXPECT_STREQ(comm.path(), "shared-memory");
    EXPECT_EQ(std::memcmp(result, expected.data(), total * elem), 0) << comm::dtype_name(type) << " round " << round;
    size_t wrong = 0;
    for (size_t i = 0; i < total; ++i) wrong += applied[i] != round;
    EXPECT_EQ(wrong, 0u) << "elements not applied exactly once per call";
    // Each rank applies about its share, not everything.
    EXPECT_LT(mine, total / comm.size() + 2 * lengths.size() + total / (piece_bytes / elem) + 2);
    comm.barrier();  // all ranks have checked before the next round writes
  }
}

TEST(ReduceApply, EachElementOnceWithTheAllreduceValueSmallPieces) {
  check_reduce_apply(1000, DType::kFloat32);
  check_reduce_apply(1000, DType::kBFloat16);
}

TEST(ReduceApply, EachElementOnceWithTheAllreduceValueDefaultPieces) {
  check_reduce_apply(size_t(1) << 20, DType::kFloat32);
}

}  // namespace
}  // namespace roost
