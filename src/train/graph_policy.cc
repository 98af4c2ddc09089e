// roost/train/graph_policy.cc — --cuda-graphs: the choice and the per-batch sequence.
#include "roost/train/graph_policy.h"

#include "roost/core/error.h"

namespace roost::train {

CudaGraphs parse_cuda_graphs(const std::string& text) {
  if (text == "auto") return CudaGraphs::kAuto;
  if (text == "on") return CudaGraphs::kOn;
  if (text == "off") return CudaGraphs::kOff;
  ROOST_USAGE_ERROR("--cuda-graphs must be auto, on or off (got '", text, "')");
}

namespace {

// The first thing that keeps the step from being captured, or "".
std::string obstacle(const GraphConditions& c) {
  if (!c.on_gpu) return "the model trains on the CPU (CUDA graphs need a GPU)";
  if (!c.torch_cuda) return "roost was built against a libtorch without CUDA";
  if (c.world > 1 && !c.device_exchange)
    return "gradients go over MPI through host memory (NCCL needs one GPU per rank), which a graph cannot hold";
  if (c.backward_passes_per_step > 1) return "--backward-passes-per-step above 1 accumulates over several passes";
  if (c.sync_bn && c.world > 1) return "--sync-bn exchanges BatchNorm statistics through the host";
  if (c.timeline) return "--timeline records host-side events per gradient";
  if (c.fp16_allreduce) return "--fp16-allreduce converts gradients on the synchronizer's thread";
  if (c.shared_update) return "the shared update steps parameters on the synchronizer's thread";
  return "";
}

}  // namespace

GraphChoice choose_cuda_graphs(CudaGraphs mode, const GraphConditions& c) {
  if (mode == CudaGraphs::kOff) return {false, ""};
  std::string why = obstacle(c);
  ROOST_USAGE_CHECK(mode != CudaGraphs::kOn || why.empty(), "--cuda-graphs on: ", why);
  return {why.empty(), why};
}

GraphSequencer::GraphSequencer(int warmup_steps) : warmup_left_(warmup_steps < 1 ? 1 : warmup_steps) {}

StepKind GraphSequencer::plan(int64_t size) const {
  if (has_failed() || size <= 0) return StepKind::kEager;
  if (size_ >= 0 && size != size_) return StepKind::kEager;  // the first full batch fixes the shapes
  if (captured_) return StepKind::kReplay;
  return warmup_left_ > 0 ? StepKind::kWarmup : StepKind::kCapture;
}

void GraphSequencer::advance(StepKind kind, int64_t size) {
  if (kind == StepKind::kEager) return;
  if (size_ < 0) size_ = size;
  if (kind == StepKind::kReplay) ++replays_;
  if (kind == StepKind::kWarmup) --warmup_left_;
}

StepKind GraphSequencer::next(int64_t size) {
  const StepKind kind = plan(size);
  advance(kind, size);
  return kind;
}

void GraphSequencer::captured() { captured_ = true; }

void GraphSequencer::failed(const std::string& reason) {
  failure_ = reason.empty() ? "capture failed" : reason;
  captured_ = false;
}

}  // namespace roost::train
