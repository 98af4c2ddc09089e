// roost/model/pretrained.h — loading weights users already have into a roost ResNet:
// torchvision's published .pth files as they are (torch.save'd state dicts in zip format,
// read with libtorch's pickle loader, no Python at run time) and roost's HDF5 weight files.
#pragma once

#include <string>

#include "roost/model/resnet.h"
#include "roost/model/state_dict.h"

namespace roost::model {

// Every tensor of a torch.save'd state dict (zip format), in the file's key order.
// Throws UsageError for a file that is missing, empty, not a zip or not a dict of tensors.
NamedTensors load_pth(const std::string& path);

// The pickle interpreter behind load_pth (pth_reader.cc); throws roost::Error on bad data.
NamedTensors read_pth_state_dict(const std::string& path);

struct PretrainedReport {
  int loaded = 0;                    // tensors copied into the model
  bool classifier_replaced = false;  // fc was re-initialised for a different class count
};

// Copies the tensors of `path` (.pth or roost .h5) into `net`. Missing or unexpected keys
// and shape mismatches are listed in one UsageError; num_batches_tracked may be absent.
// When only fc's output size differs, fc is replaced by a fresh Linear for the model's
// class count and the rest is loaded.
PretrainedReport load_pretrained(ResNet& net, const std::string& path);

// Copies `tensors` into `net` with no classifier replacement: every key must be present (but
// num_batches_tracked) with the model's shape, else one UsageError naming `origin` lists the
// misfits. For weights that were trained for this very model, as `roost predict` loads them.
void load_state_dict_strict(ResNet& net, const NamedTensors& tensors, const std::string& origin);

}  // namespace roost::model
