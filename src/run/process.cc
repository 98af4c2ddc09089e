// process.cc — fork/exec helpers for the launch layer.
#include "roost/run/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "roost/core/error.h"

namespace roost::run {

namespace {
std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// In the child after fork: only async-signal-safe calls until exec. A failure to exec is
// reported through the close-on-exec pipe `err_fd` as the errno value.
[[noreturn]] void exec_child(const std::vector<char*>& argv, const SpawnOptions& o, int out_fd, int err_fd) {
  if (o.new_session) setsid();
  if (o.new_process_group) setpgid(0, 0);
  if (o.null_stdin) {
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) dup2(in, 0);
  }
  if (out_fd >= 0) {
    dup2(out_fd, 1);
    dup2(out_fd, 2);
  }
  // Nothing else of ours reaches the program: a detached monitor must not keep the caller's
  // files and pipes open (a test harness waits for those to close).
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  // The job must not inherit a SIGINT/SIGTERM disposition roost changed.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  execvp(argv[0], argv.data());
  int e = errno;
  if (write(err_fd, &e, sizeof e) < 0) {
  }
  _exit(127);
}
}  // namespace

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& o) {
  ROOST_CHECK(!argv.empty(), "empty command");
  int out_fd = -1;
  if (!o.output_path.empty()) {
    out_fd = open(o.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) ROOST_THROW("cannot open ", o.output_path, ": ", std::strerror(errno));
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) ROOST_THROW("pipe: ", std::strerror(errno));
  std::vector<char*> args = c_argv(argv);
  pid_t pid = fork();
  if (pid < 0) ROOST_THROW("fork: ", std::strerror(errno));
  if (pid == 0) exec_child(args, o, out_fd, pipe_fds[1]);
  // Also from the parent: the group exists before anyone may signal it (no race with kill(-pgid)).
  if (o.new_process_group) setpgid(pid, pid);
  close(pipe_fds[1]);
  if (out_fd >= 0) close(out_fd);
  int child_errno = 0;
  ssize_t n = read(pipe_fds[0], &child_errno, sizeof child_errno);
  close(pipe_fds[0]);
  if (n == sizeof child_errno) {
    waitpid(pid, nullptr, 0);
    ROOST_THROW("cannot run ", argv[0], ": ", std::strerror(child_errno));
  }
  return pid;
}

std::optional<int> wait_child(pid_t pid, bool block) {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return std::nullopt;
  if (r < 0) ROOST_THROW("waitpid ", pid, ": ", std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

CommandOutput run_command(const std::vector<std::string>& argv, double timeout_s) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) ROOST_THROW("pipe: ", std::strerror(errno));
  SpawnOptions o;
  // spawn() redirects to a path; a pipe is passed as /proc/self/fd/N, which the child opens.
  o.output_path = "/proc/self/fd/" + std::to_string(fds[1]);
  pid_t pid;
  try {
    pid = spawn(argv, o);
  } catch (...) {
    close(fds[0]);
    close(fds[1]);
    throw;
  }
  close(fds[1]);
  CommandOutput out;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  bool timed_out = false;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  out.status = *wait_child(pid, true);
  if (timed_out) out.status = 124;
  return out;
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");  // the search execvp would do
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return "";
}

std::string self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) ROOST_THROW("cannot find roost's own executable: ", ec.message());
  return p.string();
}

bool process_alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace roost::run
