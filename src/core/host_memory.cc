// roost/core/host_memory.cc — glibc malloc thresholds fixed at start-up (see host_memory.h).
#include "roost/core/host_memory.h"

#include <malloc.h>

#include <cstdlib>

namespace roost {

bool user_tunes_malloc(const std::string& glibc_tunables) {
  return glibc_tunables.find("glibc.malloc.") != std::string::npos;
}

bool keep_freed_host_memory() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && user_tunes_malloc(tunables)) return false;
  // 32 MiB is the largest mmap threshold glibc accepts on 64-bit hosts (half its per-thread
  // heap size); setting it also stops glibc's own adjustment of both thresholds.
  const bool mmap_set = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
  const bool trim_set = mallopt(M_TRIM_THRESHOLD, 512 << 20) == 1;
  return mmap_set && trim_set;
}

}  // namespace roost
