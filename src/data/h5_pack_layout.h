// src/data/h5_pack_layout.h — names shared by the pack writer and reader (the layout itself
// is described in include/roost/data/h5_pack.h), and typed 1-D/2-D dataset helpers.
// Callers hold io::h5_library_mutex() around every function here.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

#include "roost/core/error.h"
#include "roost/io/h5.h"

namespace roost::data::pack {

inline constexpr const char* kFormatTag = "roost-pack-1";
inline constexpr const char* kFormatAttr = "format";
inline constexpr const char* kStorageAttr = "storage";
inline constexpr const char* kClassesAttr = "class_names";
inline constexpr const char* kData = "data";
inline constexpr const char* kOffsets = "offsets";
inline constexpr const char* kLabels = "labels";
inline constexpr const char* kShapes = "shapes";
inline constexpr const char* kNames = "names";

// Writes `values` as a contiguous dataset of shape dims (product must equal values.size()).
template <typename T>
void write_array(hid_t group, const char* name, hid_t file_type, hid_t mem_type, const std::vector<T>& values,
                 std::vector<hsize_t> dims) {
  io::H5Id space =
      io::h5_check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, "H5Screate_simple");
  io::H5Id set = io::h5_check(H5Dcreate2(group, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                              H5Dclose, std::string("create dataset ") + name);
  if (!values.empty() && H5Dwrite(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    ROOST_THROW("HDF5: writing dataset ", name, " failed");
}

// The extent of a dataset, or an empty vector if it cannot be read.
inline std::vector<hsize_t> dataset_dims(hid_t set) {
  io::H5Id space(H5Dget_space(set), H5Sclose);
  if (!space.valid()) return {};
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) return {};
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) return {};
  return dims;
}

}  // namespace roost::data::pack
