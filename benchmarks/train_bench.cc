// train_bench.cc — single-process training throughput: a resident synthetic batch (the
// compute ceiling) against the real pipeline (JPEG decode workers + CPU or GPU
// preprocessing feeding the same steps), so the cost of the data path shows.
//
//   train_bench --arch resnet50 --batch-size 128 --amp bf16 --channels-last [--json]
//
// Without --data-dir it writes --images random smooth JPEGs of about 500×375 first. With 512
// images and a batch of 128 an epoch is four steps: as in roost train, the next epoch's
// loader starts once the current one has decoded its last sample (data::NextLoader);
// --no-prefetch starts it only when the epoch's batches are used up, as before. On the GPU
// the loader's workers also pack each batch for the kernel, as in roost train;
// --pack-on-main packs on the training thread instead, as before. --jpeg-dct-scale on decodes
// the JPEGs at a reduced scale where the crop allows (roost train --jpeg-dct-scale).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <random>

#include "bench_args.h"
#include "roost/core/host_memory.h"
#include "roost/data/dataset.h"
#include "roost/data/decode.h"
#include "roost/data/loader.h"
#include "roost/data/next_loader.h"
#include "roost/data/sampler.h"
#include "roost/gpu/step_graph.h"
#include "roost/kernels/preprocess.h"
#include "roost/model/resnet.h"
#include "roost/train/amp.h"
#include "roost/train/batch_source.h"
#include "roost/train/sgd.h"

namespace {
using Clock = std::chrono::steady_clock;

struct Args {
  std::string arch = "resnet18", data_dir, amp = "off", mode = "both", preprocess = "auto", graphs = "off", dct = "off";
  int batch = 32, image = 224, steps = 30, warmup = 10, workers = 4, images = 512, threads = 0;
  bool channels_last = false, json = false, no_cudnn_benchmark = false, prefetch = true, pack_on_main = false;
};

// A string option that must be one of `choices`; UsageError naming the option otherwise.
std::string get_choice(const cxxopts::ParseResult& r, const std::string& name,
                       std::initializer_list<const char*> choices) {
  const std::string v = r[name].as<std::string>();
  std::string all;
  for (const char* c : choices) {
    if (v == c) return v;
    all += (all.empty() ? "" : ", ") + std::string(c);
  }
  ROOST_USAGE_ERROR("--", name, " must be one of ", all, " (got '", v, "')");
}

// Args from argv; empty after --help.
std::optional<Args> parse(int argc, char** argv) {
  Args a;
  cxxopts::Options spec("train_bench", "single-process training img/s: resident synthetic batch vs the real pipeline");
  // clang-format off
  spec.add_options()
      ("arch", "ResNet depth", cxxopts::value<std::string>()->default_value(a.arch))
      ("data-dir", "ImageFolder tree to read (default: generated JPEGs)", cxxopts::value<std::string>())
      ("amp", "mixed precision: off, fp16 or bf16", cxxopts::value<std::string>()->default_value(a.amp))
      ("mode", "both, synthetic or real", cxxopts::value<std::string>()->default_value(a.mode))
      ("preprocess", "auto (the GPU kernel where there is one), gpu (the same) or cpu",
       cxxopts::value<std::string>()->default_value(a.preprocess))
      ("batch-size", "images per step", cxxopts::value<std::string>()->default_value(std::to_string(a.batch)))
      ("image-size", "side of the input images in pixels", cxxopts::value<std::string>()->default_value(std::to_string(a.image)))
      ("steps", "timed steps", cxxopts::value<std::string>()->default_value(std::to_string(a.steps)))
      ("warmup", "untimed steps first", cxxopts::value<std::string>()->default_value(std::to_string(a.warmup)))
      ("workers", "decode workers", cxxopts::value<std::string>()->default_value(std::to_string(a.workers)))
      ("images", "JPEGs to generate without --data-dir", cxxopts::value<std::string>()->default_value(std::to_string(a.images)))
      ("threads", "libtorch intra-op threads (0: libtorch's default)",
       cxxopts::value<std::string>()->default_value(std::to_string(a.threads)))
      ("cuda-graphs", "off, on (the step captured as a CUDA graph and replayed) or both (synthetic: eager, "
       "then graphs, in this process)", cxxopts::value<std::string>()->default_value(a.graphs))
      ("channels-last", "NHWC memory format")
      ("json", "also print JSON")
      ("no-cudnn-benchmark", "leave cuDNN's autotuner off")
      ("no-prefetch", "start the next epoch's loader only when this epoch's batches are used up")
      ("pack-on-main", "pack each batch for the kernel on the training thread, not in the loader's workers")
      ("jpeg-dct-scale", "off|on: decode JPEGs at 1/2..1/8 scale where the crop allows (roost train --jpeg-dct-scale)",
       cxxopts::value<std::string>()->default_value(a.dct));
  // clang-format on
  const auto r = roost::bench::parse_args(spec, argc, argv);
  if (!r) return std::nullopt;
  a.arch = (*r)["arch"].as<std::string>();
  if (r->count("data-dir")) a.data_dir = (*r)["data-dir"].as<std::string>();
  a.amp = get_choice(*r, "amp", {"off", "fp16", "bf16"});
  a.mode = get_choice(*r, "mode", {"both", "synthetic", "real"});
  a.preprocess = get_choice(*r, "preprocess", {"auto", "gpu", "cpu"});
  a.graphs = get_choice(*r, "cuda-graphs", {"off", "on", "both"});
  a.batch = roost::bench::get_int_at_least(*r, "batch-size", 1);
  a.image = roost::bench::get_int_at_least(*r, "image-size", 1);
  a.steps = roost::bench::get_int_at_least(*r, "steps", 1);
  a.warmup = roost::bench::get_int_at_least(*r, "warmup", 0);
  a.workers = roost::bench::get_int_at_least(*r, "workers", 0);
  a.images = roost::bench::get_int_at_least(*r, "images", 1);
  a.threads = roost::bench::get_int_at_least(*r, "threads", 0);
  a.channels_last = r->count("channels-last") > 0;
  a.json = r->count("json") > 0;
  a.no_cudnn_benchmark = r->count("no-cudnn-benchmark") > 0;
  a.prefetch = r->count("no-prefetch") == 0;
  a.pack_on_main = r->count("pack-on-main") > 0;
  a.dct = get_choice(*r, "jpeg-dct-scale", {"off", "on"});
  return a;
}

// Smooth colour gradients plus noise: compresses like a photo, decodes like one.
void write_jpegs(const std::string& root, int count) {
  std::mt19937 rng(7);
  for (int i = 0; i < count; ++i) {
    std::string dir = root + "/class" + std::to_string(i % 2);
    std::filesystem::create_directories(dir);
    roost::data::Image img;
    img.width = 480 + static_cast<int>(rng() % 41);
    img.height = 360 + static_cast<int>(rng() % 31);
    img.pixels.resize(static_cast<size_t>(img.width) * img.height * 3);
    int a = rng() % 255, b = rng() % 255;
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x)
        for (int c = 0; c < 3; ++c)
          img.row(y)[x * 3 + c] = static_cast<uint8_t>(
              (a * x / img.width + b * y / img.height + c * 40 + static_cast<int>(rng() % 16)) & 255);
    auto bytes = roost::data::encode_jpeg(img, 90);
    std::FILE* f = std::fopen((dir + "/" + std::to_string(i) + ".jpg").c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
}

struct Stepper {
  roost::model::ResNet net;
  roost::train::Sgd opt;
  bool amp;
  torch::ScalarType amp_dtype;
  void step(const torch::Tensor& x, const torch::Tensor& y) {
    opt.zero_grad();
    torch::Tensor logits;
    {
      roost::train::AutocastScope autocast(amp, amp_dtype);
      logits = net->forward(x);
    }
    torch::cross_entropy_loss(logits.to(torch::kFloat32), y).backward();
    opt.step();
  }
};

// The same step captured as a CUDA graph: static inputs, gradients preallocated and zeroed
// inside the step (a replay writes where the capture wrote), the optimizer's constant rate.
struct GraphedStepper {
  explicit GraphedStepper(Stepper& stepper) : s(stepper) {}
  ~GraphedStepper() { graph.wait(); }  // no replay may run when the optimizer goes
  Stepper& s;
  roost::gpu::StepGraph graph;
  int warmup_left = 3;
  torch::Tensor x, y, lr;
  std::vector<torch::Tensor> grads;

  void body() {
    for (auto& g : grads) g.zero_();
    torch::Tensor logits;
    {
      roost::train::AutocastScope autocast(s.amp, s.amp_dtype);
      logits = s.net->forward(x);
    }
    torch::cross_entropy_loss(logits.to(torch::kFloat32), y).backward();
    s.opt.step_on_device(lr.data_ptr<float>());  // its tables stay while the graph may replay them
  }
  void step(const torch::Tensor& xin, const torch::Tensor& yin) {
    if (!x.defined()) {
      x = torch::empty_like(xin);
      y = torch::empty_like(yin);
      for (auto& p : s.net->parameters()) {
        grads.push_back(torch::zeros_like(p));
        p.mutable_grad() = grads.back();
      }
      s.opt.preallocate_momentum();
      lr = torch::full({}, s.opt.lr(), torch::TensorOptions().dtype(torch::kFloat32).device(xin.device()));
    }
    x.copy_(xin);
    y.copy_(yin);
    if (warmup_left > 0) {
      --warmup_left;
      graph.warmup([this] { body(); });
      return;
    }
    if (!graph.captured()) graph.capture([this] { body(); });
    graph.replay();
  }
};

void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}
using StepFn = std::function<void(const torch::Tensor&, const torch::Tensor&)>;

// Images/s of `step` on one resident random batch, after the warm-up steps.
double time_synthetic(const Args& a, const torch::Device& device, const StepFn& step) {
  auto fmt = a.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  torch::Tensor x = torch::randn({a.batch, 3, a.image, a.image}, torch::TensorOptions().device(device)).contiguous(fmt);
  torch::Tensor y = torch::randint(0, 1000, {a.batch}, torch::TensorOptions().device(device).dtype(torch::kInt64));
  for (int i = 0; i < a.warmup; ++i) step(x, y);
  sync(device);
  auto t0 = Clock::now();
  for (int i = 0; i < a.steps; ++i) step(x, y);
  sync(device);
  return a.batch * a.steps / std::chrono::duration<double>(Clock::now() - t0).count();
}

// Images/s of `step` fed by the real pipeline: JPEGs decoded by the loader's workers, then
// the GPU kernel (gpu_pre) or the CPU transforms; full batches only.
double time_real(const Args& a, const torch::Device& device, bool gpu_pre, torch::ScalarType amp_dtype,
                 const StepFn& step) {
  std::string root = a.data_dir;
  if (root.empty()) {
    root = (std::filesystem::temp_directory_path() / "roost-train-bench").string();
    if (!std::filesystem::exists(root)) write_jpegs(root, a.images);
  }
  auto ds = roost::data::open_image_folder(root);
  roost::train::BatchSource source(device, gpu_pre, a.channels_last, gpu_pre ? amp_dtype : torch::kFloat32, a.image);
  int done = 0, counted = 0;
  Clock::time_point t0;
  roost::data::NextLoader ahead(a.prefetch);
  auto epoch_loader = [&](uint64_t epoch) -> roost::data::NextLoader::Make {
    return [&, epoch] {
      roost::data::LoaderOptions lo;
      lo.batch_size = a.batch;
      lo.workers = a.workers;
      lo.queue_depth = 6;
      lo.image_size = a.image;
      lo.epoch = epoch;
      lo.decode_only = gpu_pre;
      lo.decode.jpeg_dct_scale = a.dct == "on";
      if (!a.pack_on_main) lo.prepare = source.pack_on_workers();
      return std::make_unique<roost::data::Loader>(ds, roost::data::train_shard(ds->size(), 0, 1, 0, epoch), lo);
    };
  };
  for (uint64_t epoch = 0; done < a.warmup + a.steps; ++epoch) {
    const std::unique_ptr<roost::data::Loader> loader = ahead.take(static_cast<int64_t>(epoch), epoch_loader(epoch));
    roost::data::Batch batch;
    while (done < a.warmup + a.steps && loader->next(batch)) {
      ahead.start_after(*loader, static_cast<int64_t>(epoch + 1), epoch_loader(epoch + 1));
      if (batch.size != a.batch) continue;  // keep every timed step the same size
      if (done == a.warmup) {
        sync(device);
        t0 = Clock::now();
      }
      auto [x, y] = source.to_device(batch);
      step(x, y);
      if (done >= a.warmup) counted += batch.size;
      ++done;
    }
  }
  sync(device);
  return counted / std::chrono::duration<double>(Clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) try {
  roost::keep_freed_host_memory();  // as roost itself does
  const std::optional<Args> parsed = parse(argc, argv);
  if (!parsed) return 0;
  Args a = *parsed;
  const bool gpu = torch::cuda::is_available();
  torch::Device device = gpu ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (a.threads > 0) torch::set_num_threads(a.threads);
  roost::model::ResNetOptions mo;
  mo.arch = a.arch;
  mo.num_classes = 1000;
  roost::model::ResNet net = roost::model::make_resnet(mo);
  net->to(device);
  if (a.channels_last)
    for (auto& p : net->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  const bool amp = a.amp != "off";
  const auto amp_dtype = a.amp == "fp16" ? torch::kFloat16 : torch::kBFloat16;
  roost::train::SgdOptions so;
  so.lr = 0.01;
  so.momentum = 0.9;
  Stepper s{net, roost::train::Sgd(net->parameters(), so), amp, amp_dtype};
  if (gpu && !a.no_cudnn_benchmark) at::globalContext().setBenchmarkCuDNN(true);
  net->train();

  ROOST_USAGE_CHECK(a.graphs == "off" || (gpu && roost::gpu::StepGraph::cuda_available()), "--cuda-graphs ", a.graphs,
                    " needs a GPU and roost built against a CUDA libtorch");
  ROOST_USAGE_CHECK(a.graphs != "both" || a.mode == "synthetic", "--cuda-graphs both needs --mode synthetic");
  std::unique_ptr<GraphedStepper> graphed;
  if (a.graphs != "off") graphed = std::make_unique<GraphedStepper>(s);
  double synthetic = 0, synthetic_graphs = 0, real = 0;
  if (a.mode != "real") {
    synthetic = a.graphs == "on" ? 0 : time_synthetic(a, device, [&](auto& x, auto& y) { s.step(x, y); });
    if (a.graphs != "off") synthetic_graphs = time_synthetic(a, device, [&](auto& x, auto& y) { graphed->step(x, y); });
    if (a.graphs == "on") synthetic = synthetic_graphs;
  }
  const bool gpu_pre =
      a.mode != "synthetic" && gpu && a.preprocess != "cpu" && roost::kernels::GpuPreprocessor::available();
  if (a.mode != "synthetic") {
    real = time_real(a, device, gpu_pre, amp ? amp_dtype : torch::kFloat32, [&](auto& x, auto& y) {
      if (graphed) {
        graphed->step(x, y);
      } else {
        s.step(x, y);
      }
    });
  }
  const char* dev = gpu ? "cuda" : "cpu";
  if (a.json) {
    std::printf(
        "{\"arch\": \"%s\", \"batch\": %d, \"image\": %d, \"amp\": \"%s\", \"channels_last\": %s, "
        "\"device\": \"%s\", \"preprocess\": \"%s\", \"prefetch\": %s, \"pack_on_main\": %s, \"cuda_graphs\": "
        "\"%s\", \"jpeg_dct_scale\": \"%s\", \"synthetic_img_s\": %.2f, \"synthetic_graphs_img_s\": %.2f, "
        "\"real_img_s\": %.2f}\n",
        a.arch.c_str(), a.batch, a.image, a.amp.c_str(), a.channels_last ? "true" : "false", dev,
        gpu_pre ? "gpu" : "cpu", a.prefetch ? "true" : "false", a.pack_on_main ? "true" : "false", a.graphs.c_str(),
        a.dct.c_str(), synthetic, synthetic_graphs, real);
  } else {
    std::printf("%-10s %5s %5s %5s %4s %-4s | synthetic %9.1f img/s | real (%s preprocess%s%s) %9.1f img/s | %5.1f%%\n",
                a.arch.c_str(), dev, std::to_string(a.batch).c_str(), std::to_string(a.image).c_str(), a.amp.c_str(),
                a.channels_last ? "NHWC" : "NCHW", synthetic, gpu_pre ? "gpu" : "cpu",
                a.prefetch ? (a.pack_on_main ? ", packed on the main thread" : "")
                           : (a.pack_on_main ? ", no prefetch, packed on the main thread" : ", no prefetch"),
                a.dct == "on" ? ", jpeg-dct-scale on" : "", real, synthetic > 0 ? 100.0 * real / synthetic : 0.0);
    if (a.graphs == "both")
      std::printf("%-10s CUDA graphs: synthetic %9.1f img/s, %.3fx the eager step\n", a.arch.c_str(), synthetic_graphs,
                  synthetic > 0 ? synthetic_graphs / synthetic : 0.0);
  }
  return 0;
} catch (const std::exception& e) {
  return roost::bench::report_error("train_bench", e);
}
