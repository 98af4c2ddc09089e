// restart.cc — where a failed job may be launched again, and the command that does it.
#include "roost/run/restart.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/run/process.h"

namespace roost::run {

namespace {
using json = nlohmann::json;

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

int parse_slots(const std::string& word, const std::string& line) {
  char* end = nullptr;
  const long v = std::strtol(word.c_str(), &end, 10);
  if (word.empty() || *end != '\0' || v < 1 || v > 100000)
    ROOST_USAGE_ERROR("host line '", line, "': slots must be a positive whole number");
  return static_cast<int>(v);
}

HostSlots parse_host_slots(const std::string& item, const std::string& line) {
  HostSlots h;
  const size_t colon = item.rfind(':');
  h.host = colon == std::string::npos ? item : item.substr(0, colon);
  if (colon != std::string::npos) h.slots = parse_slots(item.substr(colon + 1), line);
  if (h.host.empty() || h.host.find_first_of(" \t") != std::string::npos)
    ROOST_USAGE_ERROR("host line '", line, "': expected host or host:slots");
  return h;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) ROOST_USAGE_ERROR("cannot read ", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool is_this_machine(const std::string& host) {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return host == "localhost" || host == "127.0.0.1" || host == "::1" || host == name;
}

// Open MPI's remote shell (the first of a `ssh : rsh` list), as words.
std::vector<std::string> rsh_agent() {
  const char* env = std::getenv("OMPI_MCA_plm_rsh_agent");
  std::string agent = env && *env ? env : "ssh";
  agent = trim(agent.substr(0, agent.find(':')));
  std::istringstream words(agent);
  std::vector<std::string> out;
  for (std::string w; words >> w;) out.push_back(w);
  return out;
}

bool answers(const std::string& host, double timeout_s) {
  if (is_this_machine(host)) return true;
  std::vector<std::string> argv = rsh_agent();
  const std::string program = argv[0].substr(argv[0].rfind('/') + 1);
  if (program == "ssh")
    argv.insert(argv.end(), {"-o", "BatchMode=yes", "-o", "ConnectTimeout=" + std::to_string(int(timeout_s + 0.5))});
  argv.insert(argv.end(), {host, "true"});
  try {
    return run_command(argv, timeout_s + 2).status == 0;
  } catch (const Error&) {
    return false;
  }
}

std::string describe(const std::vector<HostSlots>& hosts) { return hosts.empty() ? "no hosts" : host_list(hosts); }
}  // namespace

std::vector<HostSlots> parse_host_lines(const std::string& text) {
  std::vector<HostSlots> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::string t = trim(line.substr(0, line.find('#')));
    if (!t.empty()) out.push_back(parse_host_slots(t, t));
  }
  return out;
}

std::vector<HostSlots> parse_hostfile(const std::string& text) {
  std::vector<HostSlots> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(trim(line.substr(0, line.find('#'))));
    HostSlots h;
    if (!(words >> h.host)) continue;
    for (std::string w; words >> w;)
      if (w.rfind("slots=", 0) == 0) h.slots = parse_slots(w.substr(6), line);
    out.push_back(h);
  }
  return out;
}

std::vector<HostSlots> parse_host_list(const std::string& list) {
  std::vector<HostSlots> out;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!trim(item).empty()) out.push_back(parse_host_slots(trim(item), list));
  return out;
}

std::string host_list(const std::vector<HostSlots>& hosts) {
  std::string out;
  for (const auto& h : hosts) out += (out.empty() ? "" : ",") + h.host + ":" + std::to_string(h.slots);
  return out;
}

void check_restart_policy(RestartPolicy& p, const LaunchConfig& launch) {
  ROOST_USAGE_CHECK(p.max_restarts >= 0 && p.min_np >= 0 && p.max_np >= 0,
                    "--max-restarts, --min-np and --max-np must not be negative");
  const bool any = p.max_restarts > 0 || p.min_np > 0 || p.max_np > 0 || !p.discovery_script.empty();
  if (any && launch.target == Target::kSlurm)
    ROOST_USAGE_ERROR(
        "--max-restarts, --min-np, --max-np and --host-discovery-script belong to the local and hosts "
        "targets (on Slurm, requeue the job: --sbatch-arg=--requeue)");
  if (!p.discovery_script.empty()) {
    ROOST_USAGE_CHECK(launch.target == Target::kHosts, "--host-discovery-script belongs to --target hosts");
    ROOST_USAGE_CHECK(access(p.discovery_script.c_str(), X_OK) == 0, "--host-discovery-script ", p.discovery_script,
                      ": missing or not executable");
  }
  if (p.max_np == 0) p.max_np = std::max(launch.np, p.min_np);
  if (p.min_np == 0) p.min_np = std::min(launch.np, p.max_np);
  ROOST_USAGE_CHECK(p.min_np <= p.max_np, "--min-np ", p.min_np, " is above --max-np ", p.max_np);
  if (launch.np > 0)
    ROOST_USAGE_CHECK(launch.np >= p.min_np && launch.np <= p.max_np, "--np ", launch.np, " is outside --min-np ",
                      p.min_np, " .. --max-np ", p.max_np);
}

std::vector<HostSlots> available_hosts(const LaunchConfig& first, const RestartPolicy& p, std::string& why) {
  if (first.target == Target::kLocal) {
    why = "this machine";
    return {{"localhost", first.np}};
  }
  if (!p.discovery_script.empty()) {
    const CommandOutput out = run_command({p.discovery_script}, p.discovery_timeout_s);
    if (out.status != 0) {
      why = "the discovery script " + p.discovery_script + " exited with status " + std::to_string(out.status);
      return {};
    }
    std::vector<HostSlots> hosts = parse_host_lines(out.output);
    why = "discovered " + describe(hosts);
    return hosts;
  }
  const std::vector<HostSlots> listed =
      first.hostfile.empty() ? parse_host_list(first.hosts) : parse_hostfile(read_text(first.hostfile));
  std::vector<HostSlots> up;
  std::vector<std::string> down;
  for (const auto& h : listed)
    if (answers(h.host, p.probe_timeout_s)) up.push_back(h);
    else down.push_back(h.host);
  why = down.empty() ? "all hosts answer" : "not answering: ";
  for (size_t i = 0; i < down.size(); ++i) why += (i ? ", " : "") + down[i];
  return up;
}

RestartPlan plan_restart(const LaunchConfig& first, const RestartPolicy& p, const std::vector<HostSlots>& hosts) {
  RestartPlan plan;
  plan.launch = first;
  std::vector<HostSlots> used;
  int slots = 0;
  for (const auto& h : hosts) {
    if (slots >= p.max_np) break;
    HostSlots u = h;
    if (first.procs_per_node > 0) u.slots = std::min(u.slots, first.procs_per_node);
    u.slots = std::min(u.slots, p.max_np - slots);
    slots += u.slots;
    used.push_back(u);
  }
  if (slots < p.min_np) {
    plan.reason = std::to_string(slots) + " slot" + (slots == 1 ? "" : "s") + " available (" + describe(hosts) +
                  "), --min-np is " + std::to_string(p.min_np);
    return plan;
  }
  plan.possible = true;
  plan.launch.np = slots;
  plan.launch.train_args = with_resume_auto(first.train_args);
  if (first.target == Target::kHosts) {
    plan.launch.hostfile.clear();
    plan.launch.hosts = host_list(used);
    plan.launch.nodes = static_cast<int>(used.size());
    plan.reason = "np " + std::to_string(slots) + " on " + plan.launch.hosts;
  } else {
    plan.reason = "np " + std::to_string(slots) + " on this machine";
  }
  return plan;
}

std::vector<std::string> with_resume_auto(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--resume") {
      ++i;  // and its value
      continue;
    }
    if (args[i].rfind("--resume=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  out.insert(out.end(), {"--resume", "auto"});
  return out;
}

void write_launch_file(const std::string& run_dir, const LaunchConfig& l, const RestartPolicy& p) {
  json j = {{"target", to_string(l.target)},
            {"np", l.np},
            {"nodes", l.nodes},
            {"procs_per_node", l.procs_per_node},
            {"hostfile", l.hostfile},
            {"hosts", l.hosts},
            {"mpirun", l.mpirun},
            {"mpirun_args", l.mpirun_args},
            {"roost_binary", l.roost_binary},
            {"train_args", l.train_args},
            {"run_dir", l.run_dir},
            {"job_name", l.job_name},
            {"restart",
             {{"max_restarts", p.max_restarts},
              {"min_np", p.min_np},
              {"max_np", p.max_np},
              {"discovery_script", p.discovery_script},
              {"discovery_timeout_s", p.discovery_timeout_s},
              {"probe_timeout_s", p.probe_timeout_s}}}};
  write_file_atomic(run_dir + "/launch.json", j.dump(2) + "\n");
}

void read_launch_file(const std::string& run_dir, LaunchConfig& l, RestartPolicy& p) {
  const std::string path = run_dir + "/launch.json";
  try {
    const json j = json::parse(read_text(path));
    l.target = parse_target(j.at("target").get<std::string>());
    l.np = j.at("np");
    l.nodes = j.at("nodes");
    l.procs_per_node = j.at("procs_per_node");
    l.hostfile = j.at("hostfile");
    l.hosts = j.at("hosts");
    l.mpirun = j.at("mpirun");
    l.mpirun_args = j.at("mpirun_args").get<std::vector<std::string>>();
    l.roost_binary = j.at("roost_binary");
    l.train_args = j.at("train_args").get<std::vector<std::string>>();
    l.run_dir = j.at("run_dir");
    l.job_name = j.at("job_name");
    const json& r = j.at("restart");
    p.max_restarts = r.at("max_restarts");
    p.min_np = r.at("min_np");
    p.max_np = r.at("max_np");
    p.discovery_script = r.at("discovery_script");
    p.discovery_timeout_s = r.at("discovery_timeout_s");
    p.probe_timeout_s = r.at("probe_timeout_s");
  } catch (const json::exception& e) {
    ROOST_THROW(path, ": ", e.what());
  }
}

}  // namespace roost::run
