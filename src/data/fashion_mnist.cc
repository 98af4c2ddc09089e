// roost/data/fashion_mnist.cc — builds the default dataset from Debian's dataset-fashion-mnist
// package: reads the gzipped IDX files and writes an ImageFolder tree of PNGs with the shape of
// the reference job's chicken/turkey set (two classes, ~120 train and ~100 val images each).
//
// The first N images of each chosen class are taken, in file order, so the tree is the same on
// every machine and every run.
#include "roost/data/fashion_mnist.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/data/decode.h"
#include "roost/data/image.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

namespace roost::data {

const char* const kFashionMnistClassNames[10] = {"t-shirt", "trouser", "pullover", "dress", "coat",
                                                 "sandal",  "shirt",   "sneaker",  "bag",   "ankle-boot"};

namespace {

namespace fs = std::filesystem;

constexpr int kSide = 28;
constexpr int kTrainPerClass = 6000;
constexpr int kTestPerClass = 1000;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// One IDX file (big-endian header: magic, then one 32-bit size per dimension), read through
// zlib's gz* stream API so the package's .gz files need no unpacking.
class IdxReader {
 public:
  IdxReader(const std::string& path, uint32_t magic) : path_(path) {
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) ROOST_USAGE_ERROR("cannot open ", path, " (Debian package dataset-fashion-mnist)");
    uint32_t found = read_u32();
    if (found != magic)
      ROOST_USAGE_ERROR(path, " is not an IDX file of the expected kind (magic ", found, ", expected ", magic, ")");
  }

  uint32_t read_u32() {
    unsigned char b[4];
    read(b, 4);
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  }

  void read(void* out, size_t n) {
    int got = gzread(file_.get(), out, static_cast<unsigned>(n));
    if (got != static_cast<int>(n)) {
      int code = 0;
      const char* message = gzerror(file_.get(), &code);
      ROOST_USAGE_ERROR(path_, " is truncated or corrupt", code != Z_OK ? std::string(": ") + message : std::string());
    }
  }

 private:
  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
};

std::vector<uint8_t> read_labels(const std::string& path, uint32_t expected) {
  IdxReader reader(path, 2049);
  uint32_t count = reader.read_u32();
  if (count != expected) ROOST_USAGE_ERROR(path, " holds ", count, " labels, expected ", expected);
  std::vector<uint8_t> labels(count);
  reader.read(labels.data(), labels.size());
  for (uint8_t label : labels)
    if (label > 9) ROOST_USAGE_ERROR(path, " holds label ", int{label}, " outside 0..9");
  return labels;
}

// The first `per_class` sample numbers of each class in `classes`, in file order.
std::vector<uint32_t> pick(const std::vector<uint8_t>& labels, const std::vector<int>& classes, int per_class) {
  std::vector<int> taken(10, 0);
  std::vector<uint32_t> picked;
  for (uint32_t i = 0; i < labels.size(); ++i) {
    int label = labels[i];
    if (std::find(classes.begin(), classes.end(), label) != classes.end() && taken[label] < per_class) {
      ++taken[label];
      picked.push_back(i);
    }
  }
  return picked;
}

// Writes a grey or RGB 8-bit PNG.
void write_png(const std::string& path, const uint8_t* pixels, int side, bool rgb) {
  const std::vector<uint8_t> bytes = encode_png(pixels, side, side, rgb ? 3 : 1);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) ROOST_THROW("cannot write ", path);
}

void validate(const FashionMnistOptions& o) {
  ROOST_USAGE_CHECK(!o.out_dir.empty(), "fashion-mnist: no output directory given");
  ROOST_USAGE_CHECK(o.size >= 8 && o.size <= 4096, "fashion-mnist: image size must be in 8..4096, got ", o.size);
  std::set<int> distinct;
  for (int c : o.classes) {
    ROOST_USAGE_CHECK(c >= 0 && c <= 9, "fashion-mnist: class ", c, " is not in 0..9");
    ROOST_USAGE_CHECK(distinct.insert(c).second, "fashion-mnist: class ", c, " is listed twice");
  }
  ROOST_USAGE_CHECK(distinct.size() >= 2, "fashion-mnist: need at least 2 distinct classes");
  ROOST_USAGE_CHECK(o.train_per_class >= 1 && o.train_per_class <= kTrainPerClass,
                    "fashion-mnist: train images per class must be 1..", kTrainPerClass, ", got ", o.train_per_class);
  ROOST_USAGE_CHECK(o.val_per_class >= 1 && o.val_per_class <= kTestPerClass,
                    "fashion-mnist: val images per class must be 1..", kTestPerClass, ", got ", o.val_per_class);
  for (const char* split : {"train", "val"}) {
    fs::path dir = fs::path(o.out_dir) / split;
    std::error_code ec;
    // Writing into an existing tree would mix old and new classes; refuse instead of deleting.
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
      ROOST_USAGE_ERROR("fashion-mnist: ", dir.string(), " already exists and is not empty");
  }
}

// Writes one split (train or val) and returns the number of images written.
int write_split(const FashionMnistOptions& o, const std::string& images_path, const std::string& labels_path,
                uint32_t expected, int per_class, const std::string& split) {
  std::vector<uint8_t> labels = read_labels(labels_path, expected);
  std::vector<uint32_t> picked = pick(labels, o.classes, per_class);
  if (picked.size() != o.classes.size() * static_cast<size_t>(per_class))
    ROOST_USAGE_ERROR(labels_path, " has fewer than ", per_class, " images of some class");

  IdxReader images(images_path, 2051);
  uint32_t count = images.read_u32(), rows = images.read_u32(), cols = images.read_u32();
  if (count != expected || rows != kSide || cols != kSide)
    ROOST_USAGE_ERROR(images_path, " holds ", count, " images of ", rows, "x", cols, ", expected ", expected, " of ",
                      kSide, "x", kSide);

  for (int c : o.classes) fs::create_directories(fs::path(o.out_dir) / split / kFashionMnistClassNames[c]);

  ResizePlan plan;  // the whole image resized to size × size
  plan.box = CropBox{0, 0, kSide, kSide};
  plan.resized_h = plan.resized_w = plan.out_h = plan.out_w = o.size;

  Image gray_rgb;
  gray_rgb.height = gray_rgb.width = kSide;
  gray_rgb.pixels.resize(kSide * kSide * 3);
  std::vector<uint8_t> raw(kSide * kSide);
  std::vector<uint8_t> gray;
  uint32_t position = 0;  // next sample number in the images file
  for (uint32_t sample : picked) {
    for (; position <= sample; ++position) images.read(raw.data(), raw.size());
    for (size_t i = 0; i < raw.size(); ++i)
      gray_rgb.pixels[3 * i] = gray_rgb.pixels[3 * i + 1] = gray_rgb.pixels[3 * i + 2] = raw[i];
    Image out = o.size == kSide ? gray_rgb : apply_plan_u8(gray_rgb, plan);
    const uint8_t* pixels = out.pixels.data();
    if (!o.rgb) {  // all three channels are equal: keep one
      gray.resize(static_cast<size_t>(o.size) * o.size);
      for (size_t i = 0; i < gray.size(); ++i) gray[i] = out.pixels[3 * i];
      pixels = gray.data();
    }
    char name[32];
    std::snprintf(name, sizeof name, "%05u.png", sample);
    fs::path path = fs::path(o.out_dir) / split / kFashionMnistClassNames[labels[sample]] / name;
    write_png(path.string(), pixels, o.size, o.rgb);
  }
  return static_cast<int>(picked.size());
}

}  // namespace

int write_fashion_mnist_folder(const FashionMnistOptions& options) {
  validate(options);
  const fs::path src(options.source_dir);
  const std::string train_images = (src / "train-images-idx3-ubyte.gz").string();
  const std::string train_labels = (src / "train-labels-idx1-ubyte.gz").string();
  const std::string test_images = (src / "t10k-images-idx3-ubyte.gz").string();
  const std::string test_labels = (src / "t10k-labels-idx1-ubyte.gz").string();
  for (const std::string& path : {train_images, train_labels, test_images, test_labels}) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      ROOST_USAGE_ERROR("fashion-mnist file ", path, " not found (install the Debian package dataset-fashion-mnist)");
  }
  ensure_writable_dir(options.out_dir);
  try {
    int written =
        write_split(options, train_images, train_labels, 10 * kTrainPerClass, options.train_per_class, "train");
    written += write_split(options, test_images, test_labels, 10 * kTestPerClass, options.val_per_class, "val");
    return written;
  } catch (...) {
    // validate() saw train/ and val/ absent or empty: a partial tree would only block the
    // rerun, so it goes.
    std::error_code ec;
    for (const char* split : {"train", "val"}) fs::remove_all(fs::path(options.out_dir) / split, ec);
    throw;
  }
}

}  // namespace roost::data
