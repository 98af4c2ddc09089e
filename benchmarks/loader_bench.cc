// loader_bench.cc — the training input pipeline on one core: decode a ~500×375 JPEG, then
// RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize, in roost and in
// torchvision/PIL (benchmarks/loader_peer.py, run as a subprocess in the same run), side by
// side with their ratio. The question it answers: how many images per second can one CPU
// core feed the model, and how does that compare with the Python stack it replaces.
//
//   loader_bench [--data-dir D] [--images 300] [--epochs 3] [--cpu K] [--no-peer] [--json]
//                [--full-decode]   (time the decode/transform split with whole-image decoding)
//                [--resize-short N]  (the val transform Resize(N) + CenterCrop(size) instead)
//                [--jpeg-dct-scale off|on|both]  (both: roost without and with reduced-scale
//                                   JPEG decoding, `roost train --jpeg-dct-scale`, and on/off)
//
// Without --data-dir it writes --images photo-like JPEGs (quality 90) to a temporary folder.
// roost is timed twice: through data::Loader with workers=0 (the real code path, run on the
// calling thread) and as a plain loop that times decoding (of the crop's region, as the
// loader does it) and the transform separately.
// Each side warms up for one epoch and reports the median of the counted epochs. Rates are
// images per CPU-second of the process (what "per core" means, and steady on a shared
// machine where wall time is not); wall-clock rates are printed beside them.
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_args.h"
#include "bench_images.h"
#include "roost/data/dataset.h"
#include "roost/data/loader.h"
#include "roost/data/resize.h"
#include "roost/data/sampler.h"
#include "roost/data/transforms.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace data = roost::data;

struct Args {
  std::string data_dir, python = "/usr/bin/python3", peer = ROOST_SOURCE_DIR "/benchmarks/loader_peer.py";
  std::string dct = "off";  // off | on | both
  int images = 300, epochs = 3, size = 224, cpu = -1, resize_short = 0;
  bool run_peer = true, json = false, full_decode = false;
};

// Args from argv; empty after --help.
std::optional<Args> parse(int argc, char** argv) {
  Args a;
  cxxopts::Options spec("loader_bench", "decode + train transform images/s on one core, roost vs torchvision/PIL");
  // clang-format off
  spec.add_options()
      ("data-dir", "ImageFolder tree to read (default: generated photo-like JPEGs)", cxxopts::value<std::string>())
      ("images", "JPEGs to generate without --data-dir", cxxopts::value<std::string>()->default_value("300"))
      ("epochs", "counted epochs after one warm-up (median reported)", cxxopts::value<std::string>()->default_value("3"))
      ("size", "crop side in pixels", cxxopts::value<std::string>()->default_value("224"))
      ("resize-short", "> 0: time the val transform Resize(N) + CenterCrop(size) instead of the train one",
       cxxopts::value<std::string>()->default_value("0"))
      ("jpeg-dct-scale", "off|on|both: decode JPEGs at 1/2..1/8 scale where the crop allows (roost train "
       "--jpeg-dct-scale); both times roost both ways in this run", cxxopts::value<std::string>()->default_value("off"))
      ("cpu", "pin the process (and the peer) to this core; -1: no pinning", cxxopts::value<std::string>()->default_value("-1"))
      ("python", "Python for the torchvision peer", cxxopts::value<std::string>()->default_value(a.python))
      ("peer", "the torchvision peer script", cxxopts::value<std::string>()->default_value(a.peer))
      ("no-peer", "time roost only")
      ("full-decode", "time the decode/transform split with whole-image decoding")
      ("json", "print one JSON object instead of the table");
  // clang-format on
  const auto r = roost::bench::parse_args(spec, argc, argv);
  if (!r) return std::nullopt;
  if (r->count("data-dir")) a.data_dir = (*r)["data-dir"].as<std::string>();
  a.images = roost::bench::get_int_at_least(*r, "images", 1);
  a.epochs = std::max(1, roost::bench::get_int(*r, "epochs"));
  a.size = roost::bench::get_int_at_least(*r, "size", 1);
  a.cpu = roost::bench::get_int_at_least(*r, "cpu", -1);
  a.resize_short = roost::bench::get_int_at_least(*r, "resize-short", 0);
  ROOST_USAGE_CHECK(a.resize_short == 0 || a.resize_short >= a.size, "--resize-short (", a.resize_short,
                    ") must be 0 or at least --size (", a.size, ")");
  a.dct = (*r)["jpeg-dct-scale"].as<std::string>();
  ROOST_USAGE_CHECK(a.dct == "off" || a.dct == "on" || a.dct == "both",
                    "--jpeg-dct-scale must be off, on or both (got '", a.dct, "')");
  a.python = (*r)["python"].as<std::string>();
  a.peer = (*r)["peer"].as<std::string>();
  a.run_peer = r->count("no-peer") == 0;
  a.full_decode = r->count("full-decode") > 0;
  a.json = r->count("json") > 0;
  return a;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// CPU seconds used so far by the whole process or by the calling thread.
double cpu_seconds(clockid_t clock = CLOCK_PROCESS_CPUTIME_ID) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Rate {
  double cpu = 0, wall = 0;  // images per CPU-second, per wall-clock second
};

// The transform timed: the val plan with --resize-short, else the train plan.
data::ResizePlan plan_for(const Args& a, int height, int width, std::mt19937_64& rng) {
  return a.resize_short > 0 ? data::val_plan(height, width, a.resize_short, a.size)
                            : data::train_plan(height, width, a.size, {}, rng);
}

// Images/s through data::Loader on the calling thread (workers = 0), median over epochs.
Rate loader_rate(const std::shared_ptr<const data::Dataset>& ds, const Args& a, bool dct_scale) {
  std::vector<double> cpu, wall;
  for (int epoch = 0; epoch <= a.epochs; ++epoch) {
    data::LoaderOptions o;
    o.batch_size = 32;
    o.workers = 0;
    o.image_size = a.size;
    if (a.resize_short > 0) {
      o.augment = data::Augment::kVal;
      o.resize_short = a.resize_short;
    }
    o.decode.jpeg_dct_scale = dct_scale;
    o.seed = 1;
    o.epoch = static_cast<uint64_t>(epoch);
    data::Loader loader(ds, data::train_shard(ds->size(), 0, 1, o.seed, o.epoch), o);
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    int64_t n = 0;
    data::Batch batch;
    while (loader.next(batch)) n += batch.size;
    if (epoch > 0) {
      cpu.push_back(static_cast<double>(n) / (cpu_seconds() - cpu_start));
      wall.push_back(static_cast<double>(n) / seconds_since(start));
    }
  }
  return {median(cpu), median(wall)};
}

struct Split {
  double decode_ms = 0, transform_ms = 0;
};

// CPU milliseconds per image in decoding and in the train transform, median over epochs.
Split loop_split(const data::Dataset& ds, const Args& a, bool dct_scale) {
  data::DecodeOptions options;
  options.jpeg_dct_scale = dct_scale;
  std::vector<float> out(static_cast<size_t>(3) * a.size * a.size);
  std::vector<double> decode, transform;
  for (int epoch = 0; epoch <= a.epochs; ++epoch) {
    double d = 0, t = 0;
    for (int64_t i = 0; i < ds.size(); ++i) {
      std::mt19937_64 rng(static_cast<uint64_t>(epoch) * 1000003u + static_cast<uint64_t>(i));
      auto make_plan = [&](int h, int w) { return plan_for(a, h, w, rng); };
      data::ResizePlan plan;
      const double t0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
      const data::Image image = a.full_decode ? ds.load(i) : ds.load_for_plan(i, make_plan, &plan, options);
      if (a.full_decode) plan = make_plan(image.height, image.width);
      const double t1 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
      data::apply_plan_normalized(image, plan, data::Normalization{}, out.data());
      d += t1 - t0;
      t += cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - t1;
    }
    if (epoch > 0) {
      decode.push_back(1e3 * d / static_cast<double>(ds.size()));
      transform.push_back(1e3 * t / static_cast<double>(ds.size()));
    }
  }
  return {median(decode), median(transform)};
}

// The number after "key": in a one-line JSON object (the peer's output), or -1.
double json_number(const std::string& line, const std::string& key) {
  const size_t at = line.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::strtod(line.c_str() + at + key.size() + 3, nullptr);
}

std::string json_string(const std::string& line, const std::string& key) {
  const size_t at = line.find("\"" + key + "\": \"");
  if (at == std::string::npos) return "?";
  const size_t begin = at + key.size() + 5;
  return line.substr(begin, line.find('"', begin) - begin);
}

// Runs the Python peer and returns its JSON line.
std::string run_peer(const Args& a, const std::string& root) {
  const std::string command = a.python + " " + a.peer + " --data-dir '" + root + "' --epochs " +
                              std::to_string(a.epochs) + " --size " + std::to_string(a.size) + " --resize-short " +
                              std::to_string(a.resize_short) + " --json";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string output;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0) output.append(buffer, n);
  const int status = pclose(pipe.release());
  const size_t brace = output.rfind('{');
  if (status != 0 || brace == std::string::npos)
    throw std::runtime_error("the Python peer failed (status " + std::to_string(status) + "): " + command);
  return output.substr(brace);
}

// A generated image folder, removed when the benchmark ends.
struct ScratchDir {
  std::string path;
  ~ScratchDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

struct Side {
  bool dct = false;  // --jpeg-dct-scale on
  Rate rate;
  Split split;
};

void print_json(const Args& a, int64_t images, const std::vector<Side>& sides, const std::string& peer) {
  const Side& first = sides.front();
  const double tv_rate = peer.empty() ? -1 : json_number(peer, "img_s");
  std::printf(
      "{\"images\": %lld, \"size\": %d, \"resize_short\": %d, \"epochs\": %d, \"jpeg_dct_scale\": \"%s\", "
      "\"roost_img_s\": %.1f, \"roost_wall_img_s\": %.1f, \"roost_decode_ms\": %.3f, \"roost_transform_ms\": %.3f, ",
      static_cast<long long>(images), a.size, a.resize_short, a.epochs, a.dct.c_str(), first.rate.cpu, first.rate.wall,
      first.split.decode_ms, first.split.transform_ms);
  if (sides.size() == 2)
    std::printf(
        "\"dct_img_s\": %.1f, \"dct_wall_img_s\": %.1f, \"dct_decode_ms\": %.3f, \"dct_transform_ms\": %.3f, "
        "\"dct_ratio\": %.2f, ",
        sides[1].rate.cpu, sides[1].rate.wall, sides[1].split.decode_ms, sides[1].split.transform_ms,
        sides[1].rate.cpu / first.rate.cpu);
  std::printf(
      "\"torchvision_img_s\": %.1f, \"torchvision_wall_img_s\": %.1f, \"torchvision_decode_ms\": %.3f, "
      "\"torchvision_transform_ms\": %.3f, \"ratio\": %.2f}\n",
      tv_rate, json_number(peer, "wall_img_s"), json_number(peer, "decode_ms"), json_number(peer, "transform_ms"),
      tv_rate > 0 ? first.rate.cpu / tv_rate : -1);
}

void print_table(const Args& a, int64_t images, const std::string& root, const std::vector<Side>& sides,
                 const std::string& peer) {
  const std::string transform =
      a.resize_short > 0 ? "Resize(" + std::to_string(a.resize_short) + ") + CenterCrop(" + std::to_string(a.size) + ")"
                         : "RandomResizedCrop(" + std::to_string(a.size) + ") + flip";
  std::printf(
      "loader_bench: %lld images from %s, %s + ToTensor + Normalize,\n"
      "median of %d epochs after one warm-up; img/s/core = images per CPU-second\n\n",
      static_cast<long long>(images), a.data_dir.empty() ? "generated ~500x375 JPEGs (q90)" : root.c_str(),
      transform.c_str(), a.epochs);
  std::printf("%-40s %11s %9s %11s %11s %13s\n", "pipeline (one thread)", "img/s/core", "ms/img", "wall img/s",
              "decode ms", "transform ms");
  for (const Side& side : sides)
    std::printf("%-40s %11.1f %9.3f %11.1f %11.3f %13.3f\n",
                side.dct ? "roost, --jpeg-dct-scale on" : "roost (data::Loader, workers=0)", side.rate.cpu,
                1e3 / side.rate.cpu, side.rate.wall, side.split.decode_ms, side.split.transform_ms);
  const double tv_rate = peer.empty() ? -1 : json_number(peer, "img_s");
  if (tv_rate > 0) {
    const std::string name =
        "torchvision " + json_string(peer, "torchvision") + " / Pillow " + json_string(peer, "pillow");
    std::printf("%-40s %11.1f %9.3f %11.1f %11.3f %13.3f\n", name.c_str(), tv_rate, 1e3 / tv_rate,
                json_number(peer, "wall_img_s"), json_number(peer, "decode_ms"), json_number(peer, "transform_ms"));
  }
  std::printf("\n");
  if (sides.size() == 2)
    std::printf("--jpeg-dct-scale on / off: %.2fx per core\n", sides[1].rate.cpu / sides[0].rate.cpu);
  if (tv_rate > 0)
    std::printf("roost%s / torchvision: %.2fx per core (target >= 2x)\n",
                sides.front().dct ? " (--jpeg-dct-scale on)" : "", sides.front().rate.cpu / tv_rate);
}

}  // namespace

int main(int argc, char** argv) try {
  const std::optional<Args> parsed = parse(argc, argv);
  if (!parsed) return 0;
  const Args& a = *parsed;
  if (a.cpu >= 0) {
    // Pin this process (and so the peer it starts) to one core: both sides get the same one.
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(a.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
      throw std::runtime_error("cannot pin to CPU " + std::to_string(a.cpu));
  }
  ScratchDir scratch;
  std::string root = a.data_dir;
  if (root.empty()) {
    scratch.path =
        (std::filesystem::temp_directory_path() / ("roost-loader-bench-" + std::to_string(getpid()))).string();
    roost::bench::write_photo_like_jpegs(scratch.path, a.images);
    root = scratch.path;
  }
  const std::shared_ptr<const data::Dataset> ds = data::open_image_folder(root);

  // roost without and/or with reduced-scale JPEG decoding, as --jpeg-dct-scale asks.
  std::vector<Side> sides;
  for (bool dct : {false, true})
    if (a.dct == "both" || a.dct == (dct ? "on" : "off")) sides.push_back({dct, loader_rate(ds, a, dct), {}});
  for (Side& side : sides) side.split = loop_split(*ds, a, side.dct);
  std::string peer;
  if (a.run_peer) peer = run_peer(a, root);
  if (a.json) print_json(a, ds->size(), sides, peer);
  else print_table(a, ds->size(), root, sides, peer);
  return 0;
} catch (const std::exception& e) {
  return roost::bench::report_error("loader_bench", e);
}
