// roost/train/resume.cc — resolving --resume and spreading a checkpoint to every rank.
#include "roost/train/resume.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "roost/core/error.h"
#include "roost/core/log.h"
#include "roost/model/state_dict.h"
#include "roost/train/run_identity.h"
#include "roost/train/schedule.h"

namespace roost::train {

namespace {
// Rank 0: the checkpoint to resume from, "" for a fresh start.
std::string resolve(const TrainConfig& config) {
  if (config.resume.empty()) return {};
  if (config.resume != "auto") return config.resume;
  std::vector<std::string> skipped;
  std::string path = find_latest_checkpoint(config.output_dir + "/checkpoints", &skipped);
  for (const auto& why : skipped) log_warn("--resume auto: skipping ", why);
  if (path.empty()) log_info("--resume auto: no checkpoint in ", config.output_dir, "/checkpoints: starting fresh");
  return path;
}

// Copies the checkpoint's state dict into `net`; "" on success, else what does not fit.
std::string copy_into(model::ResNet& net, const model::NamedTensors& saved) {
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : model::state_dict(*net)) {
    const torch::Tensor* found = nullptr;
    for (const auto& [n, t] : saved)
      if (n == name) found = &t;
    if (!found) return "it has no " + name;
    if (found->sizes() != tensor.sizes())
      return name + " has shape " + c10::str(found->sizes()) + ", the model " + c10::str(tensor.sizes());
    tensor.copy_(*found);
  }
  return {};
}

void broadcast_doubles(std::vector<double>& v, comm::Communicator& comm) {
  comm.broadcast(v.data(), v.size() * sizeof(double), 0);
}

void broadcast_tensor(torch::Tensor& t, comm::Communicator& comm) {
  comm.broadcast(t.data_ptr(), t.numel() * t.element_size(), 0);
}

// Rank 0: loads the checkpoint --resume names into `net`; the reason to refuse it, or "".
std::string load_on_root(const TrainConfig& config, const std::string& expected_run_id,
                         const std::vector<std::string>& classes, model::ResNet& net,
                         const std::vector<torch::Tensor>& trainable, ResumePoint& point, Checkpoint& checkpoint) {
  try {
    point.path = resolve(config);
    if (point.path.empty()) return {};
    checkpoint = load_checkpoint(point.path);
    point.run_id = checkpoint.run_id;
    std::string error = checkpoint_mismatch(point.path, checkpoint.run_id, checkpoint.arch, checkpoint.class_names,
                                            expected_run_id, config.arch, classes);
    if (!error.empty()) return error;
    if (const std::string misfit = copy_into(net, checkpoint.model); !misfit.empty())
      return "checkpoint " + point.path + " does not fit --arch " + config.arch + " with this dataset: " + misfit;
    if (checkpoint.momentum.size() > trainable.size())
      return "checkpoint " + point.path + " holds momentum for " + std::to_string(checkpoint.momentum.size()) +
             " parameters, this run trains " + std::to_string(trainable.size()) + " (was --freeze-backbone changed?)";
    for (size_t i = 0; i < checkpoint.momentum.size(); ++i)
      if (checkpoint.momentum[i].defined() && checkpoint.momentum[i].sizes() != trainable[i].sizes())
        return "checkpoint " + point.path + ": momentum buffer " + std::to_string(i) + " has shape " +
               c10::str(checkpoint.momentum[i].sizes()) + ", the parameter " + c10::str(trainable[i].sizes());
    return {};
  } catch (const Error& e) {
    return e.message();
  }
}

// Each rank's batch when the checkpoint was written (its recorded options; else this run's).
int written_batch(const Checkpoint& checkpoint, const TrainConfig& config) {
  const auto saved = nlohmann::json::parse(checkpoint.config_json, nullptr, /*allow_exceptions=*/false);
  if (saved.is_object() && saved.contains("batch_size") && saved["batch_size"].is_number_integer())
    return saved["batch_size"].get<int>();
  return config.batch_size;
}

// Positions of the interrupted epoch trained; checkpoints that predate the record give
// their steps on every rank at the batch size they were written with.
int64_t positions_done(const Checkpoint& checkpoint, const TrainConfig& config) {
  if (checkpoint.positions_done >= 0) return checkpoint.positions_done;
  return int64_t{checkpoint.step} * written_batch(checkpoint, config) * checkpoint.world_size;
}

// Every rank: rank 0's verdict, scalars and momentum buffers. A refusal is a UsageError on
// every rank.
void share_from_root(const Checkpoint& checkpoint, int64_t positions, int batch, std::string error,
                     const std::vector<torch::Tensor>& trainable, ResumePoint& point, comm::Communicator& comm) {
  const bool root = comm.rank() == 0;
  // Header: error length, resumed flag, scalars, which momentum buffers exist.
  constexpr size_t kScalars = 10;
  std::vector<double> header(kScalars + trainable.size(), 0.0);
  if (root) {
    header[0] = static_cast<double>(error.size());
    header[1] = point.path.empty() ? 0 : 1;
    header[2] = checkpoint.epochs_done, header[3] = checkpoint.step, header[4] = checkpoint.best_val_acc;
    header[5] = checkpoint.loss_scale, header[6] = checkpoint.loss_scale_clean_steps;
    header[7] = checkpoint.world_size;
    header[8] = static_cast<double>(positions);
    header[9] = batch;
    // Only when the checkpoint fits: one that holds more buffers than this run trains is
    // refused above, and the header has room for this run's.
    if (error.empty())
      for (size_t i = 0; i < checkpoint.momentum.size(); ++i) header[kScalars + i] = checkpoint.momentum[i].defined();
  }
  broadcast_doubles(header, comm);
  if (header[0] > 0) {
    error.resize(static_cast<size_t>(header[0]));
    comm.broadcast(error.data(), error.size(), 0);
    ROOST_USAGE_ERROR("--resume: ", error);
  }
  point.resumed = header[1] != 0;
  if (!point.resumed) return;
  point.epochs_done = static_cast<int>(header[2]);
  point.step = static_cast<int>(header[3]);
  point.best_val_acc = header[4];
  point.loss_scale = header[5];
  point.loss_scale_clean_steps = static_cast<int>(header[6]);
  point.written_by = static_cast<int>(header[7]);
  point.positions_done = static_cast<int64_t>(header[8]);
  point.written_batch = static_cast<int>(header[9]);
  point.momentum.resize(trainable.size());
  for (size_t i = 0; i < trainable.size(); ++i) {
    if (header[kScalars + i] == 0) continue;
    torch::Tensor buf = root ? checkpoint.momentum[i].contiguous()
                             : torch::empty(trainable[i].sizes(), trainable[i].options().device(torch::kCPU));
    broadcast_tensor(buf, comm);
    point.momentum[i] = buf;
  }
}

// Rank 0: what only it keeps (metrics history, the interrupted epoch's sums, the random
// state), and what the user should know about the continuation.
void continue_on_root(const TrainConfig& config, Checkpoint& checkpoint, ResumePoint& point, int world) {
  point.partial = checkpoint.partial;
  point.history = checkpoint.history;
  if (checkpoint.rng.defined()) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(checkpoint.rng);
  }
  const BatchPlan& batch = point.batch;
  if (point.written_by != world)
    log_warn("--resume: the checkpoint was written by ", point.written_by, " rank(s), this run has ", world, ": ",
             batch.note, point.step > 0 ? "; the epoch goes on with exactly the samples it had not reached" : "");
  else if (!batch.note.empty()) log_info("--resume: ", batch.note);
  for (const auto& change : changed_options(checkpoint.config_json, config))
    if (!(config.elastic_batch == "global" && change.rfind("batch_size ", 0) == 0))  // global keeps it on purpose
      log_warn("--resume: option changed since the checkpoint: ", change);
  log_info("resuming from ", point.path, " (", point.epochs_done, " epoch(s)",
           point.step > 0 ? " and " + std::to_string(point.step) + " step(s)" : std::string(), " done)");
}
}  // namespace

ResumePoint resume_training(const TrainConfig& config, const std::string& expected_run_id,
                            const std::vector<std::string>& classes, model::ResNet& net,
                            const std::vector<torch::Tensor>& trainable, comm::Communicator& comm) {
  const bool root = comm.rank() == 0;
  ResumePoint point;
  Checkpoint checkpoint;
  // Rank 0's reason to refuse, shared so that every rank fails alike.
  const std::string error =
      root ? load_on_root(config, expected_run_id, classes, net, trainable, point, checkpoint) : std::string();
  const int64_t positions = root ? positions_done(checkpoint, config) : 0;
  const int batch = root && !point.path.empty() ? written_batch(checkpoint, config) : 0;
  share_from_root(checkpoint, positions, batch, error, trainable, point, comm);
  // On every rank, so that a global batch that does not split refuses the resume everywhere.
  point.batch = plan_batch(config, comm.size(), point.resumed ? point.written_by : 0, point.written_batch);
  if (root && point.resumed) continue_on_root(config, checkpoint, point, comm.size());
  return point;
}

void restore_momentum(Sgd& optimizer, const std::vector<torch::Tensor>& params,
                      const std::vector<torch::Tensor>& buffers) {
  auto& target = optimizer.momentum_buffers();
  for (size_t i = 0; i < buffers.size() && i < target.size(); ++i)
    if (buffers[i].defined())
      target[i] = buffers[i].to(params[i].device()).contiguous(params[i].suggest_memory_format());
}

namespace {
// An option newer than the checkpoint, at the value that trains as runs did before it existed.
bool is_former_behaviour(const std::string& key, const std::string& value) {
  return key == "jpeg_dct_scale" && value == "\"off\"";
}
}  // namespace

std::vector<std::string> changed_options(const std::string& old_json, const TrainConfig& now) {
  using nlohmann::json;
  const json old = json::parse(old_json, nullptr, /*allow_exceptions=*/false);
  const bool readable = old.is_object();
  std::vector<std::string> out;
  for (const auto& [key, value] : config_entries(now)) {
    if (key == "epochs" || key == "resume" || key == "overwrite" || key == "progress" || key == "log_every" ||
        key == "prefetch_next_pass" || key == "workers")  // none of these changes what is trained
      continue;
    const auto it = readable ? old.find(key) : old.end();
    if (readable && it != old.end() && *it == json::parse(value, nullptr, false)) continue;
    if (readable && it == old.end() && is_former_behaviour(key, value)) continue;
    out.push_back(key + " (was " + (readable && it != old.end() ? it->dump() : "(absent)") + ", now " + value + ")");
  }
  return out;
}

}  // namespace roost::train
