// onednn_resnet.h — FoldedResNet's oneDNN backend (private to roost_model): the folded ResNet
// as oneDNN primitives called directly rather than through ATen's mkldnn ops, which lets
// oneDNN do what ATen 1.13 cannot ask of it:
//  - Winograd for the stride-1 3x3 convolutions (oneDNN's jit_wino_4x3 for batches, its 2x3
//    kernel for one image; about twice the direct kernel's speed here, and differences from
//    the direct result are float rounding, ~1e-6 relative per layer), the direct kernel where
//    Winograd does not apply;
//  - the ReLU, and the block's shortcut addition, fused into the convolution (post-ops: sum,
//    then ReLU), so no pass over memory of their own;
//  - primitives made for inference (forward_inference), weights reordered once per layout.
// Activations stay in nChw16c from the first convolution to the last; the global average
// pooling and the classifier are left to the caller.
//
// Primitives depend on the batch size and image size, so a plan of them is made on first use
// of each (N, H, W) and kept; plans and their weights are shared by all threads, and each call
// takes a workspace (activation buffers, scratchpad) of its plan's own that no other call is
// using, so several threads may run forward passes at once.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

namespace roost::model::onednn {

struct ConvLayer {
  torch::Tensor weight, bias;  // folded: OIHW float32, [O] float32
  int64_t stride = 1, padding = 0;
};

struct BlockLayers {
  std::vector<ConvLayer> convs;  // ReLU after each but the last, whose output joins the shortcut
  bool has_downsample = false;
  ConvLayer downsample;
};

class Network {
 public:
  Network(ConvLayer stem, std::vector<BlockLayers> blocks);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;
  // The last block's output [N, C, h, w] (float32, dense) for x [N, 3, H, W] (float32, dense).
  torch::Tensor features(const torch::Tensor& x) const;

 private:
  struct Impl;  // plans, the weights in oneDNN's layouts, workspaces (onednn_resnet.cc)
  std::unique_ptr<Impl> impl_;
};

}  // namespace roost::model::onednn
