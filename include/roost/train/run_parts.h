// roost/train/run_parts.h — the wired parts of a training run, built once by set_up_run:
// the data and its loaders, the model on its device, the gradient transport and
// synchronizer, the optimizer and its schedule, the loss scaler, the batch source. The
// training step, epoch and evaluation (train_step.h, train_epoch.h, evaluate.h) work on
// these; the outputs (run_outputs.h) are the trainer's.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "roost/comm/communicator.h"
#include "roost/model/resnet.h"
#include "roost/sync/backend.h"
#include "roost/sync/grad_sync.h"
#include "roost/train/amp.h"
#include "roost/train/batch_source.h"
#include "roost/train/class_counts.h"
#include "roost/train/config.h"
#include "roost/train/datasets.h"
#include "roost/train/model_setup.h"
#include "roost/train/passes.h"
#include "roost/train/progress.h"
#include "roost/train/resume.h"
#include "roost/train/schedule.h"
#include "roost/train/sgd.h"
#include "roost/train/trainer.h"

namespace roost::train {

class GraphStepper;

struct RunParts {
  RunParts();
  ~RunParts();  // where GraphStepper is complete
  RunParts(const RunParts&) = delete;
  RunParts& operator=(const RunParts&) = delete;

  TrainConfig config;                  // resolved: no "auto" left
  comm::Communicator* comm = nullptr;  // every rank, host memory
  int rank = 0, world = 1;
  Datasets data;

  // Where it runs.
  torch::Device device{torch::kCPU};
  std::string device_name = "cpu";
  bool on_gpu = false;
  bool gpu_preprocess = false;                     // the CUDA kernel crops, resizes, normalises
  torch::ScalarType amp_dtype = torch::kBFloat16;  // autocast's, when config.amp is not "off"
  bool autocast() const { return config.amp != "off"; }

  // The model and what trains.
  model::ResNet net{nullptr};
  NamedParameters trainable;
  std::vector<torch::Tensor> params;  // trainable's tensors, in the optimizer's order
  std::unique_ptr<HostBatchNormSync> bn_sync;

  // Gradients and the update.
  std::unique_ptr<sync::GradientBackend> backend;
  std::unique_ptr<Sgd> optimizer;
  std::unique_ptr<sync::GradientSynchronizer> synchronizer;
  bool shared_update = false;  // each rank of the node steps its share (shared_update.h)
  std::unique_ptr<LrSchedule> schedule;
  std::unique_ptr<LossScaler> scaler;
  std::unique_ptr<GraphStepper> graphs;  // --cuda-graphs: null when every step is eager

  // Batches.
  std::unique_ptr<BatchSource> source;
  std::unique_ptr<PassLoaders> passes;
  std::unique_ptr<ClassCounts> class_counts;
  std::unique_ptr<Progress> progress;

  ResumePoint resume;  // where this start continues (epochs_done 0 for a new run)
  bool warned_one_image_batch = false;
};

// The options whose value follows the machine, once every rank has checked it got the same
// options: --workers auto.
TrainConfig resolve_auto(const TrainConfig& requested, const TrainContext& context);

// Builds every part on every rank (collective): the model from --pretrained, the resume
// point (checkpoints of `expected_run_id` only, when set), rank 0's state on every rank, the
// device, the gradient backend and the optimizer. Throws UsageError for options the
// machine cannot honour (--amp or --preprocess gpu without a GPU).
std::unique_ptr<RunParts> set_up_run(const TrainConfig& config, const TrainContext& context, Datasets data,
                                     const std::string& expected_run_id);

}  // namespace roost::train
