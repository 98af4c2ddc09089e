// roost/train/preemption.cc — signal flag and its agreement across ranks (see preemption.h).
#include "roost/train/preemption.h"

#include <atomic>
#include <csignal>
#include <exception>

#include "roost/comm/mpi_scope.h"

namespace roost::train {

namespace {
std::atomic<int> g_signal{0};
std::atomic<int> g_count{0};
bool g_relay = false;  // set before the handlers are installed, read-only after
constexpr int kWatched[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
struct sigaction g_old[4];

// The first signal asks for the stop. A second one (a launcher that repeats SIGTERM, a
// user's second Ctrl-C) arrives while the step checkpoint may be being written: ending
// the process then would lose the stop's checkpoint, so it is absorbed too. Only a third
// gets the default action.
constexpr int kAbsorbed = 2;

// Under `roost launch` (or the submit layer) mpirun cannot pass SIGTERM or SIGINT on as
// such: it delays them and kills the ranks a second later. The launcher relays them as
// SIGUSR1 / SIGUSR2, which mpirun forwards at once; the ranks name the original signal.
int as_received(int sig) {
  if (!g_relay) return sig;
  if (sig == SIGUSR1) return SIGTERM;
  if (sig == SIGUSR2) return SIGINT;
  return sig;
}

extern "C" void on_signal(int sig) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, as_received(sig));
  if (g_count.fetch_add(1) + 1 < kAbsorbed) return;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s : kWatched) sigaction(s, &dfl, nullptr);
}
}  // namespace

PreemptionWatch::PreemptionWatch(MPI_Comm comm, bool relayed) {
  MPI_CHECK(MPI_Comm_dup(comm, &comm_));
  g_signal = 0;
  g_count = 0;
  g_relay = relayed;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int i = 0; i < 4; ++i) sigaction(kWatched[i], &sa, &g_old[i]);
}

PreemptionWatch::~PreemptionWatch() {
  for (int i = 0; i < 4; ++i) sigaction(kWatched[i], &g_old[i], nullptr);
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
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default: return "a signal";
  }
}

}  // namespace roost::train
