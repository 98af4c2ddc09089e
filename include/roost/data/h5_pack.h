// roost/data/h5_pack.h — HDF5 packs: both splits of an ImageFolder tree in one file, read
// back as a Dataset. One file instead of thousands means one open per process and one
// metadata lookup per job on a network filesystem, and a rank reads only its own samples.
//
// Layout (format tag "roost-pack-1"):
//   /            attrs: format = "roost-pack-1", storage = "encoded" | "pixels",
//                       class_names (list of strings)
//   /train, /val attrs: class_names, storage (same values as the file's)
//     data       uint8 [total]   the images back to back: encoded JPEG/PNG file bytes, or
//                                decoded RGB pixels (HWC) in "pixels" storage
//     offsets    int64 [n + 1]   image i is data[offsets[i] : offsets[i + 1]]
//     labels     int64 [n]       class index (position in class_names)
//     shapes     int32 [n, 3]    height, width, channels (3) — "pixels" storage only
//     names      string [n]      <class>/<file> of the source image, for messages
// `data` is contiguous (not chunked), so reading one image is one positioned read.
//
// Available when roost_data is built with HDF5 (ROOST_WITH_HDF5 is then defined).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "roost/data/dataset.h"

namespace roost::data {

// How images are stored. kAuto picks per pack from a sample of its images (see write_pack).
enum class PackFormat { kAuto, kEncoded, kPixels };

// "auto" | "encoded" | "pixels" → PackFormat; UsageError naming the value otherwise.
PackFormat parse_pack_format(const std::string& name);
const char* pack_format_name(PackFormat format);

struct PackOptions {
  std::string data_dir;  // ImageFolder root holding train/ and val/
  std::string out;       // the pack written (atomically: out.tmp, then renamed)
  int resize_short = 0;  // > 0: shrink images whose short side is longer to this size
  PackFormat format = PackFormat::kAuto;
};

struct PackSummary {
  PackFormat format = PackFormat::kEncoded;  // what was stored (never kAuto)
  int64_t train_images = 0;
  int64_t val_images = 0;
  int64_t skipped = 0;      // unreadable source images left out (each logged)
  uint64_t data_bytes = 0;  // bytes of image data in the pack (both splits)
};

// Packs data_dir/train and data_dir/val (classes must match). Each image is decoded to check
// it; unreadable ones are skipped with a warning, as the loader would skip them.
// With resize_short, an image whose short side exceeds it is resized (PIL's bilinear, as
// torchvision's Resize) and, in encoded storage, re-encoded: PNG sources as PNG (lossless
// stays lossless), JPEG sources as JPEG quality 95 (they already carry JPEG loss; 95 adds
// about half a grey level at a third of PNG's size). Smaller images are stored unchanged.
// kAuto stores pixels when decoded pixels are at most kPixelsMaxInflation times the encoded
// bytes on a sample of the images (small or synthetic images), encoded bytes otherwise.
// Throws UsageError for bad options or an unusable tree.
PackSummary write_pack(const PackOptions& options);

constexpr double kPixelsMaxInflation = 2.0;

// Opens `split` ("train" or "val") of the pack at `path`. The file stays open for the life of
// the dataset; load() is safe from several threads (HDF5 reads are serialised, decoding is
// not). load_for_plan() reads only the rows of the plan's box ("pixels") or decodes only
// the region it needs ("encoded"). Throws UsageError naming the file if it is not a
// readable roost pack.
std::shared_ptr<Dataset> open_pack(const std::string& path, const std::string& split);

}  // namespace roost::data
