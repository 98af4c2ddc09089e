// roost/data/h5_pack_write.cc — `roost pack`: writes both splits of an ImageFolder tree into
// one HDF5 pack (layout in include/roost/data/h5_pack.h).
//
// Each split is written in two passes. The first prepares every image (read, decode to check
// it, optionally resize and re-encode) and appends the bytes to a spool file next to the
// output, so memory stays at one image whatever the dataset's size. The second creates the
// contiguous `data` dataset at its final size and copies the spool into it. Contiguous
// storage is what makes a sample's read a single positioned read later; chunked storage
// would let the dataset grow in one pass but turns random reads into whole-chunk reads.
// The pack is written to out.tmp and renamed, so a reader never sees a half-written pack.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "h5_pack_layout.h"
#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/core/log.h"
#include "roost/data/decode.h"
#include "roost/data/h5_pack.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"
#include "roost/io/h5.h"

namespace roost::data {

namespace {

namespace fs = std::filesystem;
using io::h5_check;
using io::H5Id;

constexpr size_t kCopyBlock = size_t{16} << 20;  // spool → HDF5 in 16 MiB pieces
constexpr int kAutoSample = 32;                  // images looked at to choose kAuto's storage
constexpr int kReencodeQuality = 95;

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

File open_file(const std::string& path, const char* mode) { return File(std::fopen(path.c_str(), mode), &std::fclose); }

bool is_png(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 4 && bytes[0] == 0x89 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G';
}

// One source image as it will be stored.
struct Prepared {
  std::vector<uint8_t> blob;
  int height = 0, width = 0;
};

// Reads and decodes `path` (DecodeError if it cannot be), shrinks it when it is larger than
// resize_short, and returns the bytes to store in `format` (kEncoded or kPixels).
Prepared prepare(const std::string& path, PackFormat format, int resize_short) {
  std::vector<uint8_t> bytes = read_file(path);
  Image image = decode_image(bytes.data(), bytes.size());
  const bool shrink = resize_short > 0 && std::min(image.height, image.width) > resize_short;
  if (shrink) {
    // torchvision's Resize(resize_short) as a whole-image plan: box = image, no crop.
    ResizePlan plan = val_plan(image.height, image.width, resize_short, 1);
    plan.offset_y = plan.offset_x = 0;
    plan.out_h = plan.resized_h;
    plan.out_w = plan.resized_w;
    image = apply_plan_u8(image, plan);
  }
  Prepared p;
  p.height = image.height;
  p.width = image.width;
  if (format == PackFormat::kPixels) p.blob = std::move(image.pixels);
  else if (!shrink) p.blob = std::move(bytes);  // the original file, bit for bit
  else p.blob = is_png(bytes) ? encode_png(image) : encode_jpeg(image, kReencodeQuality);
  return p;
}

// kAuto: pixels when decoded pixels cost at most kPixelsMaxInflation times the encoded bytes
// on an evenly spread sample of the training images, encoded otherwise.
PackFormat choose_format(const Dataset& train, int resize_short) {
  uint64_t encoded = 0, pixels = 0;
  const int64_t n = train.size();
  const int64_t step = std::max<int64_t>(1, n / kAutoSample);
  for (int64_t i = 0; i < n; i += step) {
    try {
      Prepared p = prepare(train.describe(i), PackFormat::kEncoded, resize_short);
      encoded += p.blob.size();
      pixels += static_cast<uint64_t>(p.height) * p.width * 3;
    } catch (const DecodeError&) {
      // reported when the image is packed
    }
  }
  if (encoded == 0) return PackFormat::kEncoded;
  return static_cast<double>(pixels) <= kPixelsMaxInflation * encoded ? PackFormat::kPixels : PackFormat::kEncoded;
}

// Deletes a temporary file unless released (the spool always; out.tmp on failure).
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::string path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  void release() { path_.clear(); }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;

 private:
  std::string path_;
};

struct SplitTables {
  std::vector<int64_t> offsets{0};
  std::vector<int64_t> labels;
  std::vector<int32_t> shapes;
  std::vector<std::string> names;
  int64_t skipped = 0;
};

// First pass: every image of `folder` prepared and appended to the spool.
SplitTables spool_split(const Dataset& folder, PackFormat format, int resize_short, std::FILE* spool,
                        const std::string& spool_path) {
  SplitTables t;
  for (int64_t i = 0; i < folder.size(); ++i) {
    const std::string path = folder.describe(i);
    Prepared p;
    try {
      p = prepare(path, format, resize_short);
    } catch (const DecodeError& e) {
      log_warn("pack: skipping unreadable image ", path, ": ", e.what());
      ++t.skipped;
      continue;
    }
    if (std::fwrite(p.blob.data(), 1, p.blob.size(), spool) != p.blob.size())
      ROOST_USAGE_ERROR("cannot write the spool file ", spool_path, " (disk full?)");
    t.offsets.push_back(t.offsets.back() + static_cast<int64_t>(p.blob.size()));
    t.labels.push_back(folder.label(i));
    t.shapes.insert(t.shapes.end(), {p.height, p.width, 3});
    const fs::path source(path);
    t.names.push_back((source.parent_path().filename() / source.filename()).string());
  }
  return t;
}

void write_names(hid_t group, const std::vector<std::string>& names) {
  H5Id type = h5_check(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  std::vector<const char*> ptrs;
  for (const auto& name : names) ptrs.push_back(name.c_str());
  pack::write_array(group, pack::kNames, type.get(), type.get(), ptrs, {names.size()});
}

// Second pass: the split's group, its attributes and tables, and the spool copied into `data`.
void write_split(hid_t file, const std::string& split, const std::vector<std::string>& classes, PackFormat format,
                 const SplitTables& t, std::FILE* spool) {
  std::lock_guard<std::mutex> lock(io::h5_library_mutex());
  H5Id group = h5_check(H5Gcreate2(file, split.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                        "create group /" + split);
  io::write_string_list_attr(group.get(), pack::kClassesAttr, classes);
  io::write_string_attr(group.get(), pack::kStorageAttr, pack_format_name(format));
  const hsize_t n = t.labels.size();
  pack::write_array(group.get(), pack::kOffsets, H5T_STD_I64LE, H5T_NATIVE_INT64, t.offsets, {n + 1});
  pack::write_array(group.get(), pack::kLabels, H5T_STD_I64LE, H5T_NATIVE_INT64, t.labels, {n});
  if (format == PackFormat::kPixels)
    pack::write_array(group.get(), pack::kShapes, H5T_STD_I32LE, H5T_NATIVE_INT32, t.shapes, {n, 3});
  write_names(group.get(), t.names);

  const hsize_t total = static_cast<hsize_t>(t.offsets.back());
  H5Id space = h5_check(H5Screate_simple(1, &total, nullptr), H5Sclose, "H5Screate_simple");
  H5Id data =
      h5_check(H5Dcreate2(group.get(), pack::kData, H5T_STD_U8LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
               H5Dclose, "create dataset /" + split + "/data");
  std::rewind(spool);
  std::vector<uint8_t> block(static_cast<size_t>(std::min<hsize_t>(total, kCopyBlock)));
  for (hsize_t begin = 0; begin < total;) {
    hsize_t length = std::min<hsize_t>(total - begin, block.size());
    if (std::fread(block.data(), 1, length, spool) != length) ROOST_THROW("spool file ended early");
    H5Id mem = h5_check(H5Screate_simple(1, &length, nullptr), H5Sclose, "H5Screate_simple");
    if (H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &begin, nullptr, &length, nullptr) < 0 ||
        H5Dwrite(data.get(), H5T_NATIVE_UINT8, mem.get(), space.get(), H5P_DEFAULT, block.data()) < 0)
      ROOST_THROW("HDF5: writing /", split, "/data failed (disk full?)");
    begin += length;
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

PackSummary write_pack(const PackOptions& o) {
  ROOST_USAGE_CHECK(!o.data_dir.empty(), "--data-dir is required");
  ROOST_USAGE_CHECK(!o.out.empty(), "--out is required");
  ROOST_USAGE_CHECK(o.resize_short >= 0, "--resize-short must not be negative, got ", o.resize_short);
  for (const char* split : {"train", "val"})
    if (!fs::is_directory(fs::path(o.data_dir) / split))
      ROOST_USAGE_ERROR("data dir ", o.data_dir, " has no ", split, "/ folder (expected ", o.data_dir, "/", split,
                        "/<class>/*.jpg)");
  const std::shared_ptr<Dataset> folders[2] = {open_image_folder(o.data_dir + "/train"),
                                               open_image_folder(o.data_dir + "/val")};
  const std::vector<std::string>& classes = folders[0]->class_names();
  if (classes != folders[1]->class_names())
    ROOST_USAGE_ERROR("train/val class mismatch: train has [", join(classes), "], val has [",
                      join(folders[1]->class_names()), "]");
  const fs::path out_dir = fs::absolute(o.out).parent_path();
  ensure_writable_dir(out_dir.string());

  PackSummary summary;
  summary.format = o.format == PackFormat::kAuto ? choose_format(*folders[0], o.resize_short) : o.format;
  const std::string tmp = o.out + ".tmp", spool_path = o.out + ".spool";
  RemoveOnExit remove_tmp(tmp);
  H5Id file;
  try {
    {
      std::lock_guard<std::mutex> lock(io::h5_library_mutex());
      io::silence_h5_errors();
      file = H5Id(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
      if (!file.valid()) ROOST_USAGE_ERROR("cannot create ", tmp);
      io::write_string_attr(file.get(), pack::kFormatAttr, pack::kFormatTag);
      io::write_string_attr(file.get(), pack::kStorageAttr, pack_format_name(summary.format));
      io::write_string_list_attr(file.get(), pack::kClassesAttr, classes);
    }
    const char* splits[2] = {"train", "val"};
    for (int s = 0; s < 2; ++s) {
      RemoveOnExit remove_spool(spool_path);
      File spool = open_file(spool_path, "w+b");
      if (!spool) ROOST_USAGE_ERROR("cannot create the spool file ", spool_path);
      SplitTables t = spool_split(*folders[s], summary.format, o.resize_short, spool.get(), spool_path);
      if (t.labels.empty()) ROOST_USAGE_ERROR("no readable images in ", o.data_dir, "/", splits[s]);
      if (std::fflush(spool.get()) != 0) ROOST_USAGE_ERROR("cannot write the spool file ", spool_path);
      write_split(file.get(), splits[s], classes, summary.format, t, spool.get());
      (s == 0 ? summary.train_images : summary.val_images) = static_cast<int64_t>(t.labels.size());
      summary.skipped += t.skipped;
      summary.data_bytes += static_cast<uint64_t>(t.offsets.back());
    }
    std::lock_guard<std::mutex> lock(io::h5_library_mutex());
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) ROOST_THROW("HDF5: flush of ", tmp, " failed");
    file.reset();
  } catch (...) {
    std::lock_guard<std::mutex> lock(io::h5_library_mutex());  // closing is an HDF5 call too
    file.reset();
    throw;
  }
  fsync_file(tmp);
  std::error_code ec;
  fs::rename(tmp, o.out, ec);
  if (ec) ROOST_USAGE_ERROR("cannot rename ", tmp, " to ", o.out, ": ", ec.message());
  remove_tmp.release();
  return summary;
}

}  // namespace roost::data
