// roost/train/preemption.cc — signal flag and its agreement across ranks (see preemption.h).
#include "roost/train/preemption.h"

#include <atomic>
#include <csignal>
#include <exception>

#include "roost/core/mpi_scope.h"

namespace roost::train {

namespace {
std::atomic<int> g_signal{0};
struct sigaction g_old_term, g_old_int;

extern "C" void on_signal(int sig) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
  // The next one of this kind ends the process the usual way.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
}
}  // namespace

PreemptionWatch::PreemptionWatch(MPI_Comm comm) {
  MPI_CHECK(MPI_Comm_dup(comm, &comm_));
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, &g_old_term);
  sigaction(SIGINT, &sa, &g_old_int);
}

PreemptionWatch::~PreemptionWatch() {
  sigaction(SIGTERM, &g_old_term, nullptr);
  sigaction(SIGINT, &g_old_int, nullptr);
  // Unwinding from an error (a stalled or failed rank): the agreement may never complete
  // and the job is about to be aborted, so leave it rather than wait forever.
  if (std::uncaught_exceptions() > 0) return;
  if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void PreemptionWatch::begin_step() {
  if (request_ != MPI_REQUEST_NULL) return;
  local_ = g_signal.load();
  MPI_CHECK(MPI_Iallreduce(&local_, &agreed_, 1, MPI_INT, MPI_MAX, comm_, &request_));
}

int PreemptionWatch::end_step() {
  if (request_ == MPI_REQUEST_NULL) return 0;
  MPI_CHECK(MPI_Wait(&request_, MPI_STATUS_IGNORE));
  return agreed_;
}

int PreemptionWatch::agree_now() {
  begin_step();
  return end_step();
}

const char* PreemptionWatch::name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    default: return "a signal";
  }
}

}  // namespace roost::train
