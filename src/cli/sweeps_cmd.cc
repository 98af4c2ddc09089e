// sweeps_cmd.cc — `roost sweeps list [--json]` and `roost sweeps show SWEEP [--json]`: every trial with
// its parameters, status, epochs, best metric and who stopped it, the best trial, and a PNG
// (the metric per epoch of every trial, and the best metric against each parameter).
#include <cmath>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/run/process.h"
#include "roost/sweep/documents.h"
#include "roost/sweep/sweep_store.h"
#include "sweep_chart.h"

namespace roost::cli {

namespace {
constexpr const char* kUsage =
    "Usage: roost sweeps <list|show> [options]\n"
    "  list [--json]                 sweeps with status, trials and the best metric\n"
    "  show SWEEP [--json] [--plot FILE]\n"
    "                                every trial: parameters, status, epochs, best metric, who stopped it;\n"
    "                                the best trial; a PNG (default WORKSPACE/sweeps/SWEEP/sweep.png)\n"
    "Every command takes --workspace DIR (default roost-workspace).\n";

std::string num(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", *v);
  return buf;
}

std::string params_text(sweep::SweepStore& store, const std::string& json) {
  std::string out;
  for (const auto& [k, v] : store.json_members(json)) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out;
}

void list(sweep::SweepStore& store) {
  std::printf("%-5s %-20s %-12s %-7s %-10s %-10s %s\n", "ID", "EXPERIMENT", "STATUS", "TRIALS", "POLICY", "BEST",
              "CREATED (UTC)");
  for (const auto& s : store.list_sweeps()) {
    const SweepView v = sweep_view(store, s.id);
    std::string status = s.status;
    if (s.status == "Running" && s.driver_pid > 0 && !run::process_alive(static_cast<pid_t>(s.driver_pid)))
      status = "Running?";  // its driver is gone: roost sweep --resume continues it
    std::printf("%-5lld %-20s %-12s %-7zu %-10s %-10s %s\n", static_cast<long long>(s.id), s.experiment.c_str(),
                status.c_str(), v.trials.size(), v.policy.c_str(), num(v.best_value()).c_str(),
                run::format_time(s.created_at).c_str());
  }
}

void show_text(sweep::SweepStore& store, const sweep::SweepRecord& s, const SweepView& v, const std::string& png) {
  std::cout << "sweep:        " << s.id << "\nexperiment:   " << s.experiment << "\nstatus:       " << s.status
            << (s.message.empty() ? "" : " (" + s.message + ")") << "\nsettings:     " << s.settings << "\n\n";
  std::printf("%-5s %-5s %-11s %-6s %-10s %-40s %s\n", "TRIAL", "RUN", "STATUS", "EPOCHS", ("BEST_" + v.metric).c_str(),
              "PARAMETERS", "STOPPED BY");
  for (const auto& t : v.trials)
    std::printf("%-5d %-5lld %-11s %-6zu %-10s %-40s %s\n", t.record.trial, static_cast<long long>(t.record.run_id),
                run::to_string(t.record.run.status), t.values.size(), num(t.best).c_str(),
                params_text(store, t.record.params).c_str(), t.record.stopped_by.c_str());
  const auto* best = v.best();
  std::cout << "\nbest:         "
            << (best ? "trial " + std::to_string(best->record.trial) + " (run " + std::to_string(best->record.run_id) +
                           ") " + v.metric + " " + num(best->best) + ": " + params_text(store, best->record.params)
                     : std::string("none yet"))
            << "\ntrial-epochs: " << v.trial_epochs() << "\nplot:         " << png << "\n";
}

}  // namespace

int sweeps_main(int argc, char** argv) {
  const std::string verb = argc > 1 ? argv[1] : "";
  if (verb.empty() || verb == "-h" || verb == "--help") {
    (verb.empty() ? std::cerr : std::cout) << kUsage;
    return verb.empty() ? 2 : 0;
  }
  cxxopts::Options o("roost sweeps " + verb, kUsage);
  o.add_options()("workspace", "run store folder", cxxopts::value<std::string>()->default_value("roost-workspace"))(
      "sweep", "sweep id", cxxopts::value<std::string>())(
      "json", "print the JSON document that roost ui's /api/sweeps serves (list, show)")(
      "plot", "where show writes the PNG", cxxopts::value<std::string>()->default_value(""))("h,help",
                                                                                             "show this help");
  o.parse_positional({"sweep"});
  cxxopts::ParseResult r = parse_or_usage(o, argc - 1, argv + 1);
  if (print_help_if_asked(o, r)) return 0;
  if (verb != "list" && verb != "show") ROOST_USAGE_ERROR("unknown sweeps command '", verb, "' (use list or show)");
  run::require_existing_workspace(r["workspace"].as<std::string>());
  run::RunStore runs(r["workspace"].as<std::string>());
  sweep::SweepStore store(runs);
  if (verb == "list") {
    if (r.count("json")) std::cout << sweep::sweeps_document(store) << "\n";
    else list(store);
    return 0;
  }
  if (!r.count("sweep")) ROOST_USAGE_ERROR("which sweep? give its id (roost sweeps list shows them)");
  const int64_t id = static_cast<int64_t>(get_uint64(r, "sweep"));
  const sweep::SweepRecord s = store.get_sweep(id);
  const SweepView v = sweep_view(store, id);
  std::string png = r["plot"].as<std::string>();
  if (png.empty()) png = sweep::default_plot_path(runs.workspace(), id);
  write_sweep_png(png, store, s, v);
  if (r.count("json")) std::cout << sweep::sweep_document(s, v, png) << "\n";
  else show_text(store, s, v, png);
  return 0;
}

}  // namespace roost::cli
