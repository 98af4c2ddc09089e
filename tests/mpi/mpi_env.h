// mpi_env.h — access to the MPI scope the MPI test main created.
#pragma once

#include "roost/comm/mpi_scope.h"

namespace roost::testing {
extern MpiScope* g_mpi;  // set by mpi_test_main before any test runs
}
