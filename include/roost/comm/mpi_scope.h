// roost/comm/mpi_scope.h — RAII ownership of the MPI runtime and roost's own communicator.
//
// MpiScope calls MPI_Init_thread (MPI_THREAD_MULTIPLE is asked for, because the gradient
// synchronizer runs collectives from a background thread), duplicates MPI_COMM_WORLD so
// roost's traffic never mixes with anything else's, and sets MPI_ERRORS_RETURN on the
// duplicate so MPI_CHECK sees real return codes instead of Open MPI aborting the job.
// Local rank/size come from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED).
#pragma once

#include <mpi.h>

#include <string>

#include "roost/core/error.h"

namespace roost {

// Message for an MPI return code, from MPI_Error_string.
std::string mpi_error_string(int code);

#define MPI_CHECK(call)                                                                                \
  do {                                                                                                 \
    int roost_mpi_rc_ = (call);                                                                        \
    if (roost_mpi_rc_ != MPI_SUCCESS)                                                                  \
      throw ::roost::Error(__FILE__, __LINE__,                                                         \
                           std::string(#call " failed: ") + ::roost::mpi_error_string(roost_mpi_rc_)); \
  } while (0)

// An owned duplicate of a communicator (MPI_Comm_dup, MPI_ERRORS_RETURN), freed on scope
// exit: each component that talks in the background gets its own, so its messages can
// never match another component's.
class MpiCommDup {
 public:
  explicit MpiCommDup(MPI_Comm parent);
  ~MpiCommDup();
  MpiCommDup(const MpiCommDup&) = delete;
  MpiCommDup& operator=(const MpiCommDup&) = delete;
  MPI_Comm get() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

class MpiScope {
 public:
  MpiScope(int* argc, char*** argv);
  ~MpiScope();
  MpiScope(const MpiScope&) = delete;
  MpiScope& operator=(const MpiScope&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  int thread_level() const { return thread_level_; }
  // roost's duplicated world communicator, with MPI_ERRORS_RETURN.
  MPI_Comm comm() const { return comm_; }

  // Ends the whole job now (all ranks) after an unrecoverable error on this one.
  [[noreturn]] void abort(int code);

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1, thread_level_ = 0;
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool finalize_ = false;
};

}  // namespace roost
