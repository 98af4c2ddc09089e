// roost/train/preemption.h — stopping on SIGTERM / SIGINT (or SIGUSR1 / SIGUSR2, which
// mpirun forwards to the ranks at once) without losing work.
//
// The handler only records the signal. Ranks agree on it with a non-blocking MAX-allreduce
// started at the beginning of each step and completed after the optimizer step, so it
// costs no waiting and every rank stops after the same step: the checkpoint rank 0 then
// writes is the state of all ranks. A second signal is absorbed as well (it must not cut
// the stop's checkpoint short); a third gets the default action and ends the process.
#pragma once

#include <mpi.h>

namespace roost::train {

class PreemptionWatch {
 public:
  // Installs the handlers (SIGTERM, SIGINT, SIGUSR1, SIGUSR2); dup's `comm`. `relayed`:
  // the job runs under `roost launch` or `roost submit`, whose launcher relays SIGTERM and
  // SIGINT as SIGUSR1 and SIGUSR2 (mpirun forwards only those at once): they are named and
  // exit as the signals the launcher received.
  PreemptionWatch(MPI_Comm comm, bool relayed);
  ~PreemptionWatch();  // restores the previous handlers
  PreemptionWatch(const PreemptionWatch&) = delete;
  PreemptionWatch& operator=(const PreemptionWatch&) = delete;

  void begin_step();  // starts the agreement on the signals seen so far (no-op if started)
  int end_step();     // completes it: the signal some rank saw (0 = none)
  int agree_now();    // blocking: begin_step() + end_step()

  // 128 + signal: the exit code a process stopped by `signal` reports (143, 130).
  static int exit_code(int signal) { return 128 + signal; }
  static const char* name(int signal);

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Request request_ = MPI_REQUEST_NULL;
  int local_ = 0, agreed_ = 0;
};

}  // namespace roost::train
