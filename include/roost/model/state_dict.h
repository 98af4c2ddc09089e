// roost/model/state_dict.h — a module's tensors in torchvision's state-dict order, and
// roost's HDF5 weight files (one dataset per state-dict entry, named as in torchvision,
// with the architecture, class names and validation transform as file attributes).
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace roost::model {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Parameters and buffers, module by module in registration order, each module's own
// parameters before its buffers: exactly the key order of torchvision's state_dict().
NamedTensors state_dict(const torch::nn::Module& module);

struct WeightsFile {
  NamedTensors tensors;
  std::string arch;
  std::vector<std::string> class_names;
  // The validation transform the weights were evaluated with: Resize(resize_short) then
  // CenterCrop(image_size). 0 when the file does not say (files written before these
  // attributes existed, or converted from a .pth).
  int image_size = 0;
  int resize_short = 0;
  std::string run_id;  // the training run that wrote the file ("" when it does not say)
};

// Writes path atomically (temporary file, fsync, rename). Tensors are copied to CPU.
// image_size / resize_short are stored as integer attributes when positive; 0 leaves them out.
void save_weights_h5(const std::string& path, const NamedTensors& tensors, const std::string& arch,
                     const std::vector<std::string>& class_names, int image_size = 0, int resize_short = 0,
                     const std::string& run_id = "");

// Reads every dataset of a roost weight file. Throws roost::Error naming the file for a
// missing, truncated or foreign file.
WeightsFile load_weights_h5(const std::string& path);

// load_weights_h5 for a file the user named (roost predict, serve, export): every failure is
// a UsageError naming the file (missing, not a file, unreadable, not roost weights, damaged).
WeightsFile read_model_file(const std::string& path);

// CRC-32 of the bytes of `tensors` (contiguous CPU copies, in order): a cheap fingerprint to
// prove ranks hold identical parameters.
uint32_t tensors_crc32(const NamedTensors& tensors);

}  // namespace roost::model
