// pipeline_bench.cc — the decode workers feeding a consumer whose steps take a fixed time (an
// accelerator that takes `--batch` images every batch/rate seconds and leaves the CPU free),
// over short epochs of training and validation passes, with and without starting the next
// pass early (data::NextLoader, `roost train --prefetch-next-pass`). The question: how much
// of the consumer's rate does the real pipeline deliver when the passes are short, as in
// train_bench's real pipeline (512 images: four steps of 128 per epoch) or a small fine-tune.
//
//   pipeline_bench [--images 256] [--val-images 128] [--batch 32] [--workers W] [--epochs 4]
//                  [--rounds 3] [--rate IMG_S | --load 0.6] [--cpu-transform] [--size 224]
//
// The JPEGs are ~500×375 photo-like images (as train_bench writes them). Workers decode
// only (the GPU path: the kernel does the rest) unless --cpu-transform. Without --rate the
// consumer runs at --load times the workers' measured decode rate, so decoding could keep up
// on average and every shortfall is a wait at a pass boundary or a burst. Each round runs
// both modes (off first, then on) over the same epochs; the medians are reported, and the
// ratio on/off of the rates delivered.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.h"
#include "bench_images.h"
#include "roost/core/host_memory.h"
#include "roost/data/dataset.h"
#include "roost/data/loader.h"
#include "roost/data/next_loader.h"
#include "roost/data/sampler.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace data = roost::data;

struct Args {
  std::string data_dir;
  int images = 256, val_images = 128, batch = 32, epochs = 4, rounds = 3, size = 224;
  int workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  double rate = 0, load = 0.6;
  bool cpu_transform = false;
};

// A non-negative number option; UsageError naming it otherwise.
double get_rate(const cxxopts::ParseResult& r, const std::string& name) {
  const double v = roost::bench::get_double(r, name);
  ROOST_USAGE_CHECK(v >= 0, "--", name, " must not be negative, got ", v);
  return v;
}

// Args from argv; empty after --help.
std::optional<Args> parse(int argc, char** argv) {
  Args a;
  cxxopts::Options spec("pipeline_bench",
                        "decode workers feeding a fixed-rate consumer over short passes, "
                        "with and without starting the next pass early");
  // clang-format off
  spec.add_options()
      ("data-dir", "ImageFolder tree to read (default: generated photo-like JPEGs)", cxxopts::value<std::string>())
      ("images", "training images per pass", cxxopts::value<std::string>()->default_value("256"))
      ("val-images", "validation images per pass", cxxopts::value<std::string>()->default_value("128"))
      ("batch", "images per consumer step", cxxopts::value<std::string>()->default_value("32"))
      ("workers", "decode workers", cxxopts::value<std::string>()->default_value(std::to_string(a.workers)))
      ("epochs", "epochs per run", cxxopts::value<std::string>()->default_value("4"))
      ("rounds", "runs of each mode (medians reported)", cxxopts::value<std::string>()->default_value("3"))
      ("rate", "consumer images/s (0: --load times the workers' decode rate)",
       cxxopts::value<std::string>()->default_value("0"))
      ("load", "consumer rate as a fraction of the workers' decode rate", cxxopts::value<std::string>()->default_value("0.6"))
      ("size", "crop side in pixels", cxxopts::value<std::string>()->default_value("224"))
      ("cpu-transform", "workers also run the CPU train transform (not just decode)");
  // clang-format on
  const auto r = roost::bench::parse_args(spec, argc, argv);
  if (!r) return std::nullopt;
  if (r->count("data-dir")) a.data_dir = (*r)["data-dir"].as<std::string>();
  a.images = roost::bench::get_int_at_least(*r, "images", 1);
  a.val_images = roost::bench::get_int_at_least(*r, "val-images", 0);
  a.batch = roost::bench::get_int_at_least(*r, "batch", 1);
  a.workers = roost::bench::get_int_at_least(*r, "workers", 1);
  a.epochs = roost::bench::get_int_at_least(*r, "epochs", 1);
  a.rounds = roost::bench::get_int_at_least(*r, "rounds", 1);
  a.rate = get_rate(*r, "rate");
  a.load = get_rate(*r, "load");
  ROOST_USAGE_CHECK(a.load > 0, "--load must be positive, got ", a.load);
  a.size = roost::bench::get_int_at_least(*r, "size", 1);
  a.cpu_transform = r->count("cpu-transform") > 0;
  return a;
}

struct Passes {
  std::shared_ptr<const data::Dataset> dataset;
  std::vector<int64_t> train, val;
  const Args* args;

  data::NextLoader::Make make(int epoch, bool validation) const {
    return [this, epoch, validation] {
      data::LoaderOptions o;
      o.batch_size = args->batch;
      o.workers = args->workers;
      o.image_size = args->size;
      o.resize_short = args->size * 8 / 7;
      o.epoch = static_cast<uint64_t>(epoch);
      o.augment = validation ? data::Augment::kVal : data::Augment::kTrain;
      o.decode_only = !args->cpu_transform;
      std::vector<int64_t> indices = validation ? val : data::train_shard(train.size(), 0, 1, 0, epoch);
      if (!validation)
        for (auto& i : indices) i = train[static_cast<size_t>(i)];
      return std::make_unique<data::Loader>(dataset, std::move(indices), o);
    };
  }
};

struct Result {
  double images_per_s = 0, waited_s = 0;
  double first_wait_s = 0;  // for the run's first batch, which nothing can prefetch
};

// Every pass of `epochs` epochs; the consumer spends batch.size / rate seconds per batch.
Result run(const Passes& passes, int epochs, double rate, bool prefetch) {
  data::NextLoader ahead(prefetch);
  const auto start = Clock::now();
  Result r;
  int64_t consumed = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (bool validation : {false, true}) {
      if (validation && passes.val.empty()) continue;
      std::unique_ptr<data::Loader> loader = ahead.take(2 * epoch + validation, passes.make(epoch, validation));
      const bool last_pass = epoch + 1 == epochs && (validation || passes.val.empty());
      const bool next_is_training = validation || passes.val.empty();
      const int64_t next_key = next_is_training ? 2 * (epoch + 1) : 2 * epoch + 1;
      const data::NextLoader::Make next = last_pass          ? nullptr
                                          : next_is_training ? passes.make(epoch + 1, false)
                                                             : passes.make(epoch, true);
      data::Batch batch;
      while (loader->next(batch)) {
        ahead.start_after(*loader, next_key, next);
        if (consumed == 0) r.first_wait_s = batch.wait_seconds;
        r.waited_s += batch.wait_seconds;
        consumed += batch.size;
        std::this_thread::sleep_for(std::chrono::duration<double>(batch.size / rate));
      }
    }
  }
  r.images_per_s = consumed / std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

// Decode rate of the workers with nothing else to do: one training pass, no consumer work.
double decode_rate(const Passes& passes) {
  const auto start = Clock::now();
  std::unique_ptr<data::Loader> loader = passes.make(1000, false)();
  data::Batch batch;
  int64_t n = 0;
  while (loader->next(batch)) n += batch.size;
  return n / std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) try {
  roost::keep_freed_host_memory();  // as roost itself does
  const std::optional<Args> parsed = parse(argc, argv);
  if (!parsed) return 0;
  const Args& a = *parsed;
  std::string root = a.data_dir;
  if (root.empty()) {
    root =
        (std::filesystem::temp_directory_path() / ("roost-pipeline-bench-" + std::to_string(a.images + a.val_images)))
            .string();
    if (!std::filesystem::exists(root)) roost::bench::write_photo_like_jpegs(root, a.images + a.val_images);
  }
  Passes passes;
  passes.dataset = data::open_image_folder(root);
  passes.args = &a;
  const int64_t n = passes.dataset->size();
  if (n < a.images + a.val_images) throw std::runtime_error(root + " holds fewer images than asked for");
  for (int64_t i = 0; i < n; ++i) (i < a.images ? passes.train : passes.val).push_back(i);
  passes.val.resize(std::min<size_t>(passes.val.size(), static_cast<size_t>(a.val_images)));
  passes.train.resize(static_cast<size_t>(a.images));

  decode_rate(passes);  // warm the page cache
  const double capacity = decode_rate(passes);
  const double rate = a.rate > 0 ? a.rate : a.load * capacity;
  std::printf("pipeline_bench: %d train + %zu val images, batch %d, %d worker(s), %s, %d epochs per run\n", a.images,
              passes.val.size(), a.batch, a.workers, a.cpu_transform ? "decode + CPU transform" : "decode only",
              a.epochs);
  std::printf("workers alone: %.1f img/s; consumer ceiling: %.1f img/s (%.2f of that)\n", capacity, rate,
              rate / capacity);
  std::vector<double> off, on, off_wait, on_wait, first_wait;
  for (int round = 0; round < a.rounds; ++round) {
    const Result r_off = run(passes, a.epochs, rate, false);
    const Result r_on = run(passes, a.epochs, rate, true);
    off.push_back(r_off.images_per_s);
    on.push_back(r_on.images_per_s);
    off_wait.push_back(r_off.waited_s);
    on_wait.push_back(r_on.waited_s);
    first_wait.push_back(r_on.first_wait_s);
    std::printf("round %d: prefetch off %.1f img/s (waited %.3f s), on %.1f img/s (waited %.3f s)\n", round + 1,
                r_off.images_per_s, r_off.waited_s, r_on.images_per_s, r_on.waited_s);
  }
  const double m_off = median(off), m_on = median(on);
  std::printf("median: prefetch off %.1f img/s = %.1f%% of the ceiling (waited %.3f s per run)\n", m_off,
              100 * m_off / rate, median(off_wait));
  std::printf("median: prefetch on  %.1f img/s = %.1f%% of the ceiling (waited %.3f s per run)\n", m_on,
              100 * m_on / rate, median(on_wait));
  std::printf("of the waits with prefetching, for the run's first batch: %.3f s (median)\n", median(first_wait));
  std::printf("ratio on/off: %.3f\n", m_on / m_off);
  return 0;
} catch (const std::exception& e) {
  return roost::bench::report_error("pipeline_bench", e);
}
