// roost/core/mpi_yield.cc — the yield-when-idle choice made before MPI_Init (see the header).
#include "roost/core/mpi_yield.h"

#include <cstdlib>
#include <thread>

#include "roost/core/error.h"

namespace roost {

namespace {
// A launcher's count of ranks on this node, or 0 when it gives none (or nonsense).
int env_count(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (*end == '\0' && n > 0 && n < 1'000'000) ? static_cast<int>(n) : 0;
}
}  // namespace

bool mpi_yield_wanted(const std::string& mode, int local_ranks, int threads_per_rank, int cores) {
  if (mode == "on") return true;
  if (mode == "off") return false;
  ROOST_USAGE_CHECK(mode == "auto", "--mpi-yield must be auto, on or off (got '", mode, "')");
  if (local_ranks < 2) return false;  // nobody to steal from: spinning only lowers latency
  if (threads_per_rank <= 0 || cores <= 0) return true;
  return static_cast<long>(local_ranks) * threads_per_rank >= cores;
}

std::string apply_mpi_yield(const std::string& mode, int threads_per_rank) {
  const char* kVar = "OMPI_MCA_mpi_yield_when_idle";
  if (const char* set = std::getenv(kVar); set != nullptr && *set != '\0') return set;
  int local = env_count("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (local == 0) local = env_count("SLURM_NTASKS_PER_NODE");
  if (local == 0) local = 1;
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (!mpi_yield_wanted(mode, local, threads_per_rank, cores)) return "default";
  setenv(kVar, "1", 1);
  return "1";
}

}  // namespace roost
