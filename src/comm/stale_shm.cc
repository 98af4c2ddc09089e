// stale_shm.cc — see stale_shm.h.
#include "stale_shm.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>

namespace roost::comm::detail {
namespace {

constexpr const char* kPrefix = "roost-";

// The creator's pid of a name map_node_shared made ("roost-PID-SERIAL-NONCE", no slash), or
// -1 for any other name.
long creator_of(const char* name) {
  long pid = -1;
  int serial = -1, end = 0;
  unsigned nonce = 0;
  if (std::sscanf(name, "roost-%ld-%d-%8x%n", &pid, &serial, &nonce, &end) != 3) return -1;
  if (name[end] != '\0' || pid <= 0 || serial < 0) return -1;
  return pid;
}

bool process_gone(long pid) { return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

}  // namespace

std::string node_shared_name(long pid, int serial, unsigned nonce) {
  char name[64];
  std::snprintf(name, sizeof name, "/%s%ld-%d-%08x", kPrefix, pid, serial, nonce);
  return name;
}

int remove_stale_node_shared(const std::string& directory, double min_age_s) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(directory.c_str()), closedir);
  if (!dir) return 0;
  const time_t now = std::time(nullptr);
  int removed = 0;
  while (const dirent* entry = readdir(dir.get())) {
    const long pid = creator_of(entry->d_name);
    if (pid < 0 || !process_gone(pid)) continue;
    const std::string path = directory + "/" + entry->d_name;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) continue;
    if (std::difftime(now, st.st_mtime) < min_age_s) continue;
    if (unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace roost::comm::detail
