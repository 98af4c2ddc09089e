// roost/sync/grad_sync.h — the gradient synchronizer (what Horovod's DistributedOptimizer
// and DDP's reducer do): a hook on every parameter hands each gradient to a queue as soon
// as backward produces it; a background thread negotiates with the other ranks which
// gradients are ready everywhere, fuses them (per dtype, up to the fusion threshold) and
// starts their allreduce while backward goes on; synchronize() waits for the rest and
// writes the averaged gradients back, ready for optimizer.step().
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "roost/comm/communicator.h"
#include "roost/gpu/comm_stream.h"
#include "roost/sync/grad_arena.h"
#include "roost/sync/options.h"
#include "roost/sync/controller.h"
#include "roost/sync/timeline.h"

namespace roost::sync {

class GradientSynchronizer {
 public:
  // `reduce_comm` carries the fused allreduces (host or device memory, matching the
  // parameters' device, or host memory for a device-less communicator: then device
  // buffers are staged through the host). `negotiation_comm` must be used by nobody else
  // and be a host backend (MPI or threads: rank 0 probes it).
  GradientSynchronizer(std::vector<std::pair<std::string, torch::Tensor>> params, comm::Communicator& reduce_comm,
                       comm::Communicator& negotiation_comm, int rank, const SyncOptions& options);
  ~GradientSynchronizer();
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Call before each backward pass (each micro-batch).
  void begin_backward();
  // While set, the hooks ignore gradients: a step that averages and applies its own (the
  // CUDA graph step, graph_step.h) runs backward without the synchronizer.
  void set_bypass(bool on) { bypass_ = on; }
  // GPU gradients over NCCL: the allreduces go on `stream` (the communicator's), ordered
  // against backward by events, instead of on the compute stream (comm_stream.h). With a
  // timeline file, each step's backward and allreduces on the GPU are added to it as measured
  // by the GPU (lanes "gpu backward" and "gpu allreduce"), which shows their overlap. Call
  // before the first backward; the stream must outlive the synchronizer.
  void set_device_stream(const gpu::CommStream* stream) { stream_ = stream; }

  // Instead of a backward pass, when this rank has no samples for the micro-batch.
  void submit_zero_gradients();
  // After backward: on the last micro-batch of a step, waits until every gradient is
  // averaged over ranks and micro-batches and written to .grad, then returns true (step
  // the optimizer). On earlier micro-batches returns false at once.
  // With `on_ready`, each fused group's parameters are handed to it as soon as their .grad
  // is written, while later groups are still being reduced: the caller can step them in
  // time it would spend waiting. Every parameter is handed over once per step.
  using ReadyFn = std::function<void(const std::vector<torch::Tensor>& params)>;
  bool synchronize(const ReadyFn& on_ready = nullptr);

  // The shared update: from now on each fused group of float32 host gradients is reduced
  // with reduce_apply, and this rank's chunks of the average go to `update(parameter, first
  // element, count, averaged values)` on the background thread, instead of the whole average
  // becoming every rank's .grad. For parameters in memory every rank maps
  // (node_shared_copies) and an update that writes only there: each rank then updates its
  // share of the parameters and no rank copies the result of the others'. synchronize()
  // returns once every rank's updates are done and leaves .grad alone (there it holds this
  // rank's own gradient). Call before the first backward; needs a communicator with
  // reduce_apply and one backward pass per step.
  using UpdateFn = std::function<void(const torch::Tensor& param, int64_t first, int64_t count, const float* averaged)>;
  void set_update(UpdateFn update);
  bool can_update() const { return options_.backward_passes_per_step == 1 && !options_.fp16_allreduce; }
  bool updates() const { return static_cast<bool>(update_); }

  Timeline& timeline() { return timeline_; }
  const Controller& controller() const { return controller_; }
  double allreduce_seconds() const { return allreduce_us_.load() / 1e6; }
  double wait_seconds() const { return wait_us_.load() / 1e6; }
  void reset_timers() { allreduce_us_ = 0, wait_us_ = 0; }
  // Host blocks allocated for averaged gradients so far (one per type when steps reuse them).
  int64_t arena_allocations() const { return arena_.allocations(); }

 private:
  struct Slot {
    std::string name;
    torch::Tensor param;
    torch::Tensor submitted;  // the step's gradient, handed over by the hook
    torch::Tensor averaged;   // result of the allreduce
    int hook = -1;
    gpu::StreamMark ready;                  // GPU: backward produced `submitted` (on the compute stream)
    std::shared_ptr<gpu::StreamMark> done;  // GPU: `averaged` is final (on the exchange stream)
  };

  void on_gradient(size_t index, const torch::Tensor& grad);
  void loop();
  void reduce_ready(const std::vector<int32_t>& ready);
  void reduce_fused(const std::vector<int32_t>& group);
  void finish_fused(const std::vector<int32_t>& group, torch::Tensor buffer);
  void divide_by_micro_batches(torch::Tensor& buffer) const;
  void write_device_spans(const gpu::StreamMark& backward_end);
  void reduce_and_update(const std::vector<int32_t>& group, const std::vector<torch::Tensor>& flat);

  std::vector<Slot> slots_;
  comm::Communicator& comm_;
  Controller controller_;
  SyncOptions options_;
  Timeline timeline_;
  int rank_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<int32_t> queue_;  // submitted, not yet negotiated
  size_t done_ = 0;             // this step
  std::vector<int32_t> ready_;  // averaged, .grad not yet written
  bool active_ = false;         // a step's gradients are being synchronized
  bool stop_ = false;
  std::exception_ptr error_;
  std::atomic<int> pass_{0};
  std::atomic<bool> bypass_{false};
  std::atomic<int64_t> allreduce_us_{0}, wait_us_{0};
  GradientArena arena_;  // the sync thread's; next_step() while it is idle
  UpdateFn update_;      // set before the first backward, then only read
  const gpu::CommStream* stream_ = nullptr;
  // GPU spans for the timeline (only with a timeline file): backward's start, the host time
  // it was marked at, and each fused allreduce's start and end marks on the exchange stream.
  struct DeviceSpan {
    std::string name;
    gpu::StreamMark start, end;
  };
  gpu::StreamMark backward_start_;
  double backward_start_us_ = 0;
  std::vector<DeviceSpan> device_spans_;  // the sync thread's until synchronize() takes them
  std::thread thread_;
};

}  // namespace roost::sync
