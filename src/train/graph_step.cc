// roost/train/graph_step.cc — the training step as a CUDA graph (see graph_step.h).
#include "roost/train/graph_step.h"

#include <cstdlib>

#include "roost/core/error.h"
#include "roost/core/log.h"
#include "roost/train/run_parts.h"
#include "step_parts.h"
#ifdef ROOST_WITH_NCCL
#include "roost/comm/nccl_communicator.h"
#include "roost/gpu/torch_cuda.h"
#endif

namespace roost::train {

GraphStepper::GraphStepper(RunParts& run, gpu::StepGraph::Backend backend, int warmup_steps)
    : run_(run), sequence_(warmup_steps), graph_(backend) {
  for (const torch::Tensor& p : run_.params)
    ROOST_CHECK(p.scalar_type() == run_.params.front().scalar_type(), "CUDA graphs: parameters of mixed types");
}

GraphStepper::~GraphStepper() = default;

// The graph's fixed addresses: the batch's tensors, the learning rate, the step's sums, and
// one gradient buffer whose slices every parameter's .grad views.
void GraphStepper::make_static(const torch::Tensor& inputs, const torch::Tensor& labels) {
  inputs_ = torch::empty_like(inputs);
  labels_ = torch::empty_like(labels);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(run_.device);
  lr_ = torch::zeros({}, f64);
  loss_sum_ = torch::zeros({}, f64);
  correct_ = torch::zeros({}, f64);
  int64_t total = 0;
  for (const torch::Tensor& p : run_.params) total += p.numel();
  flat_grads_ = torch::zeros({total}, run_.params.front().options());
  int64_t offset = 0;
  for (const torch::Tensor& p : run_.params) {
    // Dense in the parameter's own layout (channels-last stays channels-last), so that the
    // optimizer sees gradient and parameter element for element.
    grads_.push_back(
        torch::empty({0}, flat_grads_.options())
            .set_(flat_grads_.storage(), offset, p.sizes(), p.contiguous(p.suggest_memory_format()).strides()));
    offset += p.numel();
  }
}

// Eager steps release or replace .grad; the graph's steps accumulate into the flat buffer.
void GraphStepper::attach_gradients() {
  for (size_t i = 0; i < run_.params.size(); ++i) run_.params[i].mutable_grad() = grads_[i];
}

void GraphStepper::work() {
  flat_grads_.zero_();  // backward adds into the attached gradients
  auto [logits, loss] = forward_loss(run_, inputs_, labels_);
  loss.backward();
  torch::NoGradGuard no_grad;
  average();
  update();
  const double images = static_cast<double>(inputs_.size(0));
  loss_sum_.copy_(loss.detach().to(torch::kFloat64) * images);
  correct_.copy_(logits.argmax(1).eq(labels_).sum().to(torch::kFloat64));
}

void GraphStepper::average() {
  if (run_.world == 1) return;
  comm::Communicator& comm = run_.backend->reduce();
  const auto all = [&] {
    comm.allreduce(flat_grads_.data_ptr(), static_cast<size_t>(flat_grads_.numel()), comm::DType::kFloat32,
                   comm::ReduceOp::kAverage);
  };
#ifdef ROOST_WITH_NCCL
  // On the stream being captured (or the warm-up's side stream), not NCCL's own; eager
  // steps go on using NCCL's.
  if (auto* nccl = dynamic_cast<comm::NcclCommunicator*>(&comm)) {
    void* own = nccl->stream();
    nccl->set_stream(gpu::current_stream());
    try {
      all();
    } catch (...) {
      nccl->set_stream(own);
      throw;
    }
    nccl->set_stream(own);
    return;
  }
#endif
  all();
}

void GraphStepper::update() {
  Sgd& optimizer = *run_.optimizer;
  if (graph_.backend() == gpu::StepGraph::Backend::kHostRerun) {
    optimizer.set_lr(lr_.item<double>());  // the emulation reruns host code on every replay
    optimizer.step();
    return;
  }
#ifdef ROOST_TORCH_CUDA
  optimizer.step_on_device(lr_);
#endif
}

bool GraphStepper::step(data::Batch& batch, const StepPlace& at, DeviceSums& sums) {
  // One image per batch stays eager (BatchNorm may need to skip it: train_step.cc).
  const StepKind kind = sequence_.next(batch.size > 1 ? batch.size : 0);
  if (kind == StepKind::kEager) return false;
  auto [inputs, labels] = run_.source->to_device(batch);
  if (!inputs_.defined()) make_static(inputs, labels);
  inputs_.copy_(inputs);
  labels_.copy_(labels);
  lr_.fill_(run_.schedule->at(at.epoch, at.step, at.steps));
  attach_gradients();
  run_.synchronizer->set_bypass(true);  // the step averages its own gradients
  try {
    if (kind == StepKind::kWarmup) graph_.warmup([this] { work(); });
    if (kind == StepKind::kCapture) {
      graph_.capture([this] { work(); });
      sequence_.captured();
      log_info("the training step is replayed as a CUDA graph from step ", at.step + 1, " of epoch ", at.epoch,
               " (batches of ", sequence_.capture_size(), " images)");
    }
    if (kind == StepKind::kCapture || kind == StepKind::kReplay) graph_.replay();
  } catch (const Error& e) {
    run_.synchronizer->set_bypass(false);
    if (kind != StepKind::kCapture) throw;
    sequence_.failed(e.what());
    log_warn(e.what(), ": training goes on with eager steps");
    return false;
  }
  run_.synchronizer->set_bypass(false);
  sums.loss_sum = sums.loss_sum + loss_sum_;
  sums.correct = sums.correct + correct_;
  sums.images += batch.size;
  return true;
}

std::unique_ptr<GraphStepper> make_graph_stepper(RunParts& run) {
  const char* emulate = std::getenv("ROOST_CUDA_GRAPHS_EMULATE");
  const bool emulated = emulate != nullptr && std::string(emulate) == "1";
  GraphConditions c;
  c.on_gpu = run.on_gpu || emulated;
  c.torch_cuda = gpu::StepGraph::cuda_available() || emulated;
  c.world = run.world;
  c.device_exchange = run.backend->on_device() || emulated;
  c.backward_passes_per_step = run.config.backward_passes_per_step;
  c.sync_bn = run.config.sync_bn;
  c.timeline = !run.config.timeline.empty();
  c.fp16_allreduce = run.config.fp16_allreduce;
  c.fp16_scaling = run.scaler->enabled();
  c.shared_update = run.shared_update;
  const GraphChoice choice = choose_cuda_graphs(parse_cuda_graphs(run.config.cuda_graphs), c);
  if (!choice.use) {
    if (!choice.reason.empty() && run.on_gpu && run.rank == 0) log_info("eager training steps: ", choice.reason);
    return nullptr;
  }
  return std::make_unique<GraphStepper>(
      run, emulated ? gpu::StepGraph::Backend::kHostRerun : gpu::StepGraph::Backend::kCuda);
}

}  // namespace roost::train
