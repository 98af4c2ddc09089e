// tests/fuzz/make_seeds.cc — writes the seed corpora of the fuzz targets with roost's own
// writers, so the seeds are exactly what roost produces today: small JPEG/PNG files
// (encode_jpeg/encode_png), a weights file (save_weights_h5), packs in both storages
// (write_pack, what `roost pack` runs) and a few `roost train` command lines.
// The .pth seeds come from make_seeds.py (torch.save itself). Usage: make_seeds OUT_DIR
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "roost/data/decode.h"
#include "roost/data/h5_pack.h"
#include "roost/model/state_dict.h"

namespace {

namespace fs = std::filesystem;
namespace data = roost::data;

void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  write_bytes(path, std::string(bytes.begin(), bytes.end()));
}

// A small image that is not flat, so encoders keep some detail (never all zeros).
data::Image pattern(int height, int width, int salt) {
  data::Image image;
  image.height = height;
  image.width = width;
  image.pixels.resize(static_cast<size_t>(height) * width * 3);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 37 + salt * 11 + 1);
  return image;
}

void decode_seeds(const fs::path& out) {
  write_bytes(out / "rgb_8x8.jpg", data::encode_jpeg(pattern(8, 8, 1)));
  write_bytes(out / "rgb_17x9.jpg", data::encode_jpeg(pattern(17, 9, 2), 50));
  write_bytes(out / "rgb_5x7.png", data::encode_png(pattern(5, 7, 3)));
}

void weights_seed(const fs::path& out) {
  fs::create_directories(out);
  roost::model::NamedTensors tensors = {{"conv1.weight", torch::arange(18, torch::kFloat32).reshape({2, 1, 3, 3}) / 7},
                                        {"bn1.running_mean", torch::tensor({0.5, -0.25}, torch::kFloat64)},
                                        {"bn1.num_batches_tracked", torch::tensor(3, torch::kInt64)},  // a 0-d tensor
                                        {"fc.bias", torch::tensor({1, 2}, torch::kInt32)}};
  roost::model::save_weights_h5((out / "tiny.h5").string(), tensors, "resnet18", {"cat", "dog"});
}

void pack_seeds(const fs::path& out, const fs::path& scratch) {
  // Two classes in each split; JPEG and PNG sources mixed, as a real tree may be.
  const fs::path tree = scratch / "tree";
  int salt = 0;
  for (const char* split : {"train", "val"})
    for (const char* cls : {"a", "b"}) {
      write_bytes(tree / split / cls / "0.png", data::encode_png(pattern(6, 5, ++salt)));
      write_bytes(tree / split / cls / "1.jpg", data::encode_jpeg(pattern(9, 8, ++salt)));
    }
  fs::create_directories(out);
  for (data::PackFormat format : {data::PackFormat::kEncoded, data::PackFormat::kPixels}) {
    data::PackOptions o;
    o.data_dir = tree.string();
    o.out = (out / (std::string(data::pack_format_name(format)) + ".h5")).string();
    o.format = format;
    data::write_pack(o);
  }
  fs::remove_all(tree);
}

void train_args_seeds(const fs::path& out) {
  // argv after "train", NUL-separated (train_args_fuzz.cc splits at NUL bytes).
  // clang-format off
  const std::vector<std::pair<std::string, std::vector<std::string>>> lines = {
      {"minimal", {"--data-dir", "d"}},
      {"equals", {"--data-dir=d.h5", "--epochs=3", "--lr=0.1", "--arch=resnet50"}},
      {"full", {"--data-dir", "d", "--output-dir", "o", "--image-size", "32", "--resize-short", "40",
                "--crop-scale-min", "0.2", "--crop-ratio-max", "1.5", "--workers", "0", "--epochs", "2",
                "--batch-size", "8", "--momentum", "0.5", "--weight-decay", "1e-4", "--lr-step", "1",
                "--lr-gamma", "0.5", "--seed", "7", "--threads", "1", "--preprocess", "cpu", "--amp",
                "bf16", "--channels-last", "--log-every", "1", "--fusion-threshold-mb", "0.5",
                "--cycle-time-ms", "5", "--fp16-allreduce", "--backward-passes-per-step", "2",
                "--stall-warning-s", "1", "--stall-shutdown-s", "9", "--timeline", "t.json",
                "--pretrained", "w.pth", "--zero-init-residual", "--nesterov"}},
      {"help", {"-h"}},
      {"bad_number", {"--data-dir", "d", "--epochs", "x"}}};
  // clang-format on
  fs::create_directories(out);
  for (const auto& [name, args] : lines) {
    std::string bytes;
    for (size_t i = 0; i < args.size(); ++i) bytes += (i ? std::string(1, '\0') : "") + args[i];
    write_bytes(out / name, bytes);
  }
}

// pack_fuzz and weights_h5_fuzz read an input that is not an HDF5 file as a recipe for one
// (see their header comments); a few byte strings start that half of their corpus.
void recipe_seeds(const fs::path& out) {
  uint32_t state = 12345;
  for (size_t size : {16, 64, 256}) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>((state = state * 1664525u + 1013904223u) >> 24);
    write_bytes(out / ("recipe_" + std::to_string(size)), bytes);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds OUT_DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  try {
    decode_seeds(out / "decode");
    weights_seed(out / "weights_h5");
    pack_seeds(out / "pack", out);
    recipe_seeds(out / "pack");
    recipe_seeds(out / "weights_h5");
    train_args_seeds(out / "train_args");
  } catch (const std::exception& e) {
    std::cerr << "make_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
