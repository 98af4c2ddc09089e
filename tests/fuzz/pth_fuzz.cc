// tests/fuzz/pth_fuzz.cc — fuzzes roost's reader of torch.save'd state dicts (pth_reader.cc).
//
// Two kinds of input, told apart by their first bytes:
//  - a whole .pth file (starts with "PK", as every zip does): the zip container, its records
//    and the pickle inside, as a damaged download would present them;
//  - anything else is taken as the pickle alone (data.pkl) and wrapped here in a valid archive
//    that also holds storages "0".."7" of 256, 255, ... 249 bytes (sizes that are not always
//    a whole number of elements, as in a damaged file). Mutating a whole file rarely gets past
//    the zip's CRC-32 of data.pkl, so this is what reaches the unpickler's corners.
// Expected outcomes: a state dict, roost::Error (bad pickle) or c10::Error (libtorch's zip
// reader refusing the container). Anything else escapes and libFuzzer reports it.
#include <caffe2/serialize/inline_container.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "roost/core/error.h"
#include "roost/model/pretrained.h"

namespace {

void write_wrapped_pickle(const std::string& path, const uint8_t* data, size_t size) {
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("data.pkl", data, size);
  for (int key = 0; key < 8; ++key) {
    std::vector<uint8_t> storage(256 - key);
    for (size_t i = 0; i < storage.size(); ++i) storage[i] = static_cast<uint8_t>(i * 7 + key + 1);
    writer.writeRecord("data/" + std::to_string(key), storage.data(), storage.size());
  }
  writer.writeEndOfFile();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const roost::fuzz::ScratchFile file(".pth");
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    file.write(data, size);
  } else {
    write_wrapped_pickle(file.path(), data, size);
  }
  try {
    roost::model::NamedTensors tensors = roost::model::read_pth_state_dict(file.path());
    // Use what came back, as load_pretrained would: every tensor must be readable.
    for (const auto& [name, tensor] : tensors)
      if (tensor.defined() && tensor.numel() > 0) (void)tensor.to(torch::kFloat64).sum().item<double>();
  } catch (const roost::Error& e) {
    roost::fuzz::expected_failure(e.what());
  } catch (const c10::Error& e) {
    roost::fuzz::expected_failure(e.what());
  }
  return 0;
}
