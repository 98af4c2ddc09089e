// roost/data/h5_pack.cc — reading HDF5 packs: one split of a pack as a Dataset.
//
// Opening reads only the small per-image tables (offsets, labels, shapes, names) and checks
// them against each other, so a damaged pack fails at start-up with the file named, not
// halfway through an epoch. load() then reads one image's byte range with a hyperslab
// selection: a rank touches only the samples of its own shard. The serial HDF5 library is
// not thread-safe, so each read holds the process-wide HDF5 lock; JPEG/PNG decoding, the
// expensive part, runs after the lock is released, so loader workers decode in parallel.
#include <filesystem>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "h5_pack_layout.h"
#include "roost/core/error.h"
#include "roost/data/decode.h"
#include "roost/data/h5_pack.h"
#include "roost/io/h5.h"

namespace roost::data {

namespace {

using io::H5Id;

class PackDataset : public Dataset {
 public:
  PackDataset(const std::string& path, const std::string& split) : path_(path), split_(split) {
    std::lock_guard<std::mutex> lock(io::h5_library_mutex());
    try {
      open_locked();
    } catch (...) {
      // No destructor runs for a half-built object: close what was opened while locked.
      data_.reset();
      group_.reset();
      file_.reset();
      throw;
    }
  }

  ~PackDataset() override {
    // Closing identifiers is an HDF5 call like any other: it needs the lock too.
    std::lock_guard<std::mutex> lock(io::h5_library_mutex());
    data_.reset();
    group_.reset();
    file_.reset();
  }

  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  int64_t label(int64_t index) const override { return labels_[checked(index)]; }
  const std::vector<std::string>& class_names() const override { return classes_; }

  std::string describe(int64_t index) const override {
    const size_t i = checked(index);
    return path_ + ":/" + split_ + "[" + std::to_string(index) + "] (" + names_[i] + ")";
  }

  Image load(int64_t index) const override {
    const size_t i = checked(index);
    if (pixels_) return read_rows(i, 0, shapes_[i * 3]);
    const std::vector<uint8_t> bytes = read_bytes(i);
    return decode_image(bytes.data(), bytes.size());  // outside the lock
  }

  // Encoded: decode only the plan's region (decode_for_plan). Pixels: read only the rows of
  // the plan's box, one contiguous range of the data (never scaled: there is no DCT to scale).
  Image load_for_plan(int64_t index, const PlanFn& make_plan, ResizePlan* plan,
                      const DecodeOptions& options = {}) const override {
    const size_t i = checked(index);
    if (!pixels_) {
      const std::vector<uint8_t> bytes = read_bytes(i);
      return decode_for_plan(bytes.data(), bytes.size(), make_plan, plan, options);
    }
    const int height = shapes_[i * 3];
    *plan = make_plan(height, shapes_[i * 3 + 1]);
    const CropBox& box = plan->box;
    if (box.height <= 0 || box.top < 0 || box.top + box.height > height) return read_rows(i, 0, height);
    Image image = read_rows(i, box.top, box.top + box.height);
    plan->box.top = 0;
    return image;
  }

 private:
  size_t checked(int64_t index) const {
    ROOST_CHECK(index >= 0 && index < size(), "sample index ", index, " outside dataset of ", size());
    return static_cast<size_t>(index);
  }

  [[noreturn]] void bad(const std::string& what) const {
    ROOST_USAGE_ERROR("pack ", path_, ": ", what, " (truncated, corrupt or not a roost pack?)");
  }

  std::vector<uint8_t> read_bytes(size_t i) const {
    std::vector<uint8_t> bytes(static_cast<size_t>(offsets_[i + 1] - offsets_[i]));
    read_range(static_cast<hsize_t>(offsets_[i]), bytes.size(), bytes.data());
    return bytes;
  }

  // Rows y0..y1-1 of image i ("pixels" storage).
  Image read_rows(size_t i, int y0, int y1) const {
    Image image;
    image.height = y1 - y0;
    image.width = shapes_[i * 3 + 1];
    const hsize_t row_bytes = static_cast<hsize_t>(image.width) * 3;
    image.pixels.resize(static_cast<size_t>(row_bytes) * image.height);
    read_range(static_cast<hsize_t>(offsets_[i]) + row_bytes * y0, image.pixels.size(), image.pixels.data());
    return image;
  }

  void read_range(hsize_t begin, hsize_t length, uint8_t* out) const {
    if (length == 0) return;
    std::lock_guard<std::mutex> lock(io::h5_library_mutex());
    H5Id file_space(H5Dget_space(data_.get()), H5Sclose);
    H5Id mem_space(H5Screate_simple(1, &length, nullptr), H5Sclose);
    if (!file_space.valid() || !mem_space.valid() ||
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &begin, nullptr, &length, nullptr) < 0 ||
        H5Dread(data_.get(), H5T_NATIVE_UINT8, mem_space.get(), file_space.get(), H5P_DEFAULT, out) < 0)
      ROOST_THROW("pack ", path_, ": reading bytes ", begin, "..", begin + length, " of /", split_, "/data failed");
  }

  H5Id open_set(const char* name) const {
    const std::string full = split_ + "/" + name;
    if (H5Lexists(group_.get(), name, H5P_DEFAULT) <= 0) bad("dataset /" + full + " is missing");
    H5Id set(H5Dopen2(group_.get(), name, H5P_DEFAULT), H5Dclose);
    if (!set.valid()) bad("cannot open dataset /" + full);
    return set;
  }

  // Reads a whole integer dataset whose extent must be `dims`.
  template <typename T>
  std::vector<T> read_table(const char* name, hid_t mem_type, const std::vector<hsize_t>& dims) const {
    H5Id set = open_set(name);
    if (pack::dataset_dims(set.get()) != dims) bad("dataset /" + split_ + "/" + name + " has the wrong shape");
    size_t count = 1;
    for (hsize_t d : dims) count *= static_cast<size_t>(d);
    // Tables are stored contiguous and uncompressed, so a table larger than the file is a
    // damaged extent; checked before allocating, which would otherwise ask for its size.
    if (count > file_size_ / sizeof(T)) bad("dataset /" + split_ + "/" + name + " is larger than the file");
    std::vector<T> values(count);
    if (count > 0 && H5Dread(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
      bad("cannot read dataset /" + split_ + "/" + name);
    return values;
  }

  std::vector<std::string> read_names(hsize_t n) const {
    H5Id set = open_set(pack::kNames);
    if (pack::dataset_dims(set.get()) != std::vector<hsize_t>{n}) bad("/" + split_ + "/names has the wrong shape");
    H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    std::vector<char*> ptrs(n, nullptr);
    if (n > 0 && H5Dread(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
      bad("cannot read /" + split_ + "/names");
    std::vector<std::string> names;
    for (char* p : ptrs) {
      names.emplace_back(p ? p : "");
      H5free_memory(p);
    }
    return names;
  }

  void open_locked() {
    io::silence_h5_errors();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path_, ec)) ROOST_USAGE_ERROR("pack ", path_, " does not exist");
    if (H5Fis_hdf5(path_.c_str()) <= 0) bad("not an HDF5 file");
    file_ = H5Id(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file_.valid()) bad("HDF5 cannot open it");
    if (H5Fget_filesize(file_.get(), &file_size_) < 0) bad("HDF5 cannot tell its size");
    if (!io::has_attr(file_.get(), pack::kFormatAttr) ||
        io::read_string_attr(file_.get(), pack::kFormatAttr) != pack::kFormatTag)
      bad(std::string("no format attribute \"") + pack::kFormatTag + "\"");
    if (split_.empty() || split_.find('/') != std::string::npos ||
        H5Lexists(file_.get(), split_.c_str(), H5P_DEFAULT) <= 0)
      bad("it has no /" + split_ + " group");
    group_ = H5Id(H5Gopen2(file_.get(), split_.c_str(), H5P_DEFAULT), H5Gclose);
    if (!group_.valid()) bad("cannot open group /" + split_);

    std::string storage;
    try {
      classes_ = io::read_string_list_attr(group_.get(), pack::kClassesAttr);
      storage = io::read_string_attr(group_.get(), pack::kStorageAttr);
    } catch (const Error&) {
      bad("/" + split_ + " lacks its class_names or storage attribute");
    }
    if (storage != "encoded" && storage != "pixels") bad("unknown storage \"" + storage + "\"");
    pixels_ = storage == "pixels";
    if (classes_.empty()) bad("/" + split_ + " has no classes");

    H5Id labels_set = open_set(pack::kLabels);
    std::vector<hsize_t> label_dims = pack::dataset_dims(labels_set.get());
    if (label_dims.size() != 1 || label_dims[0] == 0) bad("/" + split_ + "/labels is empty or not 1-D");
    const hsize_t n = label_dims[0];
    labels_ = read_table<int64_t>(pack::kLabels, H5T_NATIVE_INT64, {n});
    offsets_ = read_table<int64_t>(pack::kOffsets, H5T_NATIVE_INT64, {n + 1});
    if (pixels_) shapes_ = read_table<int32_t>(pack::kShapes, H5T_NATIVE_INT32, {n, 3});
    names_ = read_names(n);
    data_ = open_set(pack::kData);
    std::vector<hsize_t> data_dims = pack::dataset_dims(data_.get());
    if (data_dims.size() != 1) bad("/" + split_ + "/data is not 1-D");
    if (data_dims[0] > file_size_) bad("/" + split_ + "/data is larger than the file");  // contiguous

    // The tables must describe the data exactly; anything else is a damaged file.
    if (offsets_[0] != 0 || static_cast<hsize_t>(offsets_[n]) != data_dims[0])
      bad("/" + split_ + "/offsets do not span /" + split_ + "/data");
    for (hsize_t i = 0; i < n; ++i) {
      if (offsets_[i + 1] <= offsets_[i]) bad("/" + split_ + "/offsets are not increasing");
      if (labels_[i] < 0 || labels_[i] >= static_cast<int64_t>(classes_.size()))
        bad("/" + split_ + "/labels holds class " + std::to_string(labels_[i]));
      if (pixels_) {
        // h * w fits in int64 (both below 2^31); h * w * 3 may not, so divide instead.
        const int64_t h = shapes_[i * 3], w = shapes_[i * 3 + 1], c = shapes_[i * 3 + 2];
        const int64_t bytes = offsets_[i + 1] - offsets_[i];
        if (h <= 0 || w <= 0 || c != 3 || bytes % 3 != 0 || h * w != bytes / 3)
          bad("/" + split_ + "/shapes disagree with the offsets at image " + std::to_string(i));
      }
    }
  }

  std::string path_, split_;
  H5Id file_, group_, data_;
  hsize_t file_size_ = 0;
  bool pixels_ = false;
  std::vector<std::string> classes_;
  std::vector<int64_t> labels_;
  std::vector<int64_t> offsets_;  // n + 1 entries
  std::vector<int32_t> shapes_;   // n × 3 (pixels storage)
  std::vector<std::string> names_;
};

}  // namespace

PackFormat parse_pack_format(const std::string& name) {
  if (name == "auto") return PackFormat::kAuto;
  if (name == "encoded") return PackFormat::kEncoded;
  if (name == "pixels") return PackFormat::kPixels;
  ROOST_USAGE_ERROR("--format must be auto, encoded or pixels, got '", name, "'");
}

const char* pack_format_name(PackFormat format) {
  switch (format) {
    case PackFormat::kAuto: return "auto";
    case PackFormat::kEncoded: return "encoded";
    case PackFormat::kPixels: return "pixels";
  }
  return "?";
}

std::shared_ptr<Dataset> open_pack(const std::string& path, const std::string& split) {
  return std::make_shared<PackDataset>(path, split);
}

}  // namespace roost::data
