// roost/model/h5_tensors.h — tensors as HDF5 datasets: the one place that maps torch dtypes
// to HDF5 types, shared by weight files and training checkpoints.
#pragma once

#include <hdf5.h>
#include <torch/torch.h>

#include <functional>
#include <string>

#include "roost/model/state_dict.h"

namespace roost::model {

// Writes `tensor` (copied to CPU, contiguous) as dataset `name` of `loc`. float32/64,
// int32/64 and uint8 are stored; other dtypes throw roost::Error.
void write_h5_tensor(hid_t loc, const std::string& name, const torch::Tensor& tensor);

// Creates `path` atomically: `fill` writes into a new HDF5 file path.tmp, which is flushed,
// fsynced and renamed over `path`; on any failure (a full disk) the temporary file is
// removed and `path` is left as it was. Holds the HDF5 library lock while it runs.
void write_h5_file_atomically(const std::string& path, const std::function<void(hid_t file)>& fill);

// Every dataset directly under `loc`, in HDF5's name order. `what` names the file in errors.
NamedTensors read_h5_tensors(hid_t loc, const std::string& what);

}  // namespace roost::model
