// data_h5_pack_test.cc — HDF5 packs: both storages give back exactly what decoding the
// original files gives, labels and classes survive, --resize-short matches the reference
// resize, auto picks by size, damaged packs are UsageErrors naming the file, and load()
// from several threads returns the same bytes as from one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "python_peer.h"
#include "roost/core/error.h"
#include "roost/data/dataset.h"
#include "roost/data/decode.h"
#include "roost/data/open.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

#ifdef ROOST_WITH_HDF5
#include "roost/data/h5_pack.h"
#include "roost/io/h5.h"

namespace roost::data {
namespace {

namespace fs = std::filesystem;
using roost::testing::random_image;
using roost::testing::read_bytes;
using roost::testing::TempDir;
using roost::testing::write_bytes;

// A smooth image: compresses like a photo, so encoded bytes are far smaller than pixels.
Image gradient_image(int height, int width, int seed) {
  Image image{height, width, std::vector<uint8_t>(static_cast<size_t>(height) * width * 3)};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        image.row(y)[x * 3 + c] = static_cast<uint8_t>((x * (c + 1) + y * 2 + seed * 37) & 255);
  return image;
}

class DataH5Pack : public ::testing::Test {
 protected:
  // root/{train,val}/{chicken,turkey}/ with JPEGs and PNGs of odd sizes, and one
  // undecodable file in train that the pack must skip.
  void SetUp() override {
    std::mt19937_64 rng(11);
    int k = 0;
    for (const char* split : {"train", "val"})
      for (const char* cls : {"chicken", "turkey"}) {
        const fs::path dir = fs::path(root()) / split / cls;
        fs::create_directories(dir);
        for (int i = 0; i < 3; ++i, ++k) {
          const Image image = random_image(9 + 5 * i + k % 4, 14 + 3 * k, rng);
          if ((i + k) % 2 == 0)
            write_bytes((dir / ("img" + std::to_string(i) + ".jpg")).string(), encode_jpeg(image, 90));
          else write_bytes((dir / ("img" + std::to_string(i) + ".png")).string(), encode_png(image));
        }
      }
    write_bytes(root() + "/train/turkey/zz-broken.jpg", {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3});
  }

  std::string root() const { return dir_.file("tree"); }
  std::string pack_path() const { return dir_.file("tree.h5"); }

  PackSummary pack(PackFormat format, int resize_short = 0) {
    PackOptions o;
    o.data_dir = root();
    o.out = pack_path();
    o.format = format;
    o.resize_short = resize_short;
    return write_pack(o);
  }

  // The folder's files of `split` that decode (the pack's samples, in order).
  std::vector<std::string> readable(const std::string& split) const {
    auto folder = open_image_folder(root() + "/" + split);
    std::vector<std::string> out;
    for (int64_t i = 0; i < folder->size(); ++i)
      if (folder->describe(i).find("broken") == std::string::npos) out.push_back(folder->describe(i));
    return out;
  }

  static void expect_usage_error(const std::string& path, const std::string& split, const std::string& needle) {
    try {
      open_pack(path, split);
      ADD_FAILURE() << "no error for " << path;
    } catch (const UsageError& e) {
      EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
      EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
    }
  }

  TempDir dir_;
};

class DataH5PackFormats : public DataH5Pack, public ::testing::WithParamInterface<PackFormat> {};

TEST_P(DataH5PackFormats, RoundTripEqualsDecodingTheOriginals) {
  const PackSummary summary = pack(GetParam());
  EXPECT_EQ(summary.format, GetParam());
  EXPECT_EQ(summary.train_images, 6);
  EXPECT_EQ(summary.val_images, 6);
  EXPECT_EQ(summary.skipped, 1);
  for (const char* split : {"train", "val"}) {
    auto pack = open_pack(pack_path(), split);
    auto folder = open_image_folder(root() + "/" + split);
    const std::vector<std::string> files = readable(split);
    ASSERT_EQ(pack->size(), static_cast<int64_t>(files.size()));
    EXPECT_EQ(pack->class_names(), (std::vector<std::string>{"chicken", "turkey"}));
    for (int64_t i = 0; i < pack->size(); ++i) {
      const Image expected = decode_file(files[i]);
      const Image got = pack->load(i);
      EXPECT_EQ(got.height, expected.height) << files[i];
      EXPECT_EQ(got.width, expected.width) << files[i];
      EXPECT_EQ(got.pixels, expected.pixels) << files[i];
      EXPECT_EQ(pack->label(i), i < 3 ? 0 : 1);
      const fs::path source(files[i]);
      EXPECT_NE(pack->describe(i).find(source.parent_path().filename().string() + "/" + source.filename().string()),
                std::string::npos)
          << pack->describe(i);
    }
    EXPECT_THROW(pack->load(pack->size()), Error);
  }
}

TEST_P(DataH5PackFormats, ResizeShortMatchesTheReferenceResize) {
  const int short_side = 12;
  pack(GetParam(), short_side);
  auto pack_set = open_pack(pack_path(), "train");
  const std::vector<std::string> files = readable("train");
  for (int64_t i = 0; i < pack_set->size(); ++i) {
    Image expected = decode_file(files[i]);
    if (std::min(expected.height, expected.width) > short_side) {
      ResizePlan plan = val_plan(expected.height, expected.width, short_side, 1);
      plan.offset_y = plan.offset_x = 0;
      plan.out_h = plan.resized_h;
      plan.out_w = plan.resized_w;
      expected = apply_plan_u8(expected, plan);
    }
    const Image got = pack_set->load(i);
    ASSERT_EQ(got.height, expected.height) << files[i];
    ASSERT_EQ(got.width, expected.width) << files[i];
    const bool lossy =
        GetParam() == PackFormat::kEncoded && files[i].size() > 4 && files[i].substr(files[i].size() - 4) == ".jpg";
    if (!lossy) {
      EXPECT_EQ(got.pixels, expected.pixels) << files[i];  // pixels, or PNG re-encoded as PNG
    } else {
      double error = 0;  // JPEG quality 95 of a resized noise image: small mean error
      for (size_t p = 0; p < got.pixels.size(); ++p) error += std::abs(got.pixels[p] - expected.pixels[p]);
      EXPECT_LT(error / got.pixels.size(), 12.0) << files[i];
    }
  }
}

TEST_P(DataH5PackFormats, ConcurrentLoadsGiveTheSameBytes) {
  pack(GetParam());
  auto pack_set = open_pack(pack_path(), "train");
  std::vector<Image> serial;
  for (int64_t i = 0; i < pack_set->size(); ++i) serial.push_back(pack_set->load(i));
  std::vector<std::vector<Image>> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::vector<Image>& out = results[t];
      out.resize(serial.size());
      for (int round = 0; round < 20; ++round)
        for (size_t k = 0; k < serial.size(); ++k) {
          const size_t i = (k * (t + 1) + round) % serial.size();  // each thread its own order
          out[i] = pack_set->load(static_cast<int64_t>(i));
        }
    });
  for (auto& th : threads) th.join();
  for (const auto& out : results)
    for (size_t i = 0; i < serial.size(); ++i) EXPECT_EQ(out[i].pixels, serial[i].pixels) << i;
}

INSTANTIATE_TEST_SUITE_P(Data, DataH5PackFormats, ::testing::Values(PackFormat::kEncoded, PackFormat::kPixels),
                         [](const auto& info) { return std::string(pack_format_name(info.param)); });

TEST_F(DataH5Pack, AutoStoresPixelsForIncompressibleImagesAndBytesForPhotos) {
  // The fixture's noise images barely compress: pixels cost no more than their files.
  EXPECT_EQ(pack(PackFormat::kAuto).format, PackFormat::kPixels);
  fs::remove_all(root());
  for (const char* split : {"train", "val"})
    for (const char* cls : {"a", "b"}) {
      fs::create_directories(fs::path(root()) / split / cls);
      write_bytes(root() + "/" + split + "/" + cls + "/x.jpg", encode_jpeg(gradient_image(64, 80, cls[0]), 90));
    }
  EXPECT_EQ(pack(PackFormat::kAuto).format, PackFormat::kEncoded);
  {
    std::lock_guard<std::mutex> lock(io::h5_library_mutex());
    io::H5Id file(H5Fopen(pack_path().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    ASSERT_TRUE(file.valid());
    EXPECT_EQ(io::read_string_attr(file.get(), "format"), "roost-pack-1");
    EXPECT_EQ(io::read_string_attr(file.get(), "storage"), "encoded");
    EXPECT_EQ(io::read_string_list_attr(file.get(), "class_names"), (std::vector<std::string>{"a", "b"}));
  }
}

TEST_F(DataH5Pack, TruncatedPackIsAUsageErrorNamingTheFile) {
  pack(PackFormat::kEncoded);
  const std::vector<uint8_t> bytes = read_bytes(pack_path());
  for (size_t keep : {bytes.size() / 2, bytes.size() - 1, size_t{100}, size_t{5}}) {
    write_bytes(pack_path(), std::vector<uint8_t>(bytes.begin(), bytes.begin() + keep));
    expect_usage_error(pack_path(), "train", "corrupt");
  }
  write_bytes(pack_path(), {'n', 'o', 't', ' ', 'h', 'd', 'f'});
  expect_usage_error(pack_path(), "train", "not an HDF5 file");
  expect_usage_error(dir_.file("missing.h5"), "train", "does not exist");
}

TEST_F(DataH5Pack, MissingDatasetsOrSplitAreUsageErrors) {
  pack(PackFormat::kPixels);
  expect_usage_error(pack_path(), "test", "no /test group");
  for (const char* name : {"train/shapes", "train/offsets", "train/data"}) {
    pack(PackFormat::kPixels);
    {
      std::lock_guard<std::mutex> lock(io::h5_library_mutex());
      io::H5Id file(H5Fopen(pack_path().c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
      ASSERT_TRUE(file.valid());
      ASSERT_GE(H5Ldelete(file.get(), name, H5P_DEFAULT), 0);
    }
    expect_usage_error(pack_path(), "train", std::string(name) + " is missing");
    EXPECT_NO_THROW(open_pack(pack_path(), "val"));
  }
  // An HDF5 file that is not a pack (a weights file, say).
  {
    std::lock_guard<std::mutex> lock(io::h5_library_mutex());
    io::H5Id file(H5Fcreate(pack_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    io::write_string_attr(file.get(), "format", "roost-weights-1");
  }
  expect_usage_error(pack_path(), "train", "roost-pack-1");
}

TEST_F(DataH5Pack, WriteRejectsUnusableTrees) {
  fs::rename(fs::path(root()) / "val" / "turkey", fs::path(root()) / "val" / "goose");
  try {
    pack(PackFormat::kEncoded);
    ADD_FAILURE() << "class mismatch accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(e.message().find("class mismatch"), std::string::npos) << e.message();
  }
  fs::remove_all(fs::path(root()) / "val");
  EXPECT_THROW(pack(PackFormat::kEncoded), UsageError);
  EXPECT_FALSE(fs::exists(pack_path()));
  EXPECT_FALSE(fs::exists(pack_path() + ".tmp"));
  EXPECT_THROW(parse_pack_format("zip"), UsageError);
}

TEST_F(DataH5Pack, OpenSplitChoosesPackOrFolder) {
  pack(PackFormat::kEncoded);
  auto from_pack = open_split(pack_path(), "val");
  EXPECT_NE(from_pack->describe(0).find(pack_path() + ":/val[0]"), std::string::npos);
  auto from_folder = open_split(root(), "val");
  EXPECT_EQ(from_folder->describe(0), readable("val")[0]);
  EXPECT_EQ(from_pack->size(), from_folder->size());
  EXPECT_THROW(open_split(root(), "test"), UsageError);
  EXPECT_THROW(open_split(dir_.file("nowhere"), "train"), UsageError);
  // A pack without the .h5 name is still recognised by its signature.
  fs::rename(pack_path(), dir_.file("pack.bin"));
  EXPECT_EQ(open_split(dir_.file("pack.bin"), "train")->size(), 6);
}

}  // namespace
}  // namespace roost::data

#else  // roost built without HDF5

TEST(DataH5Pack, NeedsHdf5) { GTEST_SKIP() << "roost_data was built without HDF5: no packs"; }

#endif
