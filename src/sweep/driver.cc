// driver.cc — the sweep loop: launch trials up to the concurrency limit, evaluate the policy
// on each new epoch of a running trial, cancel the ones it stops, and end when all have ended.
#include "roost/sweep/driver.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>
#include <thread>

#include "roost/core/error.h"
#include "roost/sweep/sweep_store.h"

namespace fs = std::filesystem;

namespace roost::sweep {

namespace {
class Driver {
 public:
  Driver(run::RunStore& runs, int64_t id, const SweepConfig& c, std::ostream& log)
      : runs_(runs),
        store_(runs),
        id_(id),
        c_(c),
        log_(log),
        sampler_(make_sampler(c.sampling, c.space, c.seed, c.goal, c.tpe)) {}

  SweepResult run(const std::atomic<bool>& stop) {
    store_.set_driver(id_, getpid());
    store_.set_status(id_, "Running");
    take_over();
    for (;;) {
      std::vector<TrialRecord> trials = store_.trials(id_);
      evaluate_running(trials);
      if (stop) return interrupt();
      trials = store_.trials(id_);
      launch_more(trials);
      if (running(trials) == 0 && (exhausted_ || static_cast<int>(trials.size()) >= c_.max_runs)) break;
      std::this_thread::sleep_for(std::chrono::duration<double>(c_.poll_s));
    }
    store_.set_status(id_, "Completed");
    return summarize_sweep(runs_, id_, c_.metric, c_.goal);
  }

 private:
  static int running(const std::vector<TrialRecord>& trials) {
    int n = 0;
    for (const auto& t : trials) n += !run::is_terminal(t.run.status);
    return n;
  }

  // A resumed sweep: trials still running are watched from their latest epoch on; trials the
  // previous driver interrupted go on from their checkpoints.
  void take_over() {
    for (const auto& t : store_.trials(id_)) {
      if (!run::is_terminal(t.run.status)) evaluated_[t.trial] = std::max(0, t.run.epochs - 1);
      else if (t.stopped_by == kInterrupted) continue_trial(t);
    }
  }

  void continue_trial(const TrialRecord& t) {
    std::vector<std::string> args = store_.json_strings(t.run.train_args);
    if (std::find(args.begin(), args.end(), "--resume=auto") == args.end()) args.push_back("--resume=auto");
    run::SubmitConfig s = c_.trial;
    s.launch.train_args = args;
    s.train_config_json = c_.check_train_args(args);
    // The new run's outputs start as a copy of the old one's: the same run identity, its
    // checkpoints and the metrics rows so far, so --resume auto continues that training.
    s.before_launch = [&](const std::string& run_dir) {
      fs::copy(t.run.run_dir + "/outputs", run_dir + "/outputs",
               fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    };
    const int64_t id = run::submit_run(runs_, s);
    store_.replace_run(id_, t.trial, id);
    evaluated_[t.trial] = std::max(0, t.run.epochs);
    log_ << "roost sweep: trial " << t.trial << " continues from run " << t.run_id << "'s checkpoint as run " << id
         << "\n";
  }

  void launch_more(const std::vector<TrialRecord>& trials) {
    int active = running(trials), next = static_cast<int>(trials.size());
    const std::vector<Observation> ended = observations(trials);
    while (!exhausted_ && active < c_.max_concurrent && next < c_.max_runs) {
      const std::optional<Assignment> values = sampler_->next(next, ended);
      if (!values) {
        exhausted_ = true;
        break;
      }
      launch(next++, *values);
      ++active;
    }
  }

  void launch(int trial, const Assignment& values) {
    run::SubmitConfig s = c_.trial;
    s.launch.train_args = trial_train_args(c_, values);
    s.train_config_json = c_.check_train_args(s.launch.train_args);
    const std::string params = params_json(c_, values);
    // Tagged inside submit_run's first step, before mpirun starts: no run of the sweep is
    // ever seen untagged.
    s.after_record = [&](int64_t run_id) { store_.add_trial(id_, trial, run_id, params); };
    const int64_t run_id = run::submit_run(runs_, s);
    evaluated_[trial] = 0;
    log_ << "roost sweep: trial " << trial << " is run " << run_id << ": " << params << "\n";
  }

  // The ended trials with a metric, as the bayesian sampler learns from them.
  std::vector<Observation> observations(const std::vector<TrialRecord>& trials) {
    std::vector<Observation> out;
    for (const auto& t : trials) {
      if (!run::is_terminal(t.run.status) || t.stopped_by == kInterrupted) continue;
      Observation o;
      bool any = false;
      for (double v : store_.metric_values(t.run_id, c_.metric))
        if (std::isfinite(v) && (!any || (c_.goal == Goal::kMaximize ? v > o.objective : v < o.objective)))
          o.objective = v, any = true;
      if (!any) continue;
      const auto members = store_.json_members(t.params);
      for (const auto& d : c_.space)
        for (const auto& [name, word] : members)
          if (name == d.name) o.numbers.push_back(value_of_word(d, word).number);
      if (o.numbers.size() == c_.space.size()) out.push_back(o);
    }
    return out;
  }

  void evaluate_running(const std::vector<TrialRecord>& trials) {
    if (c_.policy.kind == PolicyKind::kNone) return;
    std::vector<Curve> curves;
    for (const auto& t : trials) curves.push_back({t.trial, store_.metric_values(t.run_id, c_.metric)});
    for (size_t i = 0; i < trials.size(); ++i) {
      const TrialRecord& t = trials[i];
      if (run::is_terminal(t.run.status)) continue;
      const int epochs = static_cast<int>(curves[i].values.size());
      for (int k = evaluated_[t.trial] + 1; k <= epochs; ++k) {
        evaluated_[t.trial] = k;
        const Decision d = evaluate(c_.policy, c_.goal, curves, i, k);
        if (d.cancel) {
          stop_trial(t, k, d.why);
          break;
        }
      }
    }
  }

  void stop_trial(const TrialRecord& t, int epoch, const std::string& why) {
    const std::string reason =
        std::string("early termination by ") + to_string(c_.policy.kind) + " at epoch " + std::to_string(epoch);
    store_.set_stopped_by(id_, t.trial, reason + ": " + c_.metric + " " + why);
    try {
      run::cancel_run(runs_, t.run_id, c_.monitor, reason, reason);
    } catch (const UsageError&) {
      return;  // it ended on its own meanwhile
    }
    log_ << "roost sweep: trial " << t.trial << " (run " << t.run_id << ") canceled: " << reason << " (" << c_.metric
         << " " << why << ")\n";
  }

  SweepResult interrupt() {
    for (const auto& t : store_.trials(id_)) {
      if (run::is_terminal(t.run.status)) continue;
      store_.set_stopped_by(id_, t.trial, kInterrupted);
      try {
        run::cancel_run(runs_, t.run_id, c_.monitor, kInterrupted, kInterrupted);
      } catch (const UsageError&) {
        store_.set_stopped_by(id_, t.trial, "");  // it had ended meanwhile: nothing to continue
      }
    }
    store_.set_status(id_, "Interrupted", "roost sweep --resume " + std::to_string(id_) + " continues it");
    return summarize_sweep(runs_, id_, c_.metric, c_.goal);
  }

  run::RunStore& runs_;
  SweepStore store_;
  int64_t id_;
  const SweepConfig& c_;
  std::ostream& log_;
  std::unique_ptr<Sampler> sampler_;
  std::map<int, int> evaluated_;  // trial → epochs the policy has looked at
  bool exhausted_ = false;
};
}  // namespace

SweepResult drive_sweep(run::RunStore& runs, int64_t id, const SweepConfig& config, const std::atomic<bool>& stop,
                        std::ostream& log) {
  return Driver(runs, id, config, log).run(stop);
}

}  // namespace roost::sweep
