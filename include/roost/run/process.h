// roost/run/process.h — starting and watching child processes for the launch layer: a job in
// its own process group (so cancel reaches mpirun and every rank it started), a detached
// monitor in its own session (so it outlives `roost submit` and the terminal), and short
// commands whose output is read (sbatch, scontrol).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace roost::run {

struct SpawnOptions {
  bool new_process_group = false;  // setpgid(0, 0): the child leads a group of its own
  bool new_session = false;        // setsid(): no controlling terminal, survives the parent
  std::string output_path;         // stdout and stderr appended here; empty = inherited
  bool null_stdin = true;
};

// fork + exec (PATH is searched); Error naming the program when it cannot be started.
pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

// Exit status of a child: its exit code, or 128 + signal number. std::nullopt while it runs
// when `block` is false.
std::optional<int> wait_child(pid_t pid, bool block);

struct CommandOutput {
  int status = 0;      // as wait_child; 124 when the time limit ended it
  std::string output;  // stdout and stderr together
};
// Runs a short command to completion and returns what it printed. After timeout_s the command
// is killed (scontrol retries for minutes when the controller is away; the monitor must not
// hang on it).
CommandOutput run_command(const std::vector<std::string>& argv, double timeout_s = 60);

// The absolute path of `name` found on PATH, or empty.
std::string find_program(const std::string& name);

// This process's executable (/proc/self/exe).
std::string self_executable();

// True while a process with this pid exists.
bool process_alive(pid_t pid);

}  // namespace roost::run
