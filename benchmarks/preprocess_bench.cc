// preprocess_bench.cc — how fast is roost's preprocessing (crop + antialiased resize +
// flip + normalize) on the CPU reference and in the fused CUDA kernel?
//
// Workload: a batch of images of about 500×375 with RandomResizedCrop(224) train plans.
// Reported:
//   cpu      data::apply_plan_normalized on one thread: images/s per core;
//   pack     the GPU path's host half (plan the batch, copy the pixels the kernel reads into
//            one buffer) on one thread: what GpuPreprocessor::pack costs a loader worker;
//   copy     device-to-device cudaMemcpy of 1 GiB: bytes read + written per second — the
//            ceiling for a kernel that must read its inputs and write its outputs once;
//   kernel   the fused kernel alone over data already on the device (CUDA events, median of
//            many launches): images/s and GB/s of the bytes that must move (the source
//            pixels the plans need, read once, plus the output written once), as % of copy;
//            fp32 once more with the costliest tiles launched first (PreprocessOptions::
//            largest_tiles_first) instead of in image order;
//   e2e      GpuPreprocessor::run from host images: pack into pinned memory, upload, kernel;
//            synchronous (one batch at a time) and pipelined (batches back to back).
//   sweep    (--sweep) the kernel alone, fp32 NCHW, for a grid of tile shapes (shared memory
//            per tile × most rows per tile): which layout defaults serve this device best.
//   --kernel-only  skips the CPU, pack and end-to-end rows: the kernel rows and their checks
//                  (benchmarks/preprocess_variants.sh).
// Usage: preprocess_bench [--json] [--batch N] [--reps N] [--device N] [--sweep] [--kernel-only] [--help]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench_args.h"
#include "preprocess_layout.h"
#include "preprocess_timing.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"
#include "roost/kernels/preprocess.h"

#ifdef ROOST_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  bool json = false;
  int batch = 256;
  int reps = 50;
  int device = 0;
  bool sweep = false;  // also time fp32 NCHW over a grid of tile shapes
  bool kernel_only = false;
};

struct Row {
  std::string name;
  double images_per_s = 0;  // 0 where it does not apply
  double gb_per_s = 0;
  double percent_of_copy = 0;
  double ms = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Options from argv; empty after --help.
std::optional<Options> parse(int argc, char** argv) {
  Options o;
  cxxopts::Options spec("preprocess_bench", "roost's preprocessing: CPU reference vs the fused CUDA kernel");
  // clang-format off
  spec.add_options()
      ("json", "print the rows as JSON")
      ("batch", "images per batch", cxxopts::value<std::string>()->default_value(std::to_string(o.batch)))
      ("reps", "timed repetitions", cxxopts::value<std::string>()->default_value(std::to_string(o.reps)))
      ("device", "CUDA device", cxxopts::value<std::string>()->default_value(std::to_string(o.device)))
      ("sweep", "also time the kernel over a grid of tile shapes")
      ("kernel-only", "only the kernel rows and their checks");
  // clang-format on
  const auto r = roost::bench::parse_args(spec, argc, argv);
  if (!r) return std::nullopt;
  o.json = r->count("json") > 0;
  o.batch = std::max(roost::bench::get_int(*r, "batch"), 1);
  o.reps = std::max(roost::bench::get_int(*r, "reps"), 1);
  o.device = roost::bench::get_int_at_least(*r, "device", 0);
  o.sweep = r->count("sweep") > 0;
  o.kernel_only = r->count("kernel-only") > 0;
  return o;
}

// The CPU reference's float32 output for every image of the batch, back to back.
std::vector<float> reference_outputs(const std::vector<roost::data::Image>& images,
                                     const std::vector<roost::data::ResizePlan>& plans) {
  const size_t per_image = 3 * 224 * 224;
  std::vector<float> ref(per_image * images.size());
  for (size_t i = 0; i < images.size(); ++i)
    roost::data::apply_plan_normalized(images[i], plans[i], roost::data::Normalization{}, ref.data() + i * per_image);
  return ref;
}

// The kernel's output for every image against the CPU reference, bitwise: float32 as it is,
// bfloat16 as the reference rounded to nearest even. Returns the number of images that differ.
size_t differing_images(const std::vector<uint8_t>& got, bool bf16, const std::vector<float>& ref, size_t images) {
  const size_t per_image = 3 * 224 * 224;
  size_t bad = 0;
  for (size_t i = 0; i < images; ++i) {
    bool same = true;
    for (size_t e = i * per_image; e < (i + 1) * per_image && same; ++e) {
      uint32_t want;
      std::memcpy(&want, &ref[e], 4);
      if (bf16) {
        want = (want + 0x7FFFu + ((want >> 16) & 1u)) >> 16;
        uint16_t have;
        std::memcpy(&have, got.data() + e * 2, 2);
        same = have == want;
      } else {
        uint32_t have;
        std::memcpy(&have, got.data() + e * 4, 4);
        same = have == want;
      }
    }
    bad += same ? 0 : 1;
  }
  return bad;
}

#ifdef ROOST_WITH_CUDA
#define BENCH_CUDA(call)                                                       \
  do {                                                                         \
    cudaError_t rc_ = (call);                                                  \
    if (rc_ != cudaSuccess) {                                                  \
      std::fprintf(stderr, "%s failed: %s\n", #call, cudaGetErrorString(rc_)); \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

// Device-to-device copy bandwidth, counting bytes read plus bytes written.
double copy_bandwidth_gbs(int reps) {
  const size_t bytes = size_t{1} << 30;
  void *a = nullptr, *b = nullptr;
  BENCH_CUDA(cudaMalloc(&a, bytes));
  BENCH_CUDA(cudaMalloc(&b, bytes));
  BENCH_CUDA(cudaMemset(a, 1, bytes));
  cudaEvent_t start, stop;
  BENCH_CUDA(cudaEventCreate(&start));
  BENCH_CUDA(cudaEventCreate(&stop));
  std::vector<double> ms;
  for (int i = 0; i < reps + 2; ++i) {
    BENCH_CUDA(cudaEventRecord(start));
    BENCH_CUDA(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));
    BENCH_CUDA(cudaEventRecord(stop));
    BENCH_CUDA(cudaEventSynchronize(stop));
    float t = 0;
    BENCH_CUDA(cudaEventElapsedTime(&t, start, stop));
    if (i >= 2) ms.push_back(t);  // the first two warm up
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / (median(ms) * 1e-3) / 1e9;
}
#endif

void print_table(int batch, const std::vector<Row>& rows, size_t checked, const std::vector<std::string>& differing) {
  std::printf(
      "preprocess_bench: batch of %d images ~500x375 -> RandomResizedCrop(224) + flip + "
      "normalize\n\n",
      batch);
  std::printf("%-46s %12s %10s %8s %10s\n", "what", "images/s", "GB/s", "% copy", "ms/batch");
  auto cell = [](double v, int width, int precision) {
    char buf[32];
    if (v == 0) std::snprintf(buf, sizeof buf, "%*s", width, "-");
    else std::snprintf(buf, sizeof buf, "%*.*f", width, precision, v);
    return std::string(buf);
  };
  for (const Row& r : rows)
    std::printf("%-46s %s %s %s %s\n", r.name.c_str(), cell(r.images_per_s, 12, 0).c_str(),
                cell(r.gb_per_s, 10, 1).c_str(), cell(r.percent_of_copy, 8, 1).c_str(), cell(r.ms, 10, 3).c_str());
  if (checked > 0 && differing.empty())
    std::printf(
        "\nCPU reference check: all %zu timed outputs (every row and sweep shape above) "
        "equal the CPU reference bitwise, %d images each\n",
        checked, batch);
  for (const std::string& d : differing) std::printf("CPU reference check FAILED, %s\n", d.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace roost;
  std::optional<Options> parsed;
  try {
    parsed = parse(argc, argv);
  } catch (const std::exception& e) {
    return bench::report_error("preprocess_bench", e);
  }
  if (!parsed) return 0;
  const Options& opt = *parsed;

  // The workload: sizes around 500×375 (both orientations), train plans to 224.
  std::mt19937_64 rng(2024);
  std::vector<data::Image> images(opt.batch);
  std::vector<data::ResizePlan> plans;
  size_t source_bytes = 0;
  for (auto& im : images) {
    const bool portrait = (rng() & 3) == 0;
    const int long_side = 450 + static_cast<int>(rng() % 101);
    const int short_side = 340 + static_cast<int>(rng() % 71);
    im.height = portrait ? long_side : short_side;
    im.width = portrait ? short_side : long_side;
    im.pixels.resize(static_cast<size_t>(im.height) * im.width * 3);
    for (auto& p : im.pixels) p = static_cast<uint8_t>(rng() >> 56);
    plans.push_back(data::train_plan(im.height, im.width, 224, {}, rng));
    source_bytes += im.pixels.size();
  }
  std::vector<const data::Image*> pointers;
  for (const auto& im : images) pointers.push_back(&im);

  std::vector<Row> rows;
  // CPU reference, one thread: a bounded number of images keeps this quick.
  if (!opt.kernel_only) {
    const int n = std::min(opt.batch, 64);
    std::vector<float> out(3 * 224 * 224);
    std::vector<double> per_image;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = Clock::now();
      for (int i = 0; i < n; ++i) data::apply_plan_normalized(images[i], plans[i], data::Normalization{}, out.data());
      per_image.push_back(seconds_since(t0) / n);
    }
    const double s = median(per_image);
    rows.push_back({"cpu reference (1 thread)", 1.0 / s, 0, 0, s * 1e3 * opt.batch});
  }
  // The CPU half of the GPU path (GpuPreprocessor::pack, which the loader's workers run):
  // planning the batch and copying the pixels the kernel reads into one host buffer.
  if (!opt.kernel_only) {
    namespace kd = kernels::detail;
    kd::LayoutOptions layout;
    layout.shared_limit = 227 * 1024;
    std::vector<uint8_t> buffer;
    std::vector<double> seconds;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = Clock::now();
      const kd::BatchPlan plan = kd::plan_batch(pointers, plans, layout);
      buffer.resize(plan.layout.total);
      kd::pack_batch(plan, pointers, data::Normalization{}, buffer.data());
      if (rep > 0) seconds.push_back(seconds_since(t0));  // the first touches new memory
    }
    const double s = median(seconds);
    rows.push_back({"gpu path's plan + pack on the host (1 thread)", opt.batch / s, 0, 0, s * 1e3});
  }

  std::vector<std::string> checks;     // one line per checked kernel output
  std::vector<std::string> differing;  // the lines of those that differ

  bool gpu = kernels::GpuPreprocessor::available();
  std::string gpu_note = gpu ? "" : "no CUDA device: the GPU figures need one";
#ifdef ROOST_WITH_CUDA
  if (gpu) {
    BENCH_CUDA(cudaSetDevice(opt.device));
    const double copy_gbs = copy_bandwidth_gbs(10);
    rows.push_back({"device copy (D2D memcpy 1 GiB)", 0, copy_gbs, 100.0, 0});
    const size_t out_elements = static_cast<size_t>(opt.batch) * 3 * 224 * 224;
    void* out = nullptr;
    BENCH_CUDA(cudaMalloc(&out, out_elements * 4));
    // Each timed configuration's output is then checked: poisoned first (all bits set: NaN,
    // finished before the next launch on any stream), so an element never written differs too.
    std::vector<float> reference;  // computed at the first check
    auto poison = [&] {
      BENCH_CUDA(cudaMemset(out, 0xFF, out_elements * 4));
      BENCH_CUDA(cudaDeviceSynchronize());
    };
    auto check_output = [&](const std::string& what, bool bf16) {
      std::vector<uint8_t> got(out_elements * (bf16 ? 2 : 4));
      BENCH_CUDA(cudaMemcpy(got.data(), out, got.size(), cudaMemcpyDeviceToHost));
      if (reference.empty()) reference = reference_outputs(images, plans);
      const size_t bad = differing_images(got, bf16, reference, images.size());
      checks.push_back(what + ": " + std::to_string(opt.batch - bad) + " of " + std::to_string(opt.batch) +
                       " images equal the CPU reference bitwise");
      if (bad > 0) differing.push_back(checks.back());
    };
    // The kernel alone with options po: poisons, times, checks `name`'s output.
    struct Timed {
      double ms, gbs;
      kernels::KernelTiming t;
    };
    auto time_kernel = [&](const kernels::PreprocessOptions& po, const std::string& name) {
      poison();
      Timed r;
      r.t = kernels::time_preprocess_kernel(po, pointers, plans, out, 5, opt.reps);
      r.ms = median(std::vector<double>(r.t.milliseconds.begin(), r.t.milliseconds.end()));
      r.gbs = (r.t.input_bytes + r.t.output_bytes) / (r.ms * 1e-3) / 1e9;
      check_output(name, po.output == kernels::OutputType::kBFloat16);
      return r;
    };
    auto add_row = [&](const std::string& name, const Timed& r) {
      rows.push_back({name, opt.batch / (r.ms * 1e-3), r.gbs, 100.0 * r.gbs / copy_gbs, r.ms});
    };
    for (auto type : {kernels::OutputType::kFloat32, kernels::OutputType::kBFloat16}) {
      kernels::PreprocessOptions po;
      po.device = opt.device;
      po.output = type;
      const char* name = type == kernels::OutputType::kFloat32 ? "kernel only, fp32 NCHW" : "kernel only, bf16 NCHW";
      add_row(name, time_kernel(po, name));
    }
    {  // the same fp32 kernel with the costliest tiles launched first instead of in image order
      kernels::PreprocessOptions po;
      po.device = opt.device;
      po.largest_tiles_first = true;
      const std::string name = "kernel only, fp32 NCHW, tiles largest first";
      add_row(name, time_kernel(po, name));
    }
    if (opt.sweep) {
      FILE* to = opt.json ? stderr : stdout;  // keep --json output one JSON document
      std::fprintf(to, "tile sweep, kernel only, fp32 NCHW (target KiB x max rows):\n");
      for (int kib : {16, 24, 32, 48, 64, 96})
        for (int max_rows : {8, 16, 32, 64}) {
          kernels::PreprocessOptions po;
          po.device = opt.device;
          po.tile_target_bytes = kib * 1024;
          po.max_tile_rows = max_rows;
          const Timed r =
              time_kernel(po, "sweep " + std::to_string(kib) + " KiB " + std::to_string(max_rows) + " rows");
          std::fprintf(to,
                       "  sweep %3d KiB %3d rows: %8.4f ms %8.1f GB/s %5.1f%% of copy, %6d tiles, "
                       "%6d B shared\n",
                       kib, max_rows, r.ms, r.gbs, 100.0 * r.gbs / copy_gbs, r.t.tiles, r.t.shared_bytes);
        }
    }
    if (!opt.kernel_only) {
      // End to end from host images (float32): synchronous, then pipelined.
      kernels::PreprocessOptions po;
      po.device = opt.device;
      kernels::GpuPreprocessor pre(po);
      cudaStream_t stream;
      BENCH_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
      std::vector<double> sync_s;
      poison();
      for (int i = 0; i < std::min(opt.reps, 20) + 2; ++i) {
        const auto t0 = Clock::now();
        pre.run(pointers, plans, out, stream);
        BENCH_CUDA(cudaStreamSynchronize(stream));
        if (i >= 2) sync_s.push_back(seconds_since(t0));
      }
      const double s = median(sync_s);
      rows.push_back({"end to end, synchronous (pack+upload+kernel)", opt.batch / s, 0, 0, s * 1e3});
      const int pipelined = std::min(opt.reps, 20);
      const auto t0 = Clock::now();
      for (int i = 0; i < pipelined; ++i) pre.run(pointers, plans, out, stream);
      BENCH_CUDA(cudaStreamSynchronize(stream));
      const double per_batch = seconds_since(t0) / pipelined;
      rows.push_back({"end to end, pipelined batches", opt.batch / per_batch, 0, 0, per_batch * 1e3});
      cudaStreamDestroy(stream);
      check_output("end to end", false);
    }
    cudaFree(out);
  }
#else
  gpu = false;
  gpu_note = "roost was built without CUDA: the GPU figures need a CUDA build and a device";
#endif

  if (opt.json) {
    std::printf("{\"batch\": %d, \"source_bytes\": %zu, \"gpu\": %s, \"note\": \"%s\", \"rows\": [", opt.batch,
                source_bytes, gpu ? "true" : "false", gpu_note.c_str());
    for (size_t i = 0; i < rows.size(); ++i)
      std::printf(
          "%s{\"name\": \"%s\", \"images_per_s\": %.1f, \"gb_per_s\": %.1f, "
          "\"percent_of_copy\": %.1f, \"ms\": %.4f}",
          i ? ", " : "", rows[i].name.c_str(), rows[i].images_per_s, rows[i].gb_per_s, rows[i].percent_of_copy,
          rows[i].ms);
    std::printf("], \"checks\": [");
    for (size_t i = 0; i < checks.size(); ++i) std::printf("%s\"%s\"", i ? ", " : "", checks[i].c_str());
    // null where nothing was checked (no GPU): neither a pass nor a failure.
    std::printf("], \"outputs_equal_reference\": %s}\n", checks.empty()       ? "null"
                                                         : !differing.empty() ? "false"
                                                                              : "true");
  } else {
    print_table(opt.batch, rows, checks.size(), differing);
    if (!gpu_note.empty()) std::printf("\n%s\n", gpu_note.c_str());
  }
  if (!differing.empty()) {
    std::fprintf(stderr, "preprocess_bench: the kernel's output differs from the CPU reference\n");
    return 1;
  }
  if (opt.kernel_only && checks.empty()) {  // nothing timed, nothing checked: not a pass
    std::fprintf(stderr, "preprocess_bench: --kernel-only needs a CUDA device\n");
    return 1;
  }
  return 0;
}
