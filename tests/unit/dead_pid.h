// dead_pid.h — a pid that no process has right now, for tests of what a dead process left
// behind (included by the unit and MPI tests).
#pragma once

#include <signal.h>

#include <cerrno>
#include <fstream>

namespace roost::testing {

// Counting down from the kernel's largest pid; -1 if every one is taken.
inline long dead_pid() {
  long max = 32768;
  std::ifstream("/proc/sys/kernel/pid_max") >> max;
  for (long pid = max - 1; pid > 1; --pid)
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return pid;
  return -1;
}

}  // namespace roost::testing
