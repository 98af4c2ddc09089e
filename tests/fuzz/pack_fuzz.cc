// tests/fuzz/pack_fuzz.cc — fuzzes the HDF5 pack reader behind `roost train --data-dir D.h5`:
// open_split (pack detection, then open_pack's table checks) and the per-image reads of both
// splits, whole (load) and for a random crop (load_for_plan), as the loader calls them.
//
// Two kinds of input, told apart by their first bytes:
//  - a whole file (starts with HDF5's signature): damaged packs as they come, which mostly
//    exercises libhdf5's own parsing of the file's metadata;
//  - anything else is a recipe for a pack that is valid HDF5 but whose roost content may be
//    wrong: attributes, table lengths and values, offsets, shapes, labels and image bytes are
//    taken from the input and written here with the HDF5 API. This is what reaches roost's
//    checks of the tables and its per-image reads.
// Expected outcomes: images, roost::Error (a damaged pack, named) or DecodeError (one image's
// bytes are not a JPEG/PNG; the loader skips it). A returned image or plan that disagrees with
// itself is a finding as well: the resize would read outside the pixels.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "h5_pack_layout.h"
#include "roost/core/error.h"
#include "roost/data/decode.h"
#include "roost/data/open.h"
#include "roost/data/transforms.h"
#include "roost/io/h5.h"

namespace {

using roost::fuzz::invariant_failed;
using roost::io::H5Id;
namespace data = roost::data;
namespace io = roost::io;
namespace pack = roost::data::pack;

// ---------------------------------------------------------------------------------------
// Reading, as the loader does

void check_image(const data::Image& image) {
  if (image.height < 0 || image.width < 0 || image.pixels.size() != static_cast<size_t>(image.height) * image.width * 3)
    invariant_failed("image size does not match its pixels");
}

void check_plan(const data::Image& image, const data::ResizePlan& plan) {
  const data::CropBox& b = plan.box;
  if (b.top < 0 || b.left < 0 || b.height <= 0 || b.width <= 0 || b.top + b.height > image.height ||
      b.left + b.width > image.width)
    invariant_failed("plan box outside the returned image");
}

void read_split(const std::string& path, const std::string& split) {
  std::shared_ptr<data::Dataset> set = data::open_split(path, split);
  const int64_t n = std::min<int64_t>(set->size(), 16);  // a corrupt table may claim millions
  std::mt19937_64 rng(static_cast<uint64_t>(set->size()));
  for (int64_t i = 0; i < n; ++i) {
    (void)set->label(i);
    (void)set->describe(i);
    try {
      check_image(set->load(i));
      data::ResizePlan plan;
      auto make_plan = [&](int h, int w) { return data::train_plan(h, w, 16, {}, rng); };
      data::Image region = set->load_for_plan(i, make_plan, &plan);
      check_image(region);
      check_plan(region, plan);
    } catch (const data::DecodeError& e) {
      roost::fuzz::expected_failure(e.what());
    }
  }
}

// ---------------------------------------------------------------------------------------
// Writing a pack from a recipe

// Two real images, so some encoded entries decode and reach the region decoder.
const std::vector<std::vector<uint8_t>>& sample_images() {
  static const std::vector<std::vector<uint8_t>> images = [] {
    data::Image image{5, 7, std::vector<uint8_t>(5 * 7 * 3)};
    for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 13 + 7);
    return std::vector<std::vector<uint8_t>>{data::encode_png(image), data::encode_jpeg(image)};
  }();
  return images;
}

// The recipe's choices default to a well-formed pack (FuzzedDataProvider returns the lowest
// value once the input is used up), so short inputs already reach the image reads; the damage
// comes from the rarer values.
bool rarely(FuzzedDataProvider& in) { return in.ConsumeIntegralInRange(0, 15) == 15; }

// A table's length: right for well-formed recipes, otherwise sometimes one more or one less.
template <typename T>
void maybe_resize(std::vector<T>& values, bool exact, FuzzedDataProvider& in) {
  if (exact) return;
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 1: values.push_back(T{}); break;
    case 2:
      if (!values.empty()) values.pop_back();
      break;
    default: break;
  }
}

void write_names(hid_t group, const std::vector<std::string>& names) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  std::vector<const char*> ptrs;
  for (const auto& name : names) ptrs.push_back(name.c_str());
  pack::write_array(group, pack::kNames, type.get(), type.get(), ptrs, {names.size()});
}

void write_split(hid_t file, const char* split, FuzzedDataProvider& in) {
  H5Id group(H5Gcreate2(file, split, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  const int k = rarely(in) ? 0 : in.ConsumeIntegralInRange(1, 3);
  std::vector<std::string> classes;
  for (int c = 0; c < k; ++c) classes.push_back(in.ConsumeRandomLengthString(8));
  if (!rarely(in)) io::write_string_list_attr(group.get(), pack::kClassesAttr, classes);
  const int pick = in.ConsumeIntegralInRange(0, 9);
  const std::string storage = pick < 5 ? "encoded" : pick < 9 ? "pixels" : in.ConsumeRandomLengthString(8);
  io::write_string_attr(group.get(), pack::kStorageAttr, storage);
  const bool pixels = storage == "pixels";
  const bool exact = in.ConsumeIntegralInRange(0, 3) != 3;  // mostly consistent tables

  const int n = rarely(in) ? 0 : in.ConsumeIntegralInRange(1, 5);
  std::vector<int64_t> labels, offsets{0};
  std::vector<int32_t> shapes;
  std::vector<uint8_t> bytes;
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    labels.push_back(exact ? in.ConsumeIntegralInRange<int64_t>(0, std::max(k - 1, 0)) : in.ConsumeIntegral<int64_t>());
    if (pixels) {
      const int h = in.ConsumeIntegralInRange(1, 9), w = in.ConsumeIntegralInRange(1, 9);
      std::vector<uint8_t> px = in.ConsumeBytes<uint8_t>(static_cast<size_t>(h) * w * 3);
      px.resize(static_cast<size_t>(h) * w * 3, 0x5A);
      bytes.insert(bytes.end(), px.begin(), px.end());
      for (int32_t v : {h, w, 3}) shapes.push_back(exact ? v : in.ConsumeIntegral<int32_t>());
    } else {
      std::vector<uint8_t> image = in.ConsumeIntegralInRange(0, 2) != 2
                                       ? sample_images()[in.ConsumeIntegralInRange<size_t>(0, 1)]
                                       : in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(1, 64));
      if (image.empty()) image.push_back(0xFF);
      bytes.insert(bytes.end(), image.begin(), image.end());
    }
    offsets.push_back(exact ? static_cast<int64_t>(bytes.size()) : in.ConsumeIntegral<int64_t>());
    names.push_back(in.ConsumeRandomLengthString(12));
  }
  maybe_resize(labels, exact, in);
  maybe_resize(offsets, exact, in);
  maybe_resize(shapes, exact, in);
  maybe_resize(names, exact, in);
  maybe_resize(bytes, exact, in);

  // Each table is written unless the recipe leaves it out (rarely).
  auto keep = [&] { return in.ConsumeIntegralInRange(0, 31) != 31; };
  if (keep()) pack::write_array(group.get(), pack::kLabels, H5T_STD_I64LE, H5T_NATIVE_INT64, labels, {labels.size()});
  if (keep())
    pack::write_array(group.get(), pack::kOffsets, H5T_STD_I64LE, H5T_NATIVE_INT64, offsets, {offsets.size()});
  if (pixels && keep())
    pack::write_array(group.get(), pack::kShapes, H5T_STD_I32LE, H5T_NATIVE_INT32, shapes, {shapes.size() / 3, 3});
  if (keep()) write_names(group.get(), names);
  if (keep()) pack::write_array(group.get(), pack::kData, H5T_STD_U8LE, H5T_NATIVE_UINT8, bytes, {bytes.size()});
}

void write_pack(const std::string& path, const uint8_t* bytes, size_t size) {
  FuzzedDataProvider in(bytes, size);
  std::lock_guard<std::mutex> lock(io::h5_library_mutex());
  io::silence_h5_errors();
  H5Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) invariant_failed("cannot create the scratch pack");
  io::write_string_attr(file.get(), pack::kFormatAttr,
                        rarely(in) ? in.ConsumeRandomLengthString(12) : std::string(pack::kFormatTag));
  for (const char* split : {"train", "val"})
    if (!rarely(in)) write_split(file.get(), split, in);
}

bool is_hdf5_file(const uint8_t* bytes, size_t size) {
  static constexpr uint8_t kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1A, '\n'};
  return size >= sizeof kSignature && std::memcmp(bytes, kSignature, sizeof kSignature) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const roost::fuzz::ScratchFile file(".h5");
  if (is_hdf5_file(bytes, size)) {
    file.write(bytes, size);
  } else {
    try {
      write_pack(file.path(), bytes, size);
    } catch (const roost::Error& e) {
      invariant_failed(e.what());  // the harness could not write its pack
    }
  }
  for (const char* split : {"train", "val"}) {
    try {
      read_split(file.path(), split);
    } catch (const roost::Error& e) {
      roost::fuzz::expected_failure(e.what());
    }
  }
  return 0;
}
