// roost/export/onnx.h — a roost weight file (model.h5, last.h5, a registry copy) as an ONNX
// model any runtime can load: the ResNet's graph read off the weights' names and shapes
// (BasicBlock or Bottleneck, downsample where present), written through the ONNX protobuf
// classes. Input `input` float32 [N,3,H,W] (N symbolic unless a batch is fixed), output
// `logits` [N,classes]; metadata_props carry the class names and the preprocessing a
// consumer must apply. Torch stays behind the implementation.
#pragma once

#include <string>

namespace roost::exporting {

struct OnnxOptions {
  int opset = 13;                      // 11..17
  bool fold_bn = false;                // BatchNormalization folded into the preceding Conv
  int batch = 0;                       // 0: symbolic "N"; else a fixed batch size
  bool include_preprocessing = false;  // input in 0..255 (RGB, float); normalization in the graph
};

inline constexpr int kMinOpset = 11, kMaxOpset = 17;

// Reads `model_path` and writes the ONNX file to `out_path` atomically (no partial file on
// failure). UsageError for a file that is not a roost weight file, a bad option or an
// unwritable path.
void export_onnx(const std::string& model_path, const OnnxOptions& options, const std::string& out_path);

// The state dict as a torch.save'd (zip format) file that
// torchvision.models.<arch>(num_classes=K).load_state_dict(torch.load(path), strict=True)
// accepts, written by libtorch's pickler. Atomic, UsageError as above.
void export_pth(const std::string& model_path, const std::string& out_path);

}  // namespace roost::exporting
