// launch_cmd.cc — `roost launch`: runs mpirun for a roost command and makes the signals a
// launcher gets (docker stop, a Kubernetes launcher pod, a batch script, Ctrl-C) stop the
// job the way a signal to a rank does: after the current step, with a checkpoint.
//
// Why a wrapper: Open MPI 4.1's mpirun does not pass SIGTERM or SIGINT on. It sends the
// ranks SIGCONT, then SIGTERM odls_base_sigkill_timeout (1 s) later, then SIGKILL another
// second later, and exits 1 whatever the ranks did; a second signal makes it exit at once
// and orphan the ranks. It forwards SIGUSR1 and SIGUSR2 at once, though, and then exits
// with the ranks' own status. So this wrapper keeps mpirun out of the terminal's process
// group, takes SIGTERM/SIGHUP and SIGINT itself and relays the first as SIGUSR1 or SIGUSR2;
// the ranks (told by ROOST_SIGNAL_RELAY=1) stop as they would on SIGTERM or SIGINT and
// exit 143 or 130, which mpirun and then this command return. A second signal is only
// reported; a third kills the job at once.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "roost/core/error.h"

namespace roost::cli {

namespace {
const char* kLaunchUsage =
    "roost launch — run a roost command under mpirun so that SIGTERM, SIGINT and SIGHUP stop it\n"
    "cleanly (the ranks finish their step, rank 0 writes a checkpoint, last.h5 and summary.json)\n"
    "\n"
    "Usage: roost launch [--mpirun PATH] [MPIRUN OPTIONS...] -- train [TRAIN OPTIONS...]\n"
    "       roost launch [--mpirun PATH] [MPIRUN OPTIONS...] -- PROGRAM [ARGS...]\n"
    "  e.g. roost launch -np 4 --hostfile hosts -- train --data-dir D --output-dir OUT\n"
    "  PROGRAM (a path, roost, roost-entrypoint, env) is what each rank runs and must run roost\n"
    "  train; it gets ROOST_SIGNAL_RELAY=1 in its environment.\n"
    "\n"
    "Exit status: the job's (0, 143 after SIGTERM, 130 after SIGINT, 2 for bad input, ...);\n"
    "a second signal is reported and otherwise ignored, a third kills the job at once.\n";

const char* signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

pid_t start_mpirun(const std::vector<std::string>& args, const sigset_t& old_mask) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) ROOST_THROW("fork failed: ", std::strerror(errno));
  if (pid == 0) {
    // Its own process group: a terminal's Ctrl-C reaches this wrapper, not mpirun, which
    // would otherwise start its kill sequence. No stdin: a background group reading the
    // terminal would be stopped.
    setpgid(0, 0);
    const int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) signal(s, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    execvp(argv[0], argv.data());
    const char msg[] = "roost launch: error: cannot run mpirun\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  setpgid(pid, pid);
  return pid;
}

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}
}  // namespace

int launch_main(int argc, char** argv) {
  std::string mpirun = "mpirun";
  std::vector<std::string> mpirun_args, command;
  int i = 1;
  if (i < argc && (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0)) {
    std::cout << kLaunchUsage;
    return 0;
  }
  if (i + 1 < argc && std::strcmp(argv[i], "--mpirun") == 0) {
    mpirun = argv[i + 1];
    i += 2;
  }
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) mpirun_args.push_back(argv[i]);
  if (i >= argc) ROOST_USAGE_ERROR("no command: roost launch [MPIRUN OPTIONS] -- train [TRAIN OPTIONS]");
  for (++i; i < argc; ++i) command.push_back(argv[i]);
  if (command.empty()) ROOST_USAGE_ERROR("no command after --: roost launch [MPIRUN OPTIONS] -- train [TRAIN OPTIONS]");
  const std::string program = command[0];
  const bool is_roost_command = program.find('/') == std::string::npos && program != "roost" &&
                                program.rfind("roost-", 0) != 0 && program != "env";
  if (is_roost_command && program != "train")
    ROOST_USAGE_ERROR("roost launch runs `roost train`: give -- train [TRAIN OPTIONS] (got '", program, "')");

  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) ROOST_THROW("cannot find the roost executable (/proc/self/exe)");
  self[n] = '\0';
  setenv("ROOST_SIGNAL_RELAY", "1", 1);
  std::vector<std::string> args = {mpirun};
  args.insert(args.end(), mpirun_args.begin(), mpirun_args.end());
  args.insert(args.end(), {"-x", "ROOST_SIGNAL_RELAY"});
  // `train ...` is this roost's; anything else (roost-entrypoint train ..., a rank wrapper
  // script) is the program each rank runs, which must end up running roost train.
  if (program == "train") args.push_back(self);
  args.insert(args.end(), command.begin(), command.end());

  // The signals are taken synchronously (sigtimedwait), so no handler races the wait.
  sigset_t watched, old_mask;
  sigemptyset(&watched);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&watched, s);
  sigprocmask(SIG_BLOCK, &watched, &old_mask);
  const pid_t pid = start_mpirun(args, old_mask);

  int received = 0, count = 0, status = 0;
  const timespec tick{0, 200 * 1000 * 1000};
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    siginfo_t info;
    const int sig = sigtimedwait(&watched, &info, &tick);
    if (sig <= 0 || sig == SIGCHLD) continue;
    ++count;
    if (count == 1) {
      received = sig;
      std::cerr << "roost launch: " << signal_name(sig) << ": the ranks stop after their current step and "
                << "write a checkpoint (a third signal kills the job at once)" << std::endl;
      kill(pid, sig == SIGINT ? SIGUSR2 : SIGUSR1);
    } else if (count == 2) {
      std::cerr << "roost launch: " << signal_name(sig) << " again: still stopping (one more kills the job)"
                << std::endl;
    } else {
      std::cerr << "roost launch: " << signal_name(sig) << " a third time: killing the job" << std::endl;
      kill(pid, SIGTERM);  // mpirun's own kill sequence: SIGTERM then SIGKILL to the ranks
      kill(pid, SIGTERM);  // a second one makes it exit at once; the ranks lose their daemon and end
    }
  }
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  const int code = status_code(status);
  if (received && code == 0)
    std::cerr << "roost launch: the job had finished its last epoch when " << signal_name(received)
              << " arrived: it completed" << std::endl;
  return code;
}

}  // namespace roost::cli
