// tests/fuzz/weights_h5_fuzz.cc — fuzzes load_weights_h5, the reader of roost's HDF5 weight
// files (--pretrained x.h5, and the model.h5 a run leaves behind).
//
// Two kinds of input, told apart by their first bytes:
//  - a whole file (starts with HDF5's signature): damaged files as they come, which mostly
//    exercises libhdf5's own parsing of the file's metadata;
//  - anything else is a recipe for a file that is valid HDF5 but may be a wrong weights file:
//    its attributes (format, arch, class_names, keys) and datasets (names, element types,
//    shapes, whether the data was ever written) are taken from the input and written here
//    with the HDF5 API. This is what reaches roost's own checks.
// Expected outcomes: the tensors, or roost::Error (UsageError included) naming the file.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "roost/core/error.h"
#include "roost/io/h5.h"
#include "roost/model/state_dict.h"

namespace {

using roost::io::H5Id;
namespace io = roost::io;

bool rarely(FuzzedDataProvider& in) { return in.ConsumeIntegralInRange(0, 15) == 15; }

// Names from a ResNet state dict, so keys and datasets often agree.
std::string tensor_name(FuzzedDataProvider& in) {
  static const char* const kNames[] = {"conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "fc.weight",
                                       "fc.bias"};
  if (rarely(in)) return in.ConsumeRandomLengthString(12);
  return kNames[in.ConsumeIntegralInRange<size_t>(0, 4)];
}

void write_dataset(hid_t file, const std::string& name, FuzzedDataProvider& in) {
  // Element types roost reads (float32/64, int32/64), some it converts (big endian, unsigned)
  // and some it refuses (8-bit integers, strings).
  static const hid_t* const kTypes[] = {&H5T_IEEE_F32LE_g, &H5T_IEEE_F64LE_g, &H5T_STD_I64LE_g, &H5T_STD_I32LE_g,
                                        &H5T_IEEE_F32BE_g, &H5T_STD_U64LE_g,  &H5T_STD_U8LE_g,  &H5T_C_S1_g};
  const hid_t type =
      *kTypes[rarely(in) ? in.ConsumeIntegralInRange<size_t>(4, 7) : in.ConsumeIntegralInRange<size_t>(0, 3)];
  const int rank = in.ConsumeIntegralInRange(0, 3);
  std::vector<hsize_t> dims;
  hsize_t count = 1;
  for (int d = 0; d < rank; ++d) {
    dims.push_back(rarely(in) ? in.ConsumeIntegral<uint32_t>() : in.ConsumeIntegralInRange<hsize_t>(1, 4));
    count *= dims.back();
  }
  H5Id space(rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims.data(), nullptr), H5Sclose);
  H5Id set(H5Dcreate2(file, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!set.valid() || count > 4096 || rarely(in)) return;  // large or unwritten: never stored
  std::vector<uint8_t> values = in.ConsumeBytes<uint8_t>(count * H5Tget_size(type));
  values.resize(count * H5Tget_size(type), 0x3F);
  H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
}

void write_weights(const std::string& path, const uint8_t* bytes, size_t size) {
  FuzzedDataProvider in(bytes, size);
  std::lock_guard<std::mutex> lock(io::h5_library_mutex());
  io::silence_h5_errors();
  H5Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) roost::fuzz::invariant_failed("cannot create the scratch weights file");
  if (!rarely(in))
    io::write_string_attr(file.get(), "format", rarely(in) ? in.ConsumeRandomLengthString(16) : "roost-weights-1");
  if (!rarely(in)) io::write_string_attr(file.get(), "arch", in.ConsumeRandomLengthString(12));
  std::vector<std::string> classes(in.ConsumeIntegralInRange(0, 3));
  for (auto& c : classes) c = in.ConsumeRandomLengthString(8);
  if (!rarely(in)) io::write_string_list_attr(file.get(), "class_names", classes);
  std::vector<std::string> keys;
  const int sets = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < sets; ++i) {
    const std::string name = tensor_name(in);
    if (!rarely(in)) keys.push_back(name);
    if (!rarely(in)) write_dataset(file.get(), name, in);  // a listed key may have no dataset
  }
  if (rarely(in)) keys.push_back(tensor_name(in));
  if (!rarely(in)) io::write_string_list_attr(file.get(), "keys", keys);
}

bool is_hdf5_file(const uint8_t* bytes, size_t size) {
  static constexpr uint8_t kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1A, '\n'};
  return size >= sizeof kSignature && std::memcmp(bytes, kSignature, sizeof kSignature) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const roost::fuzz::ScratchFile file(".h5");
  if (is_hdf5_file(data, size)) {
    file.write(data, size);
  } else {
    try {
      write_weights(file.path(), data, size);
    } catch (const roost::Error& e) {
      roost::fuzz::invariant_failed(e.what());  // the harness could not write its file
    }
  }
  try {
    roost::model::WeightsFile w = roost::model::load_weights_h5(file.path());
    // Every tensor must be fully backed: a reduction reads each element.
    for (const auto& [name, tensor] : w.tensors)
      if (tensor.numel() > 0) (void)tensor.to(torch::kFloat64).sum().item<double>();
  } catch (const roost::Error& e) {
    roost::fuzz::expected_failure(e.what());
  }
  return 0;
}
