// roost/train/graph_step.h — the training step replayed as a CUDA graph (--cuda-graphs).
//
// The captured step reads its batch from static input and label tensors (the batch is copied
// in before each replay), its learning rate from a device scalar written before each replay,
// and writes its gradients into one flat buffer that every parameter's .grad views: forward,
// backward, the average over ranks (NCCL on the capturing stream; nothing with one rank),
// the optimizer's update and the step's loss and accuracy sums. The sequence (warm-up steps,
// the capture, replays, eager steps for other batch sizes) is GraphSequencer's.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "roost/data/loader.h"
#include "roost/gpu/step_graph.h"
#include "roost/train/graph_policy.h"
#include "roost/train/train_step.h"

namespace roost::train {

struct RunParts;

class GraphStepper {
 public:
  // `backend` kHostRerun: the emulation of step_graph.h (tests without a GPU).
  GraphStepper(RunParts& run, gpu::StepGraph::Backend backend, int warmup_steps = 3);
  ~GraphStepper();

  // Trains `batch` as a warm-up step, a capture (then its first replay) or a replay and
  // returns true; false when the batch must take the eager step instead (another size than
  // the captured one on some rank; the fused optimizer unable to run, said once in the log).
  // Collective when there are several ranks (they agree on the kind of step). A capture that
  // CUDA refuses ends the run with CUDA's reason.
  bool step(data::Batch& batch, const StepPlace& at, DeviceSums& sums);
  const GraphSequencer& sequence() const { return sequence_; }
  // --amp fp16: while graph steps run, the loss scale lives on the device (the graph skips
  // a step with non-finite gradients and updates the scale itself). This brings it back into
  // the run's LossScaler, waiting for the GPU, before an eager step or a checkpoint reads it.
  void scaler_to_host();

 private:
  bool agree(bool yes);
  bool start();  // false: eager from now on
  void capture(const StepPlace& at);
  void scaler_to_device();
  void make_static();
  void attach_gradients();
  void work();     // the step the graph holds
  void average();  // the flat gradients' mean over ranks
  void update();   // the optimizer's step with the static learning rate

  RunParts& run_;
  GraphSequencer sequence_;
  gpu::StepGraph graph_;
  torch::Tensor inputs_, labels_, lr_, loss_sum_, correct_;  // static: the graph's addresses
  torch::Tensor scale_, inv_scale_, found_inf_, growth_;     // --amp fp16's loss scale
  bool scaler_on_device_ = false;
  torch::Tensor flat_grads_;
  std::vector<torch::Tensor> grads_;  // views of flat_grads_ laid out like their parameters
};

// The step's graph choice for this run, from --cuda-graphs and the run's parts (a UsageError
// for --cuda-graphs on with an obstacle). ROOST_CUDA_GRAPHS_EMULATE=1 (tests) allows the
// host emulation on the CPU.
std::unique_ptr<GraphStepper> make_graph_stepper(RunParts& run);

}  // namespace roost::train
