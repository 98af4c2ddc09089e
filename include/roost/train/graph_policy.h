// roost/train/graph_policy.h — whether a training run replays its step as a CUDA graph
// (--cuda-graphs auto|on|off), and when each batch is stepped eagerly, warmed up, captured or
// replayed. No torch: the decisions are plain data, tested on any machine.
//
// A CUDA graph replays a fixed list of kernels on fixed addresses, so only a step whose work
// is the same every time can be captured: a GPU, a libtorch built with CUDA, one backward pass
// per step, gradients exchanged by NCCL inside the graph (or one rank: no exchange), BatchNorm
// without host-side synchronisation, no timeline (its events come from the host). Batches of
// another size than the captured one (the last, short batch of an epoch; a skipped or empty
// batch) take the eager step; so do the first warm-up steps (cuDNN's algorithm search and
// the allocator's first requests must not happen inside the capture).
#pragma once

#include <cstdint>
#include <string>

namespace roost::train {

enum class CudaGraphs { kAuto, kOn, kOff };

// "auto", "on" or "off"; anything else is a UsageError naming --cuda-graphs.
CudaGraphs parse_cuda_graphs(const std::string& text);

// What the run looks like, as far as capture is concerned.
struct GraphConditions {
  bool on_gpu = false;          // the model trains on a CUDA device
  bool torch_cuda = false;      // roost was built against a CUDA libtorch (or a test emulates one)
  int world = 1;                // ranks
  bool device_exchange = true;  // world > 1: gradients go over NCCL (false: MPI through host memory)
  int backward_passes_per_step = 1;
  bool sync_bn = false;   // synchronized BatchNorm (host collectives in forward)
  bool timeline = false;  // --timeline (host-side events per tensor)
  bool fp16_allreduce = false;
  bool shared_update = false;  // each rank of a node steps its share (host memory only)
};

struct GraphChoice {
  bool use = false;
  std::string reason;  // why not, when !use (empty for --cuda-graphs off)
};

// kOff: never. kAuto: when nothing stands in the way, else the first obstacle as the reason.
// kOn: as kAuto, but an obstacle is a UsageError "--cuda-graphs on: <reason>".
GraphChoice choose_cuda_graphs(CudaGraphs mode, const GraphConditions& c);

// Per batch: which kind of step. Every rank sees the same batch sizes in the same order
// (equal shards), so every rank captures and replays at the same steps.
enum class StepKind { kEager, kWarmup, kCapture, kReplay };

class GraphSequencer {
 public:
  // warmup_steps: full-size eager steps before the capture (at least 1).
  explicit GraphSequencer(int warmup_steps = 3);

  // The kind of step for a batch of `size` images (0: an empty or skipped batch). The first
  // full-size batch fixes the captured size; after a capture failed, always kEager.
  // plan() only looks; advance() takes the step (the ranks may first agree on it);
  // next() is both.
  StepKind plan(int64_t size) const;
  void advance(StepKind kind, int64_t size);
  StepKind next(int64_t size);
  void captured();                         // the capture succeeded: replays follow
  void failed(const std::string& reason);  // the capture failed: eager from now on
  bool is_captured() const { return captured_; }
  bool has_failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  int64_t capture_size() const { return size_; }
  int64_t replays() const { return replays_; }

 private:
  int warmup_left_;
  int64_t size_ = -1;
  bool captured_ = false;
  std::string failure_;
  int64_t replays_ = 0;
};

}  // namespace roost::train
