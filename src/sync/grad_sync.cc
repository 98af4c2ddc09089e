// roost/sync/grad_sync.cc — hooks, the background negotiation/fusion thread, write-back.
#include "roost/sync/grad_sync.h"

#include <chrono>
#include <optional>

#include "roost/core/error.h"
#include "roost/core/log.h"

namespace roost::sync {

namespace {
using Clock = std::chrono::steady_clock;

comm::DType dtype_of(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return comm::DType::kFloat32;
    case torch::kFloat64: return comm::DType::kFloat64;
    case torch::kFloat16: return comm::DType::kFloat16;
    case torch::kBFloat16: return comm::DType::kBFloat16;
    default: ROOST_THROW("cannot allreduce gradients of type ", c10::toString(t.scalar_type()));
  }
}

int64_t us_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}
}  // namespace

GradientSynchronizer::GradientSynchronizer(std::vector<std::pair<std::string, torch::Tensor>> params,
                                           comm::Communicator& reduce_comm, comm::Communicator& negotiation_comm,
                                           int rank, const SyncOptions& options)
    : comm_(reduce_comm),
      controller_(
          negotiation_comm,
          [&] {
            std::vector<std::string> names;
            for (auto& p : params)
              if (p.second.requires_grad()) names.push_back(p.first);
            return names;
          }(),
          ControllerOptions{options.stall_warning_s, options.stall_shutdown_s}),
      options_(options),
      timeline_(options.timeline_path, rank),
      rank_(rank) {
  ROOST_CHECK(options_.backward_passes_per_step >= 1, "backward_passes_per_step must be >= 1");
  for (auto& [name, tensor] : params) {
    if (!tensor.requires_grad()) continue;  // frozen parameters take no part
    slots_.push_back(Slot{name, tensor, {}, {}, -1});
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].hook = static_cast<int>(slots_[i].param.register_hook([this, i](torch::Tensor grad) {
      on_gradient(i, grad);
      return grad;
    }));
  }
  thread_ = std::thread([this] { loop(); });
}

GradientSynchronizer::~GradientSynchronizer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& s : slots_)
    if (s.hook >= 0) s.param.remove_hook(static_cast<unsigned>(s.hook));
}

void GradientSynchronizer::begin_backward() {
  ++pass_;
  if (stream_ && timeline_.writes_file()) {
    backward_start_ = gpu::CommStream::mark_current(/*timed=*/true);
    backward_start_us_ = timeline_.now_us();
  }
}

void GradientSynchronizer::submit_zero_gradients() {
  // A rank whose micro-batch was empty (every image unreadable) still takes part in the
  // step, contributing zeros, so the other ranks are not left waiting for it.
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < slots_.size(); ++i) on_gradient(i, torch::zeros_like(slots_[i].param));
}

void GradientSynchronizer::on_gradient(size_t index, const torch::Tensor& grad) {
  if (bypass_) return;  // a step that averages its own gradients (a CUDA graph's)
  const int k = options_.backward_passes_per_step;
  if (pass_ % k != 0) return;  // earlier micro-batch: autograd accumulates into .grad
  Slot& s = slots_[index];
  // The step's gradient: this pass plus what earlier micro-batches accumulated in .grad.
  torch::Tensor total = grad.detach();
  if (k > 1 && s.param.grad().defined()) total = total + s.param.grad().detach();
  timeline_.begin(s.name, "NEGOTIATE");
  if (stream_ && total.is_cuda()) s.ready = gpu::CommStream::mark_current();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    s.submitted = total;
    queue_.push_back(static_cast<int32_t>(index));
    active_ = true;
  }
  cv_.notify_all();
}

void GradientSynchronizer::loop() {
  const auto cycle = std::chrono::microseconds(static_cast<int64_t>(options_.cycle_time_ms * 1000));
  while (true) {
    std::vector<TensorRequest> requests;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || active_; });
      if (stop_) return;
      for (int32_t i : queue_) {
        const torch::Tensor& t = slots_[i].submitted;
        requests.push_back(TensorRequest{i, static_cast<int32_t>(dtype_of(t)),
                                         std::vector<int64_t>(t.sizes().begin(), t.sizes().end())});
      }
      queue_.clear();
    }
    auto round_start = Clock::now();
    try {
      std::vector<int32_t> ready = controller_.negotiate(requests);
      for (int32_t i : ready) {
        timeline_.end(slots_[i].name, "NEGOTIATE");
        timeline_.begin(slots_[i].name, "QUEUE");
      }
      reduce_ready(ready);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      active_ = false;
      cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (done_ == slots_.size()) {
        active_ = false;  // step complete on every rank (responses are identical)
        cv_.notify_all();
        continue;
      }
    }
    // Wait out the rest of the cycle so a round carries several newly ready gradients.
    auto left = cycle - (Clock::now() - round_start);
    if (left > Clock::duration::zero()) {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait_for(lock, left, [&] { return stop_; });
    }
  }
}

void GradientSynchronizer::reduce_ready(const std::vector<int32_t>& ready) {
  const int64_t threshold = static_cast<int64_t>(options_.fusion_threshold_mb * 1024 * 1024);
  std::vector<int32_t> group;
  int64_t group_bytes = 0;
  auto flush = [&] {
    if (!group.empty()) reduce_fused(group);
    group.clear();
    group_bytes = 0;
  };
  for (int32_t i : ready) {
    const torch::Tensor& t = slots_[i].submitted;
    int64_t bytes = t.numel() * t.element_size();
    bool same_kind = group.empty() || (slots_[group.front()].submitted.scalar_type() == t.scalar_type() &&
                                       slots_[group.front()].submitted.device() == t.device());
    if (!same_kind || (group_bytes + bytes > threshold && !group.empty())) flush();
    group.push_back(i);
    group_bytes += bytes;
  }
  flush();
}

void GradientSynchronizer::reduce_fused(const std::vector<int32_t>& group) {
  const std::string name = group.size() == 1
                               ? slots_[group[0]].name
                               : "fused:" + slots_[group[0]].name + "+" + std::to_string(group.size() - 1);
  for (int32_t i : group) timeline_.end(slots_[i].name, "QUEUE");
  torch::NoGradGuard no_grad;
  // GPU over NCCL: everything below (fusion copy, allreduce, slicing) runs on the exchange
  // stream once backward has produced the group's gradients there.
  std::optional<gpu::CommStream::Current> on_exchange;
  const bool device_stream = stream_ && slots_[group[0]].submitted.is_cuda();
  if (device_stream) {
    on_exchange.emplace(*stream_);
    for (int32_t i : group) {
      stream_->wait(slots_[i].ready);
      stream_->used_here(slots_[i].submitted);
    }
  }
  const bool timed = device_stream && timeline_.writes_file();
  gpu::StreamMark started = timed ? stream_->mark(true) : gpu::StreamMark();
  std::vector<torch::Tensor> flat;
  for (int32_t i : group) flat.push_back(slots_[i].submitted.reshape({-1}).contiguous());
  const torch::Tensor& first = flat.front();
  if (update_ && !first.is_cuda() && first.scalar_type() == torch::kFloat32) {
    reduce_and_update(group, flat);
    return;
  }
  if (!first.is_cuda() && !(options_.fp16_allreduce && first.scalar_type() == torch::kFloat32)) {
    // Host memory, sent as is: the transport fuses the gradients piece by piece as it
    // reduces (allreduce_parts), with no separate pass that fills a fusion buffer first.
    int64_t total = 0;
    std::vector<comm::Communicator::Part> parts;
    for (const torch::Tensor& f : flat) {
      parts.push_back({f.data_ptr(), static_cast<size_t>(f.numel())});
      total += f.numel();
    }
    torch::Tensor buffer = arena_.take(total, first.options());
    timeline_.begin(name, "ALLREDUCE");
    auto t0 = Clock::now();
    comm_.allreduce_parts(parts, buffer.data_ptr(), dtype_of(buffer), comm::ReduceOp::kAverage);
    allreduce_us_ += us_since(t0);
    timeline_.end(name, "ALLREDUCE");
    timeline_.begin(name, "MEMCPY_OUT_FUSION_BUFFER");
    divide_by_micro_batches(buffer);
    finish_fused(group, buffer);
    timeline_.end(name, "MEMCPY_OUT_FUSION_BUFFER");
    return;
  }
  timeline_.begin(name, "MEMCPY_IN_FUSION_BUFFER");
  torch::Tensor buffer = flat.size() == 1 ? flat[0].clone() : torch::cat(flat);
  const torch::ScalarType original = buffer.scalar_type();
  if (options_.fp16_allreduce && original == torch::kFloat32) buffer = buffer.to(torch::kFloat16);
  // Communicators without device support get a host copy.
  const bool staged = buffer.is_cuda() && comm_.backend() != "nccl";
  torch::Tensor wire = staged ? buffer.to(torch::kCPU) : buffer;
  timeline_.end(name, "MEMCPY_IN_FUSION_BUFFER");

  timeline_.begin(name, "ALLREDUCE");
  auto t0 = Clock::now();
  comm_.allreduce(wire.data_ptr(), static_cast<size_t>(wire.numel()), dtype_of(wire), comm::ReduceOp::kAverage);
  allreduce_us_ += us_since(t0);
  timeline_.end(name, "ALLREDUCE");

  timeline_.begin(name, "MEMCPY_OUT_FUSION_BUFFER");
  if (staged) buffer.copy_(wire);
  if (buffer.scalar_type() != original) buffer = buffer.to(original);
  divide_by_micro_batches(buffer);  // first: the done mark must follow every write to the buffer
  if (device_stream) {
    auto done = std::make_shared<gpu::StreamMark>(stream_->mark(timed));
    if (timed) {
      std::lock_guard<std::mutex> lock(mutex_);
      device_spans_.push_back(DeviceSpan{name, std::move(started), stream_->mark(true)});
    }
    for (int32_t i : group) slots_[i].done = done;
  }
  finish_fused(group, buffer);
  timeline_.end(name, "MEMCPY_OUT_FUSION_BUFFER");
}

// The step's GPU work as the GPU timed it: backward on the compute stream (up to the mark
// synchronize() made when it was called, after every backward kernel was queued) and each
// fused allreduce on the exchange stream.
// Waits for the GPU: only with a timeline file, which is for looking, not for speed.
void GradientSynchronizer::write_device_spans(const gpu::StreamMark& backward_end) {
  std::vector<DeviceSpan> spans;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    spans.swap(device_spans_);
  }
  if (backward_start_.empty() || backward_end.empty()) return;
  auto at = [&](const gpu::StreamMark& m) { return backward_start_us_ + 1000.0 * m.ms_since(backward_start_); };
  timeline_.span("gpu backward", "BACKWARD", backward_start_us_, at(backward_end));
  for (const DeviceSpan& s : spans) timeline_.span("gpu allreduce", "ALLREDUCE " + s.name, at(s.start), at(s.end));
}

void GradientSynchronizer::set_update(UpdateFn update) {
  ROOST_CHECK(can_update(), "the shared update needs one backward pass per step and float32 allreduces");
  update_ = std::move(update);
}

// The group's parameters are updated where they lie, each rank its chunks of the average.
void GradientSynchronizer::reduce_and_update(const std::vector<int32_t>& group,
                                             const std::vector<torch::Tensor>& flat) {
  const std::string& name = slots_[group[0]].name;
  std::vector<comm::Communicator::Part> parts;
  for (const torch::Tensor& f : flat) parts.push_back({f.data_ptr(), static_cast<size_t>(f.numel())});
  timeline_.begin(name, "ALLREDUCE");
  auto t0 = Clock::now();
  comm_.reduce_apply(parts, comm::DType::kFloat32, comm::ReduceOp::kAverage,
                     [&](size_t part, size_t first, size_t count, const void* values) {
                       update_(slots_[group[part]].param, static_cast<int64_t>(first), static_cast<int64_t>(count),
                               static_cast<const float*>(values));
                     });
  allreduce_us_ += us_since(t0);
  timeline_.end(name, "ALLREDUCE");
  std::lock_guard<std::mutex> lock(mutex_);
  for (int32_t i : group) slots_[i].submitted = torch::Tensor();
  done_ += group.size();
  cv_.notify_all();
}

void GradientSynchronizer::divide_by_micro_batches(torch::Tensor& buffer) const {
  if (options_.backward_passes_per_step > 1) buffer.div_(static_cast<double>(options_.backward_passes_per_step));
}

// Slices of the averaged buffer's storage (already divided by the micro-batches) become the
// group's results (no copy).
void GradientSynchronizer::finish_fused(const std::vector<int32_t>& group, torch::Tensor buffer) {
  int64_t offset = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  for (int32_t i : group) {
    Slot& s = slots_[i];
    int64_t n = s.submitted.numel();
    // A tensor over the buffer's storage, not an autograd view of it: it may become .grad,
    // and optimizers detach_() and zero_() gradients in place, which views refuse.
    const auto sizes = s.submitted.sizes();
    std::vector<int64_t> strides(sizes.size());
    int64_t stride = 1;
    for (size_t d = sizes.size(); d-- > 0;) strides[d] = stride, stride *= sizes[d];
    s.averaged =
        torch::empty({0}, buffer.options()).set_(buffer.storage(), buffer.storage_offset() + offset, sizes, strides);
    s.submitted = torch::Tensor();
    offset += n;
    ++done_;
    ready_.push_back(i);
  }
  cv_.notify_all();  // synchronize() may hand these over while later groups are reduced
}

bool GradientSynchronizer::synchronize(const ReadyFn& on_ready) {
  if (pass_ % options_.backward_passes_per_step != 0) return false;
  gpu::StreamMark backward_end;  // GPU timeline: where backward's kernels end
  if (stream_ && timeline_.writes_file()) backward_end = gpu::CommStream::mark_current(/*timed=*/true);
  int64_t waited_us = 0;
  std::vector<int32_t> batch;
  std::vector<torch::Tensor> params;
  for (bool finished = false; !finished;) {
    {
      auto t0 = Clock::now();
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return error_ || !ready_.empty() || (done_ == slots_.size() && !active_); });
      waited_us += us_since(t0);
      if (error_) std::rethrow_exception(error_);
      batch.swap(ready_);
      // Every group was pushed to ready_ before done_ reached the count: this batch is the last.
      finished = done_ == slots_.size() && !active_;
    }
    // The sync thread is done with these slots for this step: no lock needed.
    params.clear();
    const gpu::StreamMark* last_done = nullptr;
    for (int32_t i : batch) {
      Slot& s = slots_[i];
      // The averaged gradient becomes .grad itself where it has the parameter's layout (a
      // view of the fused buffer): no copy. Else (channels-last parameters on GPU) it is
      // copied in.
      const torch::Tensor& avg = s.averaged;
      if (s.done) {  // GPU: the compute stream waits for this group's allreduce only
        if (s.done.get() != last_done) gpu::CommStream::current_waits(*s.done);
        last_done = s.done.get();
        gpu::CommStream::used_on_current(avg);
      }
      if (avg.strides() == s.param.strides() && avg.scalar_type() == s.param.scalar_type() &&
          avg.device() == s.param.device()) {
        s.param.mutable_grad() = avg;
      } else {
        if (!s.param.grad().defined()) s.param.mutable_grad() = torch::zeros_like(s.param);
        s.param.mutable_grad().detach().copy_(avg);
      }
      s.averaged = torch::Tensor();
      s.done.reset();
      if (on_ready) params.push_back(s.param);
    }
    batch.clear();
    if (on_ready && !params.empty()) on_ready(params);
  }
  wait_us_ += waited_us;
  if (stream_ && timeline_.writes_file()) write_device_spans(backward_end);
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = 0;
  arena_.next_step();  // the sync thread is idle until the next backward submits
  return true;
}

}  // namespace roost::sync
