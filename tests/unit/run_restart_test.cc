// run_restart_test.cc — restart planning: host lists in the three syntaxes, where a restart
// goes (slots, procs per node, min/max np), the resume arguments, the policy's checks and
// RUN/launch.json's round trip. The relaunch itself: tests/e2e/restart_test.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "roost/core/error.h"
#include "roost/run/restart.h"

namespace fs = std::filesystem;

namespace roost::run {
namespace {

LaunchConfig hosts_launch(int np, int ppn = 0) {
  LaunchConfig c;
  c.target = Target::kHosts;
  c.np = np;
  c.procs_per_node = ppn;
  c.hostfile = "/etc/hosts.mpi";
  c.train_args = {"--data-dir", "/d", "--resume", "/old.h5", "--epochs", "3"};
  return c;
}

TEST(RestartHosts, ParsesDiscoveryLinesHostfilesAndLists) {
  auto d = parse_host_lines("node1:2\n\n# spare\nnode2\n  10.0.0.3:4  \n");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].host, "node1");
  EXPECT_EQ(d[0].slots, 2);
  EXPECT_EQ(d[1].slots, 1);
  EXPECT_EQ(d[2].host, "10.0.0.3");
  EXPECT_EQ(d[2].slots, 4);
  auto f = parse_hostfile("a slots=2 max_slots=4\nb # one slot\n\n");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].slots, 2);
  EXPECT_EQ(f[1].host, "b");
  EXPECT_EQ(f[1].slots, 1);
  EXPECT_EQ(host_list(parse_host_list("a:2,b")), "a:2,b:1");
  EXPECT_THROW(parse_host_lines("node1:zero\n"), UsageError);
  EXPECT_THROW(parse_host_lines("node1:0\n"), UsageError);
  EXPECT_THROW(parse_host_lines("two words\n"), UsageError);
}

TEST(RestartPlan, ClampsToMaxNpAndProcsPerNode) {
  RestartPolicy p;
  p.max_restarts = 3;
  LaunchConfig first = hosts_launch(4, 2);
  check_restart_policy(p, first);  // min = max = 4
  EXPECT_EQ(p.min_np, 4);
  p.min_np = 2;
  RestartPlan plan = plan_restart(first, p, {{"a", 8}, {"b", 1}, {"c", 2}});
  ASSERT_TRUE(plan.possible) << plan.reason;
  EXPECT_EQ(plan.launch.np, 4);
  EXPECT_EQ(plan.launch.hosts, "a:2,b:1,c:1");
  EXPECT_EQ(plan.launch.nodes, 3);
  EXPECT_TRUE(plan.launch.hostfile.empty());
  EXPECT_EQ(plan.reason, "np 4 on a:2,b:1,c:1");
  plan = plan_restart(first, p, {{"b", 1}, {"c", 2}});
  ASSERT_TRUE(plan.possible);
  EXPECT_EQ(plan.launch.np, 3);
}

TEST(RestartPlan, BelowMinNpIsNotPossibleAndSaysWhy) {
  RestartPolicy p;
  p.max_restarts = 1;
  p.min_np = 3;
  LaunchConfig first = hosts_launch(4);
  check_restart_policy(p, first);
  RestartPlan plan = plan_restart(first, p, {{"a", 2}});
  EXPECT_FALSE(plan.possible);
  EXPECT_EQ(plan.reason, "2 slots available (a:2), --min-np is 3");
  EXPECT_FALSE(plan_restart(first, p, {}).possible);
}

TEST(RestartPlan, ResumesFromTheNewestCheckpoint) {
  EXPECT_EQ(with_resume_auto({"--epochs", "2", "--resume", "x.h5", "--lr", "0.1"}),
            (std::vector<std::string>{"--epochs", "2", "--lr", "0.1", "--resume", "auto"}));
  EXPECT_EQ(with_resume_auto({"--resume=x.h5"}), (std::vector<std::string>{"--resume", "auto"}));
  RestartPolicy p;
  p.max_restarts = 1;
  LaunchConfig local;
  local.np = 2;
  local.train_args = {"--epochs", "2"};
  check_restart_policy(p, local);
  std::string why;
  const RestartPlan plan = plan_restart(local, p, available_hosts(local, p, why));
  ASSERT_TRUE(plan.possible);
  EXPECT_EQ(plan.launch.np, 2);
  EXPECT_EQ(plan.launch.train_args.back(), "auto");
  EXPECT_EQ(plan.reason, "np 2 on this machine");
}

TEST(RestartPolicyCheck, RefusesWhatCannotWork) {
  LaunchConfig local;
  local.np = 2;
  RestartPolicy p;
  p.max_restarts = -1;
  EXPECT_THROW(check_restart_policy(p, local), UsageError);
  p = {};
  p.min_np = 3;
  p.max_np = 2;
  EXPECT_THROW(check_restart_policy(p, local), UsageError);
  p = {};
  p.discovery_script = "/bin/true";
  EXPECT_THROW(check_restart_policy(p, local), UsageError);  // hosts only
  LaunchConfig slurm = local;
  slurm.target = Target::kSlurm;
  p = {};
  p.max_restarts = 1;
  EXPECT_THROW(check_restart_policy(p, slurm), UsageError);
  LaunchConfig hosts = hosts_launch(2);
  p = {};
  p.discovery_script = "/nonexistent/discover";
  EXPECT_THROW(check_restart_policy(p, hosts), UsageError);
}

TEST(RestartDiscovery, RunsTheScriptAndReportsItsFailure) {
  const fs::path dir = fs::temp_directory_path() / ("roost-restart-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string good = (dir / "good.sh").string(), bad = (dir / "bad.sh").string();
  std::ofstream(good) << "#!/bin/sh\necho n1:2\necho n2\n";
  std::ofstream(bad) << "#!/bin/sh\nexit 3\n";
  fs::permissions(good, fs::perms::owner_all);
  fs::permissions(bad, fs::perms::owner_all);
  RestartPolicy p;
  p.discovery_script = good;
  std::string why;
  auto hosts = available_hosts(hosts_launch(2), p, why);
  EXPECT_EQ(host_list(hosts), "n1:2,n2:1");
  EXPECT_EQ(why, "discovered n1:2,n2:1");
  p.discovery_script = bad;
  EXPECT_TRUE(available_hosts(hosts_launch(2), p, why).empty());
  EXPECT_NE(why.find("exited with status 3"), std::string::npos) << why;
  fs::remove_all(dir);
}

TEST(RestartLaunchFile, RoundTrips) {
  const fs::path dir = fs::temp_directory_path() / ("roost-launch-" + std::to_string(getpid()));
  fs::create_directories(dir);
  LaunchConfig l = hosts_launch(3, 1);
  l.mpirun_args = {"--oversubscribe"};
  l.run_dir = dir.string();
  RestartPolicy p;
  p.max_restarts = 2;
  p.min_np = 1;
  p.max_np = 3;
  p.discovery_script = "/opt/discover";
  write_launch_file(dir.string(), l, p);
  LaunchConfig l2;
  RestartPolicy p2;
  read_launch_file(dir.string(), l2, p2);
  EXPECT_EQ(l2.target, Target::kHosts);
  EXPECT_EQ(l2.np, 3);
  EXPECT_EQ(l2.procs_per_node, 1);
  EXPECT_EQ(l2.hostfile, l.hostfile);
  EXPECT_EQ(l2.mpirun_args, l.mpirun_args);
  EXPECT_EQ(l2.train_args, l.train_args);
  EXPECT_EQ(p2.max_restarts, 2);
  EXPECT_EQ(p2.min_np, 1);
  EXPECT_EQ(p2.discovery_script, "/opt/discover");
  std::ofstream(dir / "launch.json") << "{\"target\": \"hosts\"}";
  EXPECT_THROW(read_launch_file(dir.string(), l2, p2), Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace roost::run
