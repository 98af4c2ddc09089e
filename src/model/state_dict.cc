// roost/model/state_dict.cc — torchvision-ordered state dicts and their HDF5 files.
#include "roost/model/state_dict.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/io/h5.h"
#include "roost/model/h5_tensors.h"

namespace roost::model {

using io::h5_check;
using io::H5Id;

NamedTensors state_dict(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& item : module.named_modules()) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false))
      out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
  }
  return out;
}

void save_weights_h5(const std::string& path, const NamedTensors& tensors, const std::string& arch,
                     const std::vector<std::string>& class_names, int image_size, int resize_short,
                     const std::string& run_id) {
  write_h5_file_atomically(path, [&](hid_t file) {
    io::write_string_attr(file, "format", "roost-weights-1");
    io::write_string_attr(file, "arch", arch);
    io::write_string_list_attr(file, "class_names", class_names);
    // Optional, so readers of the first version of the format need no change.
    if (image_size > 0) io::write_int_attr(file, "image_size", image_size);
    if (resize_short > 0) io::write_int_attr(file, "resize_short", resize_short);
    if (!run_id.empty()) io::write_string_attr(file, "run_id", run_id);
    std::vector<std::string> order;
    for (const auto& [name, tensor] : tensors) {
      write_h5_tensor(file, name, tensor);
      order.push_back(name);
    }
    // HDF5 lists datasets alphabetically; the state-dict order is kept explicitly.
    io::write_string_list_attr(file, "keys", order);
  });
}

WeightsFile read_model_file(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) ROOST_USAGE_ERROR("model file ", path, " does not exist");
  if (!fs::is_regular_file(path)) ROOST_USAGE_ERROR("model file ", path, " is not a file");
  if (!std::ifstream(path, std::ios::binary)) ROOST_USAGE_ERROR("cannot read model file ", path);
  try {
    return load_weights_h5(path);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    ROOST_USAGE_ERROR("cannot read model file ", path, ": ", e.message());
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
  for (auto [name, field] : {std::pair{"image_size", &out.image_size}, std::pair{"resize_short", &out.resize_short}}) {
    if (!io::has_attr(file.get(), name)) continue;
    int64_t v = io::read_int_attr(file.get(), name);
    if (v <= 0 || v > (1 << 20)) ROOST_USAGE_ERROR(path, ": attribute ", name, " = ", v, " is not a valid size");
    *field = static_cast<int>(v);
  }
  if (io::has_attr(file.get(), "run_id")) out.run_id = io::read_string_attr(file.get(), "run_id");
  NamedTensors by_name = read_h5_tensors(file.get(), path);
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
