// run_launch_test.cc — the launch layer's pure parts: target names, the checks of a launch
// configuration, the mpirun command line for local and hosts, the sbatch script, shell quoting,
// the failing-rank search and following a growing file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "roost/core/error.h"
#include "roost/run/follow.h"
#include "roost/run/launch.h"
#include "roost/run/monitor.h"
#include "roost/run/process.h"

namespace fs = std::filesystem;

namespace roost::run {
namespace {

LaunchConfig base(Target t) {
  LaunchConfig c;
  c.target = t;
  c.roost_binary = "/opt/roost/bin/roost";
  c.train_args = {"--data-dir", "/data/fashion two", "--epochs", "2"};
  c.run_dir = "/ws/experiments/e/runs/7";
  return c;
}

bool contains(const std::vector<std::string>& v, const std::vector<std::string>& seq) {
  return std::search(v.begin(), v.end(), seq.begin(), seq.end()) != v.end();
}

TEST(Launch, Targets) {
  EXPECT_EQ(parse_target("local"), Target::kLocal);
  EXPECT_EQ(parse_target("hosts"), Target::kHosts);
  EXPECT_EQ(parse_target("slurm"), Target::kSlurm);
  EXPECT_THROW(parse_target("kubernetes"), UsageError);
}

TEST(Launch, LocalCommand) {
  LaunchConfig c = base(Target::kLocal);
  c.np = 2;
  c.mpirun_args = {"--oversubscribe"};
  check_launch(c);
  auto argv = mpirun_command(c);
  EXPECT_EQ(argv[0], "mpirun");
  // The ranks take the SIGUSR1 of `roost runs cancel` as SIGTERM (mpirun forwards only it at once).
  EXPECT_TRUE(contains(argv, {"-np", "2", "--oversubscribe", "-x", "ROOST_SIGNAL_RELAY=1", "/bin/sh", "-c"}));
  EXPECT_TRUE(
      contains(argv, {"roost-rank", "/ws/experiments/e/runs/7/logs", "/opt/roost/bin/roost", "train", "--data-dir",
                      "/data/fashion two", "--epochs", "2", "--output-dir", "/ws/experiments/e/runs/7/outputs"}));
  EXPECT_FALSE(contains(argv, {"--map-by"}));
  LaunchConfig d = base(Target::kLocal);
  check_launch(d);
  EXPECT_EQ(d.np, 1);
  LaunchConfig e = base(Target::kLocal);
  e.hostfile = "h";
  EXPECT_THROW(check_launch(e), UsageError);
}

TEST(Launch, HostsCommand) {
  const std::string hostfile = ::testing::TempDir() + "/roost_hostfile_" + std::to_string(getpid());
  std::ofstream(hostfile) << "node1 slots=4\nnode2 slots=4\n";
  LaunchConfig c = base(Target::kHosts);
  c.nodes = 2;
  c.procs_per_node = 4;
  c.hostfile = hostfile;
  check_launch(c);
  EXPECT_EQ(c.np, 8);
  auto argv = mpirun_command(c);
  EXPECT_TRUE(contains(argv, {"-np", "8", "--hostfile", hostfile, "--map-by", "ppr:4:node"}));

  LaunchConfig h = base(Target::kHosts);
  h.hosts = "a:2,b:2";
  h.procs_per_node = 2;
  h.nodes = 2;
  check_launch(h);
  EXPECT_TRUE(contains(mpirun_command(h), {"-np", "4", "-H", "a:2,b:2", "--map-by", "ppr:2:node"}));

  LaunchConfig none = base(Target::kHosts);
  EXPECT_THROW(check_launch(none), UsageError);
  LaunchConfig missing = base(Target::kHosts);
  missing.hostfile = hostfile + ".missing";
  EXPECT_THROW(check_launch(missing), UsageError);
  LaunchConfig mismatch = base(Target::kHosts);
  mismatch.hostfile = hostfile;
  mismatch.np = 3;
  mismatch.nodes = 2;
  mismatch.procs_per_node = 2;
  EXPECT_THROW(check_launch(mismatch), UsageError);
  fs::remove(hostfile);
}

TEST(Launch, SbatchScript) {
  LaunchConfig c = base(Target::kSlurm);
  c.nodes = 2;
  c.procs_per_node = 4;
  c.gpus_per_node = 4;
  c.partition = "gpu";
  c.time_limit = "01:00:00";
  c.job_name = "roost-e-7";
  c.sbatch_args = {"--exclusive"};
  check_launch(c);
  const std::string s = sbatch_script(c);
  for (const char* line :
       {"#!/bin/bash\n", "#SBATCH --job-name=roost-e-7\n", "#SBATCH --nodes=2\n", "#SBATCH --ntasks-per-node=4\n",
        "#SBATCH --gres=gpu:4\n", "#SBATCH --partition=gpu\n", "#SBATCH --time=01:00:00\n", "#SBATCH --exclusive\n",
        "#SBATCH --output=/ws/experiments/e/runs/7/logs/driver.log\n",
        "echo $rc > /ws/experiments/e/runs/7/exit-status\n"})
    EXPECT_NE(s.find(line), std::string::npos) << "missing " << line << " in\n" << s;
  EXPECT_NE(
      s.find("mpirun -np 8 --map-by ppr:4:node --mca odls_base_sigkill_timeout 30 -x ROOST_SIGNAL_RELAY=1 /bin/sh -c"),
      std::string::npos)
      << s;
  EXPECT_NE(s.find("'/data/fashion two'"), std::string::npos) << s;
  // Every #SBATCH line comes before the first command, or sbatch ignores it.
  EXPECT_LT(s.rfind("#SBATCH"), s.find("\necho"));

  LaunchConfig one = base(Target::kSlurm);
  one.np = 2;
  check_launch(one);
  EXPECT_NE(sbatch_script(one).find("#SBATCH --ntasks=2\n"), std::string::npos);
  LaunchConfig hosts = base(Target::kSlurm);
  hosts.hosts = "a,b";
  EXPECT_THROW(check_launch(hosts), UsageError);
}

TEST(Launch, ShellQuoting) {
  EXPECT_EQ(shell_quote("plain-word_1.h5"), "plain-word_1.h5");
  EXPECT_EQ(shell_quote("two words"), "'two words'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_join({"a", "b c", "$HOME"}), "a 'b c' '$HOME'");
  // What the shell reads back is the original argv.
  CommandOutput out = run_command({"/bin/sh", "-c", "printf '%s|' " + shell_join({"x y", "it's", "$HOME", "\\n"})});
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.output, "x y|it's|$HOME|\\n|");
}

TEST(Launch, RankWrapperWritesLogsAndExitStatus) {
  const std::string dir = ::testing::TempDir() + "/roost_wrapper_" + std::to_string(getpid());
  fs::create_directories(dir + "/logs");
  LaunchConfig c = base(Target::kLocal);
  c.run_dir = dir;
  c.roost_binary = "/bin/sh";
  c.train_args = {};
  check_launch(c);
  auto argv = mpirun_command(c);
  // Run the wrapper without mpirun, as rank 3: the "roost" is sh running a script that fails.
  auto wrapper = std::find(argv.begin(), argv.end(), "/bin/sh");
  std::vector<std::string> cmd = {"/usr/bin/env", "OMPI_COMM_WORLD_RANK=3",
                                  "/bin/sh",      "-c",
                                  *(wrapper + 2), "roost-rank",
                                  dir + "/logs",  "/bin/sh",
                                  "-c",           "echo hello; echo oops >&2; exit 5"};
  EXPECT_EQ(run_command(cmd).status, 5);
  std::ifstream log(dir + "/logs/rank-3.log");
  std::string all((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "hello\noops\n");
  FailedRank f = find_failed_rank(dir);
  EXPECT_EQ(f.rank, 3);
  EXPECT_EQ(f.status, 5);
  EXPECT_EQ(f.log_path, dir + "/logs/rank-3.log");
  fs::remove_all(dir);
}

TEST(Launch, FailedRankPrefersTheCauseOverKilledRanks) {
  const std::string dir = ::testing::TempDir() + "/roost_failed_" + std::to_string(getpid());
  fs::create_directories(dir + "/logs");
  std::ofstream(dir + "/logs/rank-0.exit") << "143\n";
  std::ofstream(dir + "/logs/rank-1.exit") << "0\n";
  std::ofstream(dir + "/logs/rank-2.exit") << "2\n";
  EXPECT_EQ(find_failed_rank(dir).rank, 2);
  fs::remove(dir + "/logs/rank-2.exit");
  EXPECT_EQ(find_failed_rank(dir).rank, 0);
  fs::remove(dir + "/logs/rank-0.exit");
  EXPECT_EQ(find_failed_rank(dir).rank, -1);
  fs::remove_all(dir);
}

TEST(Follow, GrowingAndReplacedFile) {
  const std::string path = ::testing::TempDir() + "/roost_follow_" + std::to_string(getpid());
  FileFollower f(path);
  EXPECT_TRUE(f.read_new_lines().empty());  // not there yet
  { std::ofstream(path) << "one\ntw"; }
  EXPECT_EQ(f.read_new_lines(), std::vector<std::string>{"one"});
  { std::ofstream(path, std::ios::app) << "o\nthree\n"; }
  EXPECT_EQ(f.read_new_lines(), (std::vector<std::string>{"two", "three"}));
  { std::ofstream(path) << "x\n"; }  // replaced by a shorter file
  EXPECT_EQ(f.read_new_lines(), std::vector<std::string>{"x"});
  { std::ofstream(path) << "1\n2\n3\n4\n"; }
  EXPECT_EQ(last_lines(path, 2), "3\n4\n");
  EXPECT_EQ(last_lines(path, 10), "1\n2\n3\n4\n");
  fs::remove(path);
}

TEST(Process, SpawnReportsAMissingProgram) {
  EXPECT_THROW(spawn({"/nonexistent/roost-program"}, SpawnOptions{}), Error);
  EXPECT_FALSE(find_program("sh").empty());
  EXPECT_TRUE(find_program("roost-no-such-program").empty());
  pid_t pid = spawn({"/bin/sh", "-c", "exit 4"}, SpawnOptions{});
  EXPECT_EQ(wait_child(pid, true), 4);
}

TEST(Process, CommandTimeLimit) {
  const auto start = std::chrono::steady_clock::now();
  CommandOutput out = run_command({"/bin/sh", "-c", "echo started; exec sleep 30"}, 0.5);
  EXPECT_EQ(out.status, 124);
  EXPECT_EQ(out.output, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Process, ChildrenDoNotInheritDescriptors) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // deliberately without O_CLOEXEC
  CommandOutput out = run_command({"/bin/sh", "-c", "ls /proc/self/fd"});
  close(fds[0]);
  close(fds[1]);
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.output.find(std::to_string(fds[1]) + "\n"), std::string::npos) << out.output;
}

}  // namespace
}  // namespace roost::run
