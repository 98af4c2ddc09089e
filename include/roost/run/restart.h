// roost/run/restart.h — restarting a failed job (`roost submit --max-restarts N`), the way
// torchrun and Horovod elastic do without fault-tolerant MPI: when a rank dies or a node goes,
// every rank is stopped and the job is launched again with `--resume auto` from its newest
// checkpoint, on the hosts still available and with the rank count clamped to [min_np, max_np].
// Pure functions of their inputs except available_hosts (which runs the discovery script or
// probes the hosts), so the planning is unit-tested without MPI.
#pragma once

#include <string>
#include <vector>

#include "roost/run/launch.h"

namespace roost::run {

struct RestartPolicy {
  int max_restarts = 0;  // 0: a failed job fails the run
  int min_np = 0;        // fewer ranks than this: the run fails (0: the first launch's np)
  int max_np = 0;        // never more ranks than this (0: the first launch's np)
  // Prints the hosts available now, one `host[:slots]` per line (Horovod's convention; slots
  // default to 1). Run before the first launch and before every restart.
  std::string discovery_script;
  double discovery_timeout_s = 30;
  double probe_timeout_s = 5;  // without a script: how long a host may take to answer the probe
};

struct HostSlots {
  std::string host;
  int slots = 1;
};

// `host[:slots]` lines (a discovery script's output; blank lines and # comments skipped).
// UsageError naming the line when one is malformed.
std::vector<HostSlots> parse_host_lines(const std::string& text);
// An Open MPI hostfile: `host [slots=N] [max_slots=M]` lines.
std::vector<HostSlots> parse_hostfile(const std::string& text);
// An -H list: host1:slots,host2,...
std::vector<HostSlots> parse_host_list(const std::string& list);
// The -H list of `hosts` (host:slots,...).
std::string host_list(const std::vector<HostSlots>& hosts);

// Fills in the policy's defaults from the first launch and checks it: UsageError naming the
// problem (negative counts, min above max, a restart policy on the slurm target, a discovery
// script on the local target or one that is not executable).
void check_restart_policy(RestartPolicy& policy, const LaunchConfig& launch);

// The hosts the job may run on now. Hosts target: the discovery script's lines; without one,
// the hostfile's or -H list's hosts that answer Open MPI's remote shell (the
// OMPI_MCA_plm_rsh_agent, else ssh) within probe_timeout_s. Local target: this machine with
// the first launch's np slots. `why` says what was found (for the restart's note).
std::vector<HostSlots> available_hosts(const LaunchConfig& first, const RestartPolicy& policy, std::string& why);

struct RestartPlan {
  bool possible = false;
  std::string reason;   // why not, or where the job goes ("np 1 on node1:1")
  LaunchConfig launch;  // the relaunch: np, -H list, train args ending in --resume auto
};

// Where the restart goes: np = min(max_np, the slots of `hosts`, with at most procs_per_node
// ranks per host where that is set); not possible below min_np.
RestartPlan plan_restart(const LaunchConfig& first, const RestartPolicy& policy, const std::vector<HostSlots>& hosts);

// `roost train` arguments that resume: any --resume (and its value) replaced by --resume auto.
std::vector<std::string> with_resume_auto(const std::vector<std::string>& train_args);

// RUN/launch.json: what the monitor needs to launch the job again.
void write_launch_file(const std::string& run_dir, const LaunchConfig& launch, const RestartPolicy& policy);
void read_launch_file(const std::string& run_dir, LaunchConfig& launch, RestartPolicy& policy);

}  // namespace roost::run
