// core_mpi_yield_test.cc — when roost asks Open MPI to yield while waiting, and that a value the
// user exported wins.
#include <gtest/gtest.h>

#include <cstdlib>

#include "roost/core/error.h"
#include "roost/core/mpi_yield.h"

namespace {

TEST(MpiYield, AutoYieldsOnlyWhenRanksAndThreadsFillTheCores) {
  EXPECT_TRUE(roost::mpi_yield_wanted("auto", 2, 1, 2));    // the 2-core machine, np=2
  EXPECT_TRUE(roost::mpi_yield_wanted("auto", 4, 4, 16));   // 4 ranks × 4 threads fill 16 cores
  EXPECT_TRUE(roost::mpi_yield_wanted("auto", 2, 0, 16));   // 0 threads = cores / ranks: full
  EXPECT_FALSE(roost::mpi_yield_wanted("auto", 2, 1, 16));  // cores to spare
  EXPECT_FALSE(roost::mpi_yield_wanted("auto", 1, 8, 2));   // one rank: nobody to wait for
}

TEST(MpiYield, OnAndOffOverrideAndBadModeIsAUsageError) {
  EXPECT_TRUE(roost::mpi_yield_wanted("on", 1, 1, 64));
  EXPECT_FALSE(roost::mpi_yield_wanted("off", 8, 8, 2));
  EXPECT_THROW(roost::mpi_yield_wanted("sometimes", 2, 1, 2), roost::UsageError);
}

TEST(MpiYield, ApplySetsTheVariableAndKeepsTheUsersValue) {
  unsetenv("OMPI_MCA_mpi_yield_when_idle");
  setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2", 1);
  EXPECT_EQ(roost::apply_mpi_yield("on", 1), "1");
  EXPECT_STREQ(std::getenv("OMPI_MCA_mpi_yield_when_idle"), "1");

  setenv("OMPI_MCA_mpi_yield_when_idle", "0", 1);  // exported by the user: left alone
  EXPECT_EQ(roost::apply_mpi_yield("on", 1), "0");
  EXPECT_STREQ(std::getenv("OMPI_MCA_mpi_yield_when_idle"), "0");

  unsetenv("OMPI_MCA_mpi_yield_when_idle");
  EXPECT_EQ(roost::apply_mpi_yield("off", 1), "default");
  EXPECT_EQ(std::getenv("OMPI_MCA_mpi_yield_when_idle"), nullptr);
  unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
}

}  // namespace
