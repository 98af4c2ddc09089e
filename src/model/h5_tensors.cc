// roost/model/h5_tensors.cc — tensor datasets in HDF5 files (weights and checkpoints).
#include "roost/model/h5_tensors.h"

#include <cstdio>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/io/h5.h"

namespace roost::model {

using io::h5_check;
using io::H5Id;

namespace {
hid_t h5_type_for(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return H5T_IEEE_F32LE;
    case torch::kFloat64: return H5T_IEEE_F64LE;
    case torch::kInt64: return H5T_STD_I64LE;
    case torch::kInt32: return H5T_STD_I32LE;
    case torch::kUInt8: return H5T_STD_U8LE;
    default: ROOST_THROW("cannot store tensors of type ", c10::toString(type), " in HDF5");
  }
}

torch::ScalarType torch_type_for(hid_t type, const std::string& name) {
  H5T_class_t cls = H5Tget_class(type);
  size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT && size == 4) return torch::kFloat32;
  if (cls == H5T_FLOAT && size == 8) return torch::kFloat64;
  if (cls == H5T_INTEGER && size == 8) return torch::kInt64;
  if (cls == H5T_INTEGER && size == 4) return torch::kInt32;
  if (cls == H5T_INTEGER && size == 1 && H5Tget_sign(type) == H5T_SGN_NONE) return torch::kUInt8;
  ROOST_THROW("dataset ", name, " has a type roost cannot read");
}

struct ReadContext {
  NamedTensors* out;
  hsize_t file_size;
  std::string error;
};

// Refuses an extent the file cannot back before the tensor is allocated: a damaged 6 KB file
// could otherwise declare a 4 TiB tensor. roost writes each dataset whole and contiguous, so
// its bytes are stored and lie within the file; a chunked dataset (another writer, perhaps
// compressed) is only required to hold some data.
void check_stored(hid_t set, const std::vector<hsize_t>& dims, size_t elem, hsize_t file_size, const char* name) {
  hsize_t bytes = elem;
  for (hsize_t d : dims)
    if (__builtin_mul_overflow(bytes, d, &bytes)) ROOST_THROW("dataset ", name, " has an impossible shape");
  if (bytes == 0) return;
  H5Id plist(H5Dget_create_plist(set), H5Pclose);
  const bool chunked = plist.valid() && H5Pget_layout(plist.get()) == H5D_CHUNKED;
  if (H5Dget_storage_size(set) == 0 || (!chunked && bytes > file_size))
    ROOST_THROW("dataset ", name, " declares ", bytes, " bytes that the file does not hold");
}

herr_t read_one(hid_t group, const char* name, const H5L_info_t*, void* raw) {
  auto* ctx = static_cast<ReadContext*>(raw);
  try {
    H5Id set = h5_check(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose, std::string("open dataset ") + name);
    H5Id space = h5_check(H5Dget_space(set.get()), H5Sclose, "dataset space");
    H5Id type = h5_check(H5Dget_type(set.get()), H5Tclose, "dataset type");
    int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) ROOST_THROW("dataset ", name, " has no shape");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    std::vector<int64_t> shape(dims.begin(), dims.end());
    torch::ScalarType st = torch_type_for(type.get(), name);
    check_stored(set.get(), dims, H5Tget_size(type.get()), ctx->file_size, name);
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(st));
    if (H5Dread(set.get(), h5_type_for(st), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) < 0)
      ROOST_THROW("reading dataset ", name, " failed");
    ctx->out->emplace_back(name, t);
    return 0;
  } catch (const std::exception& e) {
    ctx->error = e.what();
    return -1;
  }
}
}  // namespace

void write_h5_tensor(hid_t loc, const std::string& name, const torch::Tensor& tensor) {
  torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
  H5Id space = dims.empty() ? h5_check(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate")
                            : h5_check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                                       "H5Screate_simple");
  hid_t type = h5_type_for(t.scalar_type());
  H5Id set = h5_check(H5Dcreate2(loc, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
                      "create dataset " + name);
  if (H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) < 0)
    ROOST_THROW("HDF5: writing dataset ", name, " failed (disk full?)");
}

void write_h5_file_atomically(const std::string& path, const std::function<void(hid_t file)>& fill) {
  // The HDF5 library is not thread-safe and loader threads may be reading a pack.
  std::lock_guard<std::mutex> lock(io::h5_library_mutex());
  io::silence_h5_errors();
  const std::string tmp = path + ".tmp";
  try {
    {
      H5Id file = h5_check(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "create " + tmp);
      fill(file.get());
      if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) ROOST_THROW("HDF5: flush of ", tmp, " failed (disk full?)");
    }
    fsync_file(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) ROOST_THROW("cannot rename ", tmp, " to ", path);
  } catch (...) {
    std::remove(tmp.c_str());  // never leave a partial file (or its space) behind
    throw;
  }
}

NamedTensors read_h5_tensors(hid_t loc, const std::string& what) {
  NamedTensors out;
  ReadContext ctx{&out, 0, {}};
  const hid_t file = H5Iget_file_id(loc);
  const herr_t sized = file < 0 ? -1 : H5Fget_filesize(file, &ctx.file_size);
  if (file >= 0) H5Fclose(file);  // H5Iget_file_id took a reference
  if (sized < 0) ROOST_THROW("HDF5: cannot tell the size of ", what);
  if (H5Literate(loc, H5_INDEX_NAME, H5_ITER_INC, nullptr, read_one, &ctx) < 0)
    ROOST_THROW("reading ", what, ": ", ctx.error.empty() ? "corrupt file" : ctx.error);
  return out;
}

}  // namespace roost::model
