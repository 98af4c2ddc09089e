// pack_bench.cc — which storage should an HDF5 pack use: the encoded JPEG/PNG bytes or the
// decoded pixels? For each source tree it writes both packs and reports their size and how
// many images per second one core gets out of them: read alone (+ decode for encoded), and
// through the whole train transform (RandomResizedCrop 224 + flip + normalize), which is
// what training sees (a crop's region only, as the loader reads it). The loose folder is
// the baseline. Rates are images per CPU-second, steady on a shared machine.
//
//   pack_bench [--images 300] [--epochs 3] [--data-dir D ...] [--json]
//
// Sources: generated photo-like JPEGs of about 500×375 (quality 90), the same packed with
// --resize-short 256, Debian's Fashion-MNIST (28×28 PNG) when installed, and any --data-dir
// (an ImageFolder root with train/ and val/).
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_args.h"
#include "bench_images.h"
#include "roost/data/dataset.h"
#include "roost/data/fashion_mnist.h"
#include "roost/data/h5_pack.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

namespace {

namespace data = roost::data;
namespace fs = std::filesystem;

struct Source {
  std::string name, root;
  int resize_short = 0;
};

struct Row {
  std::string source, storage;
  double mb = 0, kb_per_image = 0, read_img_s = 0, train_img_s = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Median images per CPU-second over `epochs` (after one warm-up) of load(), or of
// load_for_plan() + the train transform.
double rate(const data::Dataset& ds, int epochs, bool transform) {
  std::vector<float> out(3 * 224 * 224);
  std::vector<double> rates;
  for (int epoch = 0; epoch <= epochs; ++epoch) {
    const double start = cpu_seconds();
    for (int64_t i = 0; i < ds.size(); ++i) {
      if (!transform) {
        ds.load(i);
        continue;
      }
      std::mt19937_64 rng(static_cast<uint64_t>(epoch * 100003 + i));
      data::ResizePlan plan;
      const data::Image image = ds.load_for_plan(
          i, [&](int h, int w) { return data::train_plan(h, w, 224, {}, rng); }, &plan);
      data::apply_plan_normalized(image, plan, data::Normalization{}, out.data());
    }
    if (epoch > 0) rates.push_back(static_cast<double>(ds.size()) / (cpu_seconds() - start));
  }
  return median(rates);
}

uint64_t tree_bytes(const std::string& root) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

std::vector<Row> measure(const Source& s, const std::string& scratch, int epochs) {
  std::vector<Row> rows;
  const int64_t images =
      data::open_image_folder(s.root + "/train")->size() + data::open_image_folder(s.root + "/val")->size();
  if (s.resize_short == 0) {
    auto folder = data::open_image_folder(s.root + "/train");
    const double mb = static_cast<double>(tree_bytes(s.root)) / 1e6;
    rows.push_back(
        {s.name, "folder", mb, 1e3 * mb / images, rate(*folder, epochs, false), rate(*folder, epochs, true)});
  }
  for (data::PackFormat format : {data::PackFormat::kEncoded, data::PackFormat::kPixels}) {
    data::PackOptions o;
    o.data_dir = s.root;
    o.out = scratch + "/bench.h5";
    o.format = format;
    o.resize_short = s.resize_short;
    data::write_pack(o);
    const double mb = static_cast<double>(fs::file_size(o.out)) / 1e6;
    {
      auto pack = data::open_pack(o.out, "train");
      rows.push_back({s.name, data::pack_format_name(format), mb, 1e3 * mb / images, rate(*pack, epochs, false),
                      rate(*pack, epochs, true)});
    }
    fs::remove(o.out);
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) try {
  cxxopts::Options spec("pack_bench", "HDF5 pack storage, encoded bytes vs decoded pixels: size and images/s per core");
  // clang-format off
  spec.add_options()
      ("images", "photo-like JPEGs to generate for the train split", cxxopts::value<std::string>()->default_value("300"))
      ("epochs", "counted epochs (median reported)", cxxopts::value<std::string>()->default_value("3"))
      ("data-dir", "also measure this ImageFolder root with train/ and val/ (repeat for more; a comma also "
                   "separates)", cxxopts::value<std::vector<std::string>>())
      ("json", "print JSON instead of the table");
  // clang-format on
  const auto r = roost::bench::parse_args(spec, argc, argv);
  if (!r) return 0;
  const int images = roost::bench::get_int_at_least(*r, "images", 1);
  const int epochs = std::max(1, roost::bench::get_int(*r, "epochs"));
  const bool json = r->count("json") > 0;
  std::vector<std::string> dirs;
  if (r->count("data-dir")) dirs = (*r)["data-dir"].as<std::vector<std::string>>();
  const std::string scratch = (fs::temp_directory_path() / ("roost-pack-bench-" + std::to_string(getpid()))).string();
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } cleanup{scratch};

  std::vector<Source> sources;
  roost::bench::write_photo_like_jpegs(scratch + "/photos/train", images, 7);
  roost::bench::write_photo_like_jpegs(scratch + "/photos/val", std::max(2, images / 4), 8);
  sources.push_back({"JPEG ~500x375 q90", scratch + "/photos"});
  sources.push_back({"JPEG ~500x375 q90, resize-short 256", scratch + "/photos", 256});
  data::FashionMnistOptions fm;
  if (fs::exists(fm.source_dir + "/train-images-idx3-ubyte.gz")) {
    fm.out_dir = scratch + "/fashion-mnist";
    data::write_fashion_mnist_folder(fm);
    sources.push_back({"Fashion-MNIST PNG 28x28", fm.out_dir});
  }
  for (const auto& d : dirs) sources.push_back({d, d});

  std::vector<Row> rows;
  for (const auto& s : sources)
    for (const Row& r : measure(s, scratch, epochs)) rows.push_back(r);

  if (json) {
    std::printf("[");
    for (size_t i = 0; i < rows.size(); ++i)
      std::printf(
          "%s{\"source\": \"%s\", \"storage\": \"%s\", \"mb\": %.3f, \"kb_per_image\": %.2f, "
          "\"read_img_s\": %.1f, \"train_img_s\": %.1f}",
          i ? ", " : "", rows[i].source.c_str(), rows[i].storage.c_str(), rows[i].mb, rows[i].kb_per_image,
          rows[i].read_img_s, rows[i].train_img_s);
    std::printf("]\n");
    return 0;
  }
  std::printf(
      "pack_bench: pack size and images per CPU-second on one thread (train split, median of %d "
      "epochs)\n\n",
      epochs);
  std::printf("%-38s %-8s %9s %9s %16s %16s\n", "source", "storage", "MB", "KB/img", "read(+decode)/s",
              "+train xform/s");
  for (const Row& r : rows)
    std::printf("%-38s %-8s %9.2f %9.1f %16.1f %16.1f\n", r.source.c_str(), r.storage.c_str(), r.mb, r.kb_per_image,
                r.read_img_s, r.train_img_s);
  return 0;
} catch (const std::exception& e) {
  return roost::bench::report_error("pack_bench", e);
}
