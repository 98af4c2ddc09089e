// roost/train/graph_step.cc — the training step as a CUDA graph (see graph_step.h).
#include "roost/train/graph_step.h"

#include <cstdlib>

#include "roost/core/error.h"
#include "roost/core/log.h"
#include "roost/gpu/torch_cuda.h"
#include "roost/kernels/fused_sgd.h"
#include "roost/train/run_parts.h"
#include "step_parts.h"
#ifdef ROOST_WITH_NCCL
#include "roost/comm/nccl_communicator.h"
#endif

namespace roost::train {

GraphStepper::GraphStepper(RunParts& run, gpu::StepGraph::Backend backend, int warmup_steps)
    : run_(run), sequence_(warmup_steps), graph_(backend) {
  for (const torch::Tensor& p : run_.params)
    ROOST_CHECK(p.scalar_type() == run_.params.front().scalar_type(), "CUDA graphs: parameters of mixed types");
}

// A replay may still run: the graph's memory and the optimizer's tables it reads must not be
// freed under it.
GraphStepper::~GraphStepper() { graph_.wait(); }

namespace {

// The batch's tensors: the graph reads its batch from copies at fixed addresses.
void make_inputs(const torch::Tensor& inputs, const torch::Tensor& labels, torch::Tensor& static_inputs,
                 torch::Tensor& static_labels) {
  static_inputs = torch::empty_like(inputs);
  static_labels = torch::empty_like(labels);
}

// Clears the synchronizer's bypass however the step ends.
struct Bypass {
  sync::GradientSynchronizer& sync;
  explicit Bypass(sync::GradientSynchronizer& s) : sync(s) { sync.set_bypass(true); }
  ~Bypass() { sync.set_bypass(false); }
};

}  // namespace

// Whether every rank says yes (collective: every rank calls it at the same step).
bool GraphStepper::agree(bool yes) {
  if (run_.world == 1) return yes;
  double no = yes ? 0 : 1;
  run_.comm->allreduce(&no, 1, comm::DType::kFloat64, comm::ReduceOp::kSum);
  return no == 0;
}

// The graph's fixed addresses apart from the batch: the learning rate, the loss scale, the
// step's sums, and one gradient buffer whose slices every parameter's .grad views.
void GraphStepper::make_static() {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(run_.device);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(run_.device);
  lr_ = torch::zeros({}, f32);  // as the fused step reads it
  scale_ = torch::ones({}, f32);
  inv_scale_ = torch::ones({}, f32);
  found_inf_ = torch::zeros({}, f32);
  growth_ = torch::zeros({}, f32.dtype(torch::kInt32));
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

// Static tensors, gradients attached, momentum buffers made (a captured step must never be an
// optimizer's first); false, with the reason logged, where the fused device step cannot run.
// Collective, before the batch is uploaded (a refused start leaves it to the eager step).
bool GraphStepper::start() {
  make_static();
  attach_gradients();
  std::string why;
  if (graph_.backend() == gpu::StepGraph::Backend::kCuda) {
    run_.optimizer->preallocate_momentum();
    why = run_.optimizer->device_step_obstacle();
    if (!why.empty()) why = "the optimizer cannot step on the device: " + why;
  }
  if (agree(why.empty())) return true;
  sequence_.failed(why.empty() ? "another rank's optimizer cannot step on the device" : why);
  log_warn("CUDA graphs: ", sequence_.failure(), "; training goes on with eager steps");
  return false;
}

void GraphStepper::scaler_to_device() {
  if (!run_.scaler->enabled() || scaler_on_device_) return;
  scale_.fill_(run_.scaler->scale());
  inv_scale_.fill_(1.0 / run_.scaler->scale());
  growth_.fill_(run_.scaler->clean_steps());
  scaler_on_device_ = true;
}

void GraphStepper::scaler_to_host() {
  if (!scaler_on_device_) return;
  run_.scaler->restore(scale_.item<float>(), growth_.item<int32_t>());
  scaler_on_device_ = false;
}

void GraphStepper::work() {
  flat_grads_.zero_();  // backward adds into the attached gradients
  auto [logits, loss] = forward_loss(run_, inputs_, labels_);
  (run_.scaler->enabled() ? loss * scale_ : loss).backward();
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
  if (!run_.scaler->enabled()) return optimizer.step_on_device(lr_.data_ptr<float>());
  // fp16: a step with non-finite gradients (on every rank alike: they are averaged) changes
  // nothing but the scale, as LossScaler::update decides on the host in eager steps.
  float* found_inf = found_inf_.data_ptr<float>();
  optimizer.find_non_finite_on_device(found_inf);
  optimizer.step_on_device(lr_.data_ptr<float>(), inv_scale_.data_ptr<float>(), found_inf);
  kernels::update_loss_scale(scale_.data_ptr<float>(), growth_.data_ptr<int32_t>(), inv_scale_.data_ptr<float>(),
                             found_inf, run_.scaler->growth_interval(), gpu::current_stream());
}

// Captures the step on every rank; a capture that fails on any rank ends the run on every rank
// with CUDA's reason (the allocator's capture state cannot be rolled back reliably).
void GraphStepper::capture(const StepPlace& at) {
  std::string error;
  try {
    graph_.capture([this] { work(); });
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!agree(error.empty())) {
    ROOST_THROW(error.empty() ? std::string("CUDA graph capture failed on another rank") : error,
                "; --cuda-graphs off trains with eager steps");
  }
  sequence_.captured();
  log_info("the training step is replayed as a CUDA graph from step ", at.step + 1, " of epoch ", at.epoch,
           " (batches of ", sequence_.capture_size(), " images)");
}

bool GraphStepper::step(data::Batch& batch, const StepPlace& at, DeviceSums& sums) {
  // One image per batch stays eager (BatchNorm may need to skip it: train_step.cc). Every
  // rank takes the same kind of step, since their collectives must match: a rank whose batch
  // is short (an unreadable image left out) makes the step eager on every rank.
  const int64_t size = batch.size > 1 ? batch.size : 0;
  StepKind kind = sequence_.plan(size);
  if (!agree(kind != StepKind::kEager)) kind = StepKind::kEager;
  if (kind == StepKind::kEager) return false;
  if (grads_.empty() && !start()) return false;
  sequence_.advance(kind, size);
  auto [inputs, labels] = run_.source->to_device(batch);
  if (!inputs_.defined()) make_inputs(inputs, labels, inputs_, labels_);
  inputs_.copy_(inputs);
  labels_.copy_(labels);
  lr_.fill_(run_.schedule->at(at.epoch, at.step, at.steps));
  attach_gradients();
  scaler_to_device();
  {
    Bypass bypass(*run_.synchronizer);  // the step averages its own gradients
    if (kind == StepKind::kWarmup) graph_.warmup([this] { work(); });
    if (kind == StepKind::kCapture) capture(at);
    if (kind == StepKind::kCapture || kind == StepKind::kReplay) graph_.replay();
  }
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
