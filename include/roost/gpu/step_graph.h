// roost/gpu/step_graph.h — a piece of torch work captured once as a CUDA graph and replayed,
// behind a header without c10/cuda (the trainer and benchmarks use it on any build).
//
// Warm-up runs and the capture run on a side stream that first waits for the caller's
// current stream, and the caller's stream then waits for the side stream: to the caller the
// work is ordered like an eager call. Replays launch on the caller's current stream.
//
// Backend::kHostRerun is an emulation for machines without a GPU: the capture records the
// function and each replay calls it again. It shows whether a step reads and writes only its
// static tensors (a replayed step then trains like an eager one), not whether CUDA can
// capture it: host-side logic in the function runs again on every emulated replay, where a
// real graph would replay only the kernels the first call launched.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace roost::gpu {

class StepGraph {
 public:
  enum class Backend { kCuda, kHostRerun };

  // kCuda needs a libtorch built with CUDA (cuda_available()); throws otherwise.
  explicit StepGraph(Backend backend = Backend::kCuda);
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  static bool cuda_available();

  // Runs `work` eagerly on the side stream the capture will use.
  void warmup(const std::function<void()>& work);
  // Captures `work` (its kernels are not run). On failure the capture is abandoned, the
  // graph stays empty and an Error says what CUDA or torch refused.
  void capture(const std::function<void()>& work);
  void replay();
  // Waits until the device has finished every replay (before what a graph reads is freed).
  void wait();
  bool captured() const;
  Backend backend() const { return backend_; }

 private:
  struct Impl;
  Backend backend_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roost::gpu
