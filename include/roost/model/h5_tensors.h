// roost/model/h5_tensors.h — tensors as HDF5 datasets: the one place that maps torch dtypes
// to HDF5 types, shared by weight files and training checkpoints.
#pragma once

#include <hdf5.h>
#include <torch/torch.h>

#include <string>

#include "roost/model/state_dict.h"

namespace roost::model {

// Writes `tensor` (copied to CPU, contiguous) as dataset `name` of `loc`. float32/64,
// int32/64 and uint8 are stored; other dtypes throw roost::Error.
void write_h5_tensor(hid_t loc, const std::string& name, const torch::Tensor& tensor);

// Every dataset directly under `loc`, in HDF5's name order. `what` names the file in errors.
NamedTensors read_h5_tensors(hid_t loc, const std::string& what);

}  // namespace roost::model
