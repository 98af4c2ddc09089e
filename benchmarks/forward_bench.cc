// forward_bench.cc — how fast is an inference forward pass of a ResNet on this CPU, as the
// module runs it (eval mode, no grad: roost predict and roost serve before FoldedResNet) and
// as model::FoldedResNet runs it (BatchNorm folded into the convolutions; dense tensors; ATen's
// mkldnn ops with oneDNN's blocked layout kept between layers; oneDNN called directly, with
// Winograd and fused ReLU/shortcut)? Same weights, same input, one invocation;
// milliseconds per image (median of --runs passes after --warmup) at each batch size and
// intra-op thread count, the process's CPU time per image over the same passes (on a machine
// shared with other work the wall time stretches; the CPU time much less), and each variant's
// largest logit difference from the module's.
//
//   forward_bench [--arch resnet18] [--size 224] [--classes 2] [--batches 1,8,16] [--threads 1,2]
//                 [--runs 10] [--warmup 2]
#include <torch/torch.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench_args.h"
#include "roost/model/folded_resnet.h"
#include "roost/model/resnet.h"

namespace {
using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

struct Timing {
  double wall_ms = 0, cpu_ms = 0;  // per image: median wall time, mean process CPU time
};

double cpu_ms_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

Timing time_per_image(const Forward& f, const torch::Tensor& x, int runs, int warmup) {
  for (int i = 0; i < warmup; ++i) f(x);
  std::vector<double> ms;
  const double cpu0 = cpu_ms_now();
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f(x);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  const double n = static_cast<double>(x.size(0));
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2] / n, (cpu_ms_now() - cpu0) / runs / n};
}
}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options o("forward_bench", "ResNet inference: the module vs FoldedResNet (dense, oneDNN)");
  // clang-format off
  o.add_options()
      ("arch", "ResNet depth", cxxopts::value<std::string>()->default_value("resnet18"))
      ("size", "image size", cxxopts::value<std::string>()->default_value("224"))
      ("classes", "classifier outputs", cxxopts::value<std::string>()->default_value("2"))
      ("batches", "batch sizes", cxxopts::value<std::string>()->default_value("1,8,16"))
      ("threads", "intra-op thread counts", cxxopts::value<std::string>()->default_value("1,2"))
      ("runs", "timed passes", cxxopts::value<std::string>()->default_value("10"))
      ("warmup", "untimed passes first", cxxopts::value<std::string>()->default_value("2"));
  // clang-format on
  try {
    const auto r = roost::bench::parse_args(o, argc, argv);
    if (!r) return 0;
    const int size = roost::bench::get_int_at_least(*r, "size", 32);
    const int runs = roost::bench::get_int_at_least(*r, "runs", 1);
    const int warmup = roost::bench::get_int_at_least(*r, "warmup", 0);
    const std::vector<int> batches = roost::cli::get_int_list(*r, "batches");
    const std::vector<int> threads = roost::cli::get_int_list(*r, "threads");
    for (int b : batches) ROOST_USAGE_CHECK(b >= 1, "--batches: a batch size must be at least 1, got ", b);
    for (int t : threads) ROOST_USAGE_CHECK(t >= 1, "--threads: a thread count must be at least 1, got ", t);
    torch::manual_seed(0);
    roost::model::ResNetOptions mo;
    mo.arch = (*r)["arch"].as<std::string>();
    mo.num_classes = roost::bench::get_int_at_least(*r, "classes", 1);
    roost::model::ResNet net = roost::model::make_resnet(mo);
    {  // trained-looking BatchNorm statistics, so that folding has something to fold
      torch::NoGradGuard no_grad;
      for (auto& m : net->modules(false))
        if (auto* bn = m->as<roost::model::SyncableBatchNormImpl>()) {
          bn->running_mean.normal_(0, 0.1), bn->running_var.uniform_(0.5, 1.5);
          bn->weight.uniform_(0.5, 1.5), bn->bias.normal_(0, 0.1);
        }
    }
    net->eval();
    using Backend = roost::model::FoldedResNet::Backend;
    const roost::model::FoldedResNet dense(*net, Backend::Dense);
    std::vector<std::pair<std::string, Forward>> variants = {
        {"module",
         [&](const torch::Tensor& x) {
           torch::NoGradGuard no_grad;
           return net->forward(x);
         }},
        {"folded-dense", [&](const torch::Tensor& x) { return dense.forward(x); }}};
    std::unique_ptr<roost::model::FoldedResNet> aten_mkldnn, onednn;
    if (torch::hasMKLDNN()) {
      aten_mkldnn = std::make_unique<roost::model::FoldedResNet>(*net, Backend::Mkldnn);
      variants.emplace_back("folded-mkldnn", [&](const torch::Tensor& x) { return aten_mkldnn->forward(x); });
    }
    if (roost::model::FoldedResNet::has_onednn()) {
      onednn = std::make_unique<roost::model::FoldedResNet>(*net, Backend::Onednn);
      variants.emplace_back("folded-onednn", [&](const torch::Tensor& x) { return onednn->forward(x); });
    }
    std::printf("%s at %d px, %lld classes; ms per image, median of %d passes\n", mo.arch.c_str(), size,
                static_cast<long long>(mo.num_classes), runs);
    std::printf("%-8s %-6s %-14s %10s %14s %14s\n", "threads", "batch", "variant", "ms/image", "vs module",
                "max |diff|");
    for (int t : threads) {
      torch::set_num_threads(t);
      for (int b : batches) {
        const torch::Tensor x = torch::randn({b, 3, size, size});
        const torch::Tensor reference = variants[0].second(x);
        const Timing base = time_per_image(variants[0].second, x, runs, warmup);
        for (const auto& [name, f] : variants) {
          const Timing tm = name == "module" ? base : time_per_image(f, x, runs, warmup);
          const double diff = (f(x) - reference).abs().max().item<double>();
          std::printf("%-8d %-6d %-14s %10.2f %10.2f %11.2fx %12.2e\n", t, b, name.c_str(), tm.wall_ms, tm.cpu_ms,
                      base.wall_ms / tm.wall_ms, diff);
        }
      }
    }
  } catch (const std::exception& e) {
    return roost::bench::report_error("forward_bench", e);
  }
  return 0;
}
