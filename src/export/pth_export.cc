// src/export/pth_export.cc — a roost weight file as a torch.save'd state dict (onnx.h):
// libtorch's pickler writes the zip format torch.load reads; the keys keep torchvision's
// order, so load_state_dict(strict=True) of torchvision's model of the same arch accepts it.
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/torch.h>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/export/onnx.h"
#include "roost/model/state_dict.h"

namespace roost::exporting {

void export_pth(const std::string& model_path, const std::string& out_path) {
  model::WeightsFile w;
  try {
    w = model::load_weights_h5(model_path);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    ROOST_USAGE_ERROR("cannot read model file ", model_path, ": ", e.message());
  }
  c10::Dict<std::string, at::Tensor> state;
  for (const auto& [name, t] : w.tensors) state.insert(name, t.detach().to(torch::kCPU).contiguous());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(state));
  try {
    write_file_atomic(out_path, std::string(bytes.begin(), bytes.end()));
  } catch (const Error& e) {
    ROOST_USAGE_ERROR("cannot write ", out_path, ": ", e.message());
  }
}

}  // namespace roost::exporting
