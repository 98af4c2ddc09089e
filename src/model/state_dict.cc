// roost/model/state_dict.cc — torchvision-ordered state dicts and their HDF5 files.
#include "roost/model/state_dict.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/io/h5.h"

namespace roost::model {

using io::H5Id;
using io::h5_check;

NamedTensors state_dict(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& item : module.named_modules()) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false))
      out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false))
      out.emplace_back(prefix + b.key(), b.value());
  }
  return out;
}

namespace {
hid_t h5_type_for(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return H5T_IEEE_F32LE;
    case torch::kFloat64: return H5T_IEEE_F64LE;
    case torch::kInt64: return H5T_STD_I64LE;
    case torch::kInt32: return H5T_STD_I32LE;
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
  ROOST_THROW("dataset ", name, " has a type roost cannot read");
}

void write_tensor(hid_t file, const std::string& name, const torch::Tensor& tensor) {
  torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
  H5Id space = dims.empty() ? h5_check(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate")
                            : h5_check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                                       H5Sclose, "H5Screate_simple");
  hid_t type = h5_type_for(t.scalar_type());
  H5Id set = h5_check(H5Dcreate2(file, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      H5Dclose, "create dataset " + name);
  if (H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) < 0)
    ROOST_THROW("HDF5: writing dataset ", name, " failed (disk full?)");
}

struct ReadContext {
  NamedTensors* out;
  hsize_t file_size;
  std::string error;
};

// Refuses an extent the file cannot back before the tensor is allocated: a damaged 6 KB file
// could otherwise declare a 16 GiB tensor. roost writes each dataset whole and contiguous, so
// its bytes are stored and lie within the file; a chunked dataset (another writer, perhaps
// compressed beyond the file's size) is only required to hold some data.
void check_stored(hid_t set, const std::vector<hsize_t>& dims, size_t elem, hsize_t file_size,
                  const char* name) {
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

void save_weights_h5(const std::string& path, const NamedTensors& tensors, const std::string& arch,
                     const std::vector<std::string>& class_names) {
  // The HDF5 library is not thread-safe and loader threads may be reading a pack.
  std::lock_guard<std::mutex> lock(io::h5_library_mutex());
  io::silence_h5_errors();
  const std::string tmp = path + ".tmp";
  {
    H5Id file = h5_check(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                         "create " + tmp);
    io::write_string_attr(file.get(), "format", "roost-weights-1");
    io::write_string_attr(file.get(), "arch", arch);
    io::write_string_list_attr(file.get(), "class_names", class_names);
    std::vector<std::string> order;
    for (const auto& [name, tensor] : tensors) {
      write_tensor(file.get(), name, tensor);
      order.push_back(name);
    }
    // HDF5 lists datasets alphabetically; the state-dict order is kept explicitly.
    io::write_string_list_attr(file.get(), "keys", order);
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) ROOST_THROW("HDF5: flush of ", tmp, " failed");
  }
  fsync_file(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    ROOST_THROW("cannot rename ", tmp, " to ", path);
  }
}

WeightsFile load_weights_h5(const std::string& path) {
  std::lock_guard<std::mutex> lock(io::h5_library_mutex());
  io::silence_h5_errors();
  if (!std::filesystem::is_regular_file(path)) ROOST_USAGE_ERROR("weights file ", path, " does not exist");
  if (H5Fis_hdf5(path.c_str()) <= 0) ROOST_USAGE_ERROR(path, " is not an HDF5 file (truncated or corrupt?)");
  H5Id file = h5_check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open " + path);
  WeightsFile out;
  if (!io::has_attr(file.get(), "format") || io::read_string_attr(file.get(), "format") != "roost-weights-1")
    ROOST_USAGE_ERROR(path, " is not a roost weights file");
  out.arch = io::read_string_attr(file.get(), "arch");
  out.class_names = io::read_string_list_attr(file.get(), "class_names");
  NamedTensors by_name;
  ReadContext ctx{&by_name, 0, {}};
  if (H5Fget_filesize(file.get(), &ctx.file_size) < 0) ROOST_THROW("HDF5: cannot tell the size of ", path);
  if (H5Literate(file.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, read_one, &ctx) < 0)
    ROOST_THROW("reading ", path, ": ", ctx.error.empty() ? "corrupt file" : ctx.error);
  std::vector<std::string> order = io::read_string_list_attr(file.get(), "keys");
  for (const auto& key : order) {
    auto it = std::find_if(by_name.begin(), by_name.end(), [&](const auto& kv) { return kv.first == key; });
    if (it == by_name.end()) ROOST_THROW(path, " lists key ", key, " but has no such dataset");
    out.tensors.push_back(*it);
  }
  return out;
}

uint32_t tensors_crc32(const NamedTensors& tensors) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto& [name, tensor] : tensors) {
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const auto* bytes = static_cast<const Bytef*>(t.data_ptr());
    size_t n = t.numel() * t.element_size();
    while (n > 0) {  // crc32 takes a uInt length
      uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      crc = crc32(crc, bytes, chunk);
      bytes += chunk;
      n -= chunk;
    }
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace roost::model
