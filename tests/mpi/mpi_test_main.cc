// mpi_test_main.cc — GoogleTest main for tests run under mpirun: initializes MPI through
// MpiScope, silences the console output of ranks other than 0, and makes the process exit
// code reflect failures on any rank (so mpirun fails when one rank fails).
#include <gtest/gtest.h>

#include "roost/comm/mpi_scope.h"
#include "mpi_env.h"

namespace roost::testing {
MpiScope* g_mpi = nullptr;
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  roost::MpiScope mpi(&argc, &argv);
  roost::testing::g_mpi = &mpi;
  if (mpi.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int local_failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&local_failed, &any_failed, 1, MPI_INT, MPI_MAX, mpi.comm());
  if (local_failed) std::fprintf(stderr, "rank %d: tests failed\n", mpi.rank());
  return any_failed;
}
