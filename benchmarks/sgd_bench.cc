// sgd_bench.cc — how long does one SGD step over a ResNet's parameters take on the GPU, with
// roost's fused multi-tensor kernel (roost::train::Sgd: one launch), with libtorch's
// multi-tensor _foreach kernels (the calls roost's GPU step made before the fused kernel),
// and with torch::optim::SGD (a few kernels per parameter)? Momentum 0.9, weight decay 5e-4,
// Nesterov; parameters float32, or bfloat16 with float32 momentum (--dtype bf16; the
// _foreach and torch variants then keep bfloat16 buffers, as torch does). Median
// milliseconds per step over --steps steps (each timed to the device's completion), the
// bytes each element moves per step (parameter, gradient, buffer read, parameter and buffer
// written) as GB/s, and each variant against _foreach, in one invocation.
//
//   sgd_bench [--arch resnet50] [--dtype f32|bf16] [--steps 100] [--warmup 10]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench_args.h"
#include "roost/kernels/fused_sgd.h"
#include "roost/model/resnet.h"
#include "roost/train/sgd.h"

#ifdef ROOST_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace {

constexpr double kLr = 0.01, kMomentum = 0.9, kDecay = 5e-4;

void device_sync() {
#ifdef ROOST_WITH_CUDA
  cudaDeviceSynchronize();
#endif
}

double median_ms(const std::function<void()>& step, int steps, int warmup) {
  for (int i = 0; i < warmup; ++i) step();
  std::vector<double> ms;
  for (int i = 0; i < steps; ++i) {
    device_sync();
    const auto t0 = std::chrono::steady_clock::now();
    step();
    device_sync();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Each variant steps its own copy of the parameters, with gradients set once.
std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) {
    out.push_back(p.detach().clone().requires_grad_(true));
    out.back().mutable_grad() = torch::randn_like(p);
  }
  return out;
}

// roost's GPU step before the fused kernel (Sgd::step_with_libtorch with buffers started).
std::function<void()> foreach_step(std::vector<torch::Tensor> params) {
  std::vector<torch::Tensor> grads, bufs;
  for (auto& p : params) {
    grads.push_back(p.grad());
    bufs.push_back(torch::zeros_like(p));
  }
  return [=]() mutable {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> d_p = at::_foreach_add(grads, params, kDecay);
    at::_foreach_mul_(bufs, kMomentum);
    at::_foreach_add_(bufs, d_p, 1.0);
    d_p = at::_foreach_add(d_p, bufs, kMomentum);
    at::_foreach_add_(params, d_p, -kLr);
  };
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options o("sgd_bench",
                     "one SGD step on the GPU: roost's fused kernel vs libtorch's _foreach vs torch::optim");
  // clang-format off
  o.add_options()
      ("arch", "ResNet depth", cxxopts::value<std::string>()->default_value("resnet50"))
      ("dtype", "parameter type: f32 or bf16", cxxopts::value<std::string>()->default_value("f32"))
      ("steps", "timed steps", cxxopts::value<std::string>()->default_value("100"))
      ("warmup", "untimed steps first", cxxopts::value<std::string>()->default_value("10"));
  // clang-format on
  try {
    const auto r = roost::bench::parse_args(o, argc, argv);
    if (!r) return 0;
    const std::string dtype = (*r)["dtype"].as<std::string>();
    ROOST_USAGE_CHECK(dtype == "f32" || dtype == "bf16", "--dtype must be f32 or bf16, got ", dtype);
    const int steps = roost::bench::get_int_at_least(*r, "steps", 1);
    const int warmup = roost::bench::get_int_at_least(*r, "warmup", 0);
    ROOST_CHECK(torch::cuda::is_available() && roost::kernels::fused_sgd_available(),
                "needs a CUDA device and roost built with CUDA against a CUDA libtorch");
    roost::model::ResNetOptions mo;
    mo.arch = (*r)["arch"].as<std::string>();
    auto net = roost::model::make_resnet(mo);
    net->to(torch::Device(torch::kCUDA, 0), dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32);
    const std::vector<torch::Tensor> params = net->parameters();
    int64_t elements = 0;
    for (const auto& p : params) elements += p.numel();

    auto fused_params = copies(params);
    roost::train::Sgd fused(fused_params, {kLr, kMomentum, 0.0, kDecay, true});
    fused.preallocate_momentum();
    const std::string why = fused.device_step_obstacle();
    ROOST_CHECK(why.empty(), "the fused step cannot run: ", why);
    auto torch_params = copies(params);
    torch::optim::SGD reference(torch_params,
                                torch::optim::SGDOptions(kLr).momentum(kMomentum).weight_decay(kDecay).nesterov(true));
    const std::vector<std::pair<std::string, std::function<void()>>> variants = {
        {"roost fused (1 launch)", [&] { fused.step(); }},
        {"libtorch _foreach", foreach_step(copies(params))},
        {"torch::optim::SGD", [&] { reference.step(); }}};
    const size_t value_bytes = dtype == "bf16" ? 2 : 4;
    std::printf("%s, %zu tensors, %lld elements, %s parameters\n", mo.arch.c_str(), params.size(),
                static_cast<long long>(elements), dtype.c_str());
    std::printf("%-24s %10s %10s %12s\n", "variant", "ms/step", "GB/s", "vs _foreach");
    std::vector<double> ms;
    for (const auto& [name, step] : variants) ms.push_back(median_ms(step, steps, warmup));
    for (size_t i = 0; i < variants.size(); ++i) {
      // fused: p, g read and p written at the parameter's width, the buffer read and written in float32
      const double bytes = static_cast<double>(elements) * (3 * value_bytes + 2 * 4);
      std::printf("%-24s %10.3f %10.1f %11.2fx\n", variants[i].first.c_str(), ms[i], bytes / ms[i] / 1e6,
                  ms[1] / ms[i]);
    }
  } catch (const std::exception& e) {
    return roost::bench::report_error("sgd_bench", e);
  }
  return 0;
}
