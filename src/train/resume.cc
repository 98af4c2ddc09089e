// roost/train/resume.cc — resolving --resume and spreading a checkpoint to every rank.
#include "roost/train/resume.h"

#include <filesystem>

#include "roost/core/error.h"
#include "roost/core/log.h"
#include "roost/model/state_dict.h"
#include "roost/core/json.h"
#include "roost/train/run_identity.h"

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
}  // namespace

ResumePoint resume_training(const TrainConfig& config, const std::string& expected_run_id,
                            const std::vector<std::string>& classes, model::ResNet& net,
                            const std::vector<torch::Tensor>& trainable, comm::Communicator& comm) {
  const bool root = comm.rank() == 0;
  ResumePoint point;
  Checkpoint checkpoint;
  std::string error;  // rank 0's reason to refuse, shared so every rank fails alike
  if (root) {
    try {
      point.path = resolve(config);
      if (!point.path.empty()) {
        checkpoint = load_checkpoint(point.path);
        point.run_id = checkpoint.run_id;
        error = checkpoint_mismatch(point.path, checkpoint.run_id, checkpoint.arch, checkpoint.class_names,
                                    expected_run_id, config.arch, classes);
        const std::string misfit = error.empty() ? copy_into(net, checkpoint.model) : std::string();
        if (!misfit.empty())
          error = "checkpoint " + point.path + " does not fit --arch " + config.arch + " with this dataset: " + misfit;
        else if (error.empty() && checkpoint.momentum.size() > trainable.size())
          error = "checkpoint " + point.path + " holds momentum for " + std::to_string(checkpoint.momentum.size()) +
                  " parameters, this run trains " + std::to_string(trainable.size()) +
                  " (was --freeze-backbone changed?)";
        for (size_t i = 0; error.empty() && i < checkpoint.momentum.size(); ++i)
          if (checkpoint.momentum[i].defined() && checkpoint.momentum[i].sizes() != trainable[i].sizes())
            error = "checkpoint " + point.path + ": momentum buffer " + std::to_string(i) + " has shape " +
                    c10::str(checkpoint.momentum[i].sizes()) + ", the parameter " + c10::str(trainable[i].sizes());
      }
    } catch (const Error& e) {
      error = e.message();
    }
  }
  // Header: error length, resumed flag, scalars, which momentum buffers exist.
  std::vector<double> header(8 + trainable.size(), 0.0);
  if (root) {
    header[0] = static_cast<double>(error.size());
    header[1] = point.path.empty() ? 0 : 1;
    header[2] = checkpoint.epochs_done, header[3] = checkpoint.step, header[4] = checkpoint.best_val_acc;
    header[5] = checkpoint.loss_scale, header[6] = checkpoint.loss_scale_clean_steps;
    header[7] = checkpoint.world_size;
    // Only when the checkpoint fits: one that holds more buffers than this run trains is
    // refused above, and the header has room for this run's.
    if (error.empty())
      for (size_t i = 0; i < checkpoint.momentum.size(); ++i) header[8 + i] = checkpoint.momentum[i].defined();
  }
  broadcast_doubles(header, comm);
  if (header[0] > 0) {
    error.resize(static_cast<size_t>(header[0]));
    comm.broadcast(error.data(), error.size(), 0);
    ROOST_USAGE_ERROR("--resume: ", error);
  }
  point.resumed = header[1] != 0;
  if (!point.resumed) return point;
  point.epochs_done = static_cast<int>(header[2]);
  point.step = static_cast<int>(header[3]);
  point.best_val_acc = header[4];
  point.loss_scale = header[5];
  point.loss_scale_clean_steps = static_cast<int>(header[6]);
  point.momentum.resize(trainable.size());
  for (size_t i = 0; i < trainable.size(); ++i) {
    if (header[8 + i] == 0) continue;
    torch::Tensor buf = root ? checkpoint.momentum[i].contiguous()
                             : torch::empty(trainable[i].sizes(), trainable[i].options().device(torch::kCPU));
    broadcast_tensor(buf, comm);
    point.momentum[i] = buf;
  }
  if (root) {
    point.partial = checkpoint.partial;
    point.history = checkpoint.history;
    if (checkpoint.rng.defined()) {
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      generator.set_state(checkpoint.rng);
    }
    if (static_cast<int>(header[7]) != comm.size())
      log_warn("--resume: the checkpoint was written by ", static_cast<int>(header[7]), " rank(s), this run has ",
               comm.size(), ": shards and the global batch change, so the run is not an exact continuation");
    for (const auto& change : changed_options(checkpoint.config_json, config))
      log_warn("--resume: option changed since the checkpoint: ", change);
    log_info("resuming from ", point.path, " (", point.epochs_done, " epoch(s)",
             point.step > 0 ? " and " + std::to_string(point.step) + " step(s)" : std::string(), " done)");
  }
  return point;
}

void restore_momentum(Sgd& optimizer, const std::vector<torch::Tensor>& params,
                      const std::vector<torch::Tensor>& buffers) {
  auto& target = optimizer.momentum_buffers();
  for (size_t i = 0; i < buffers.size() && i < target.size(); ++i)
    if (buffers[i].defined())
      target[i] = buffers[i].to(params[i].device()).contiguous(params[i].suggest_memory_format());
}

std::vector<std::string> changed_options(const std::string& old_json, const TrainConfig& now) {
  std::vector<std::string> out;
  for (const auto& [key, value] : config_entries(now)) {
    if (key == "epochs" || key == "resume" || key == "overwrite" || key == "progress" || key == "log_every" ||
        key == "prefetch_next_pass" || key == "workers")  // none of these changes what is trained
      continue;
    const std::string marker = json_escape(key) + ": ";
    size_t at = old_json.find(marker);
    std::string old = "(absent)";
    if (at != std::string::npos) {
      size_t begin = at + marker.size(), end = begin;
      if (end < old_json.size() && old_json[end] == '"') {  // a string: up to its closing quote
        for (++end; end < old_json.size() && old_json[end] != '"'; ++end)
          if (old_json[end] == '\\') ++end;
        ++end;
      } else {
        while (end < old_json.size() && old_json[end] != ',' && old_json[end] != '}') ++end;
      }
      old = old_json.substr(begin, end - begin);
    }
    if (old != value) out.push_back(key + " (was " + old + ", now " + value + ")");
  }
  return out;
}

}  // namespace roost::train
