// roost/train/run_outputs.cc — the run's files in its outputs directory (see run_outputs.h).
#include "roost/train/run_outputs.h"

#include <cstdio>
#include <filesystem>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/core/log.h"

namespace roost::train {

namespace {
// FNV-1a, 64 bits: a stable fingerprint, not a security measure.
struct Fnv64 {
  uint64_t h = 1469598103934665603ull;
  void add(const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // separator, so "ab"+"c" differs from "a"+"bc"
  }
};

void add_split(Fnv64& f, const data::Dataset& d) {
  for (int64_t i = 0; i < d.size(); ++i) {
    f.add(std::to_string(d.label(i)));
    f.add(std::filesystem::path(d.describe(i)).filename().string());
  }
}

// Rank 0's message (or "") reaches every rank.
std::string share_string(std::string s, comm::Communicator& comm) {
  double size = static_cast<double>(s.size());
  comm.broadcast(&size, sizeof size, 0);
  s.resize(static_cast<size_t>(size));
  if (!s.empty()) comm.broadcast(s.data(), s.size(), 0);
  return s;
}
}  // namespace

DatasetIdentity dataset_identity(const std::string& path, const data::Dataset& train, const data::Dataset& val) {
  DatasetIdentity id;
  id.path = path;
  id.train_images = train.size();
  id.val_images = val.size();
  Fnv64 f;
  add_split(f, train);
  f.add("|val|");
  add_split(f, val);
  char hex[20];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(f.h));
  id.fingerprint = hex;
  return id;
}

OutputsPlan plan_outputs(const TrainConfig& config, const std::vector<std::string>& classes,
                         const DatasetIdentity& dataset, comm::Communicator& comm) {
  OutputsPlan plan;
  plan.identity.run_id = new_run_id();
  plan.identity.started_at = utc_now_iso8601();
  plan.identity.arch = config.arch;
  plan.identity.class_names = classes;
  plan.identity.dataset = dataset;
  plan.identity.world_size = comm.size();
  plan.identity.config_json = to_json(config);
  std::string error;
  if (comm.rank() == 0) {
    try {
      const std::optional<RunIdentity> existing = read_run_identity(config.output_dir);
      plan.decision = decide_outputs(config, existing, run_files(config.output_dir));
      error = plan.decision.error;
      if (existing && plan.decision.action == OutputsAction::kContinue) {
        plan.existing_run_id = existing->run_id;
        plan.identity.run_id = existing->run_id;  // the run goes on under its id
        plan.identity.started_at = existing->started_at;
        if (!existing->dataset.fingerprint.empty() && existing->dataset.fingerprint != dataset.fingerprint)
          log_warn("--resume: the data differ from what run ", existing->run_id, " started with (",
                   existing->dataset.train_images, "/", existing->dataset.val_images, " train/val images then, ",
                   dataset.train_images, "/", dataset.val_images, " now, or other files)");
      }
    } catch (const Error& e) {
      error = e.message();
    }
  }
  error = share_string(error, comm);
  if (!error.empty()) ROOST_USAGE_ERROR(error);
  return plan;
}

std::vector<EpochPoint> curve_points(const std::vector<EpochRecord>& history) {
  std::vector<EpochPoint> points;
  for (const auto& r : history)
    points.push_back({r.epoch, r.train_loss, r.val_loss, r.train_acc, r.val_acc, r.images_per_sec});
  return points;
}

RunOutputs::RunOutputs(const TrainConfig& config, OutputsPlan plan, int rank)
    : config_(config), plan_(std::move(plan)), root_(rank == 0) {}

void RunOutputs::adopt_run_id(const std::string& checkpoint_run_id) {
  if (!checkpoint_run_id.empty()) plan_.identity.run_id = checkpoint_run_id;
}

void RunOutputs::begin(const std::vector<EpochRecord>& history) {
  if (!root_) return;
  const std::string& dir = config_.output_dir;
  if (plan_.decision.action == OutputsAction::kOverwrite) {
    log_warn(plan_.decision.message);
    remove_run_files(dir);
  }
  if (const int n = remove_stale_temporaries(dir))
    log_info("removed ", n, " temporary file(s) an interrupted write left in ", dir);
  write_run_identity(dir, plan_.identity);
  log_info("run ", plan_.identity.run_id, " writes to ", dir);
  writer_ = std::make_unique<MetricsWriter>(dir, plan_.identity.run_id);
  writer_->rewrite(history);  // a fresh run starts empty files; a resumed one drops later rows
}

void RunOutputs::write_weights(const std::string& name, const model::NamedTensors& weights) const {
  // The val transform goes with the weights so `roost predict` preprocesses the same way.
  model::save_weights_h5(config_.output_dir + "/" + name, weights, config_.arch, plan_.identity.class_names,
                         config_.image_size, config_.resize_short, plan_.identity.run_id);
}

void RunOutputs::record_epoch(const std::vector<EpochRecord>& history, bool improved,
                              const model::NamedTensors& weights) {
  if (!root_ || history.empty()) return;
  writer_->append(history.back());
  write_training_curves_png(config_.output_dir + "/training_curves.png", curve_points(history),
                            config_.arch + ", " + std::to_string(plan_.identity.world_size) + " rank(s), batch " +
                                std::to_string(config_.batch_size) + " per rank, run " + plan_.identity.run_id);
  if (improved) write_weights("model.h5", weights);
}

std::string RunOutputs::checkpoint(Checkpoint c) {
  if (!root_) return {};
  c.run_id = plan_.identity.run_id;
  c.arch = config_.arch;
  c.class_names = plan_.identity.class_names;
  const std::string dir = config_.output_dir + "/checkpoints";
  ensure_writable_dir(dir);
  const std::string path = checkpoint_path(dir, c.epochs_done, c.step);
  save_checkpoint(path, c);
  prune_checkpoints(dir, config_.keep_checkpoints);
  return path;
}

void RunOutputs::finish(const std::string& status, const model::NamedTensors& weights, RunSummary summary) {
  if (!root_) return;
  write_weights("last.h5", weights);
  summary.status = status;
  summary.run_id = plan_.identity.run_id;
  write_summary(config_.output_dir + "/summary.json", config_, summary);
}

}  // namespace roost::train
