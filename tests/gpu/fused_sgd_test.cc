// fused_sgd_test.cc — the fused multi-tensor SGD kernel (roost/kernels/fused_sgd.h, through
// roost::train::Sgd and through a plan directly) against torch::optim::SGD on CUDA tensors:
// every option combination for float32 (within float rounding), bfloat16/float16 parameters
// (float math, one rounding), bitwise the host reference (kernels/fused_sgd_math.h), a step
// skipped by found_inf, gradients unscaled by inv_scale, the non-finite check,
// update_loss_scale against the host LossScaler, and a plan replayed in a CUDA graph with a
// learning rate changed in device memory between replays. Tensors of odd sizes, one over
// several of the kernel's chunks, and a channels-last one. Skips without a CUDA device (or
// with a CPU-only libtorch).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "fused_sgd_math.h"
#include "roost/kernels/fused_sgd.h"
#include "roost/train/amp.h"
#include "roost/train/sgd.h"

#ifdef ROOST_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace roost::train {
namespace {

#ifdef ROOST_WITH_CUDA

#define SKIP_WITHOUT_GPU()                                             \
  if (!torch::cuda::is_available() || !kernels::fused_sgd_available()) \
  GTEST_SKIP() << "no CUDA device (or a CPU-only libtorch): the fused SGD kernel cannot run here"

struct Combo {
  double momentum, dampening, weight_decay;
  bool nesterov;
};

const std::vector<Combo> kCombos = {{0, 0, 0, false},      {0, 0, 1e-3, false},      {0.9, 0, 0, false},
                                    {0.9, 0, 1e-3, false}, {0.9, 0.25, 1e-3, false}, {0.9, 0, 5e-4, true}};

std::string name(const Combo& c) {
  return "momentum " + std::to_string(c.momentum) + " dampening " + std::to_string(c.dampening) + " decay " +
         std::to_string(c.weight_decay) + (c.nesterov ? " nesterov" : "");
}

torch::optim::SGDOptions torch_options(const Combo& c, double lr) {
  return torch::optim::SGDOptions(lr)
      .momentum(c.momentum)
      .dampening(c.dampening)
      .weight_decay(c.weight_decay)
      .nesterov(c.nesterov);
}

SgdOptions roost_options(const Combo& c, double lr) {
  return SgdOptions{lr, c.momentum, c.dampening, c.weight_decay, c.nesterov};
}

// Random CUDA parameters of awkward shapes: lengths that are not multiples of a block, one
// of several chunks (16384 elements each), one channels-last.
std::vector<torch::Tensor> random_params(torch::ScalarType type) {
  const auto on = torch::TensorOptions().device(torch::kCUDA).dtype(type);
  std::vector<torch::Tensor> out;
  for (auto shape : {std::vector<int64_t>{7, 3}, {11}, {40009}, {64, 32, 3, 3}}) out.push_back(torch::randn(shape, on));
  out.push_back(torch::randn({6, 5, 3, 3}, on).contiguous(torch::MemoryFormat::ChannelsLast));
  return out;
}

std::vector<torch::Tensor> twins(const std::vector<torch::Tensor>& params, torch::ScalarType type) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().to(type).clone().requires_grad_(true));  // never aliased
  return out;
}

TEST(FusedSgd, MatchesTorchOptimSgdForFloat32) {
  SKIP_WITHOUT_GPU();
  for (const Combo& c : kCombos) {
    torch::manual_seed(1);
    const auto init = random_params(torch::kFloat32);
    auto ours = twins(init, torch::kFloat32), theirs = twins(init, torch::kFloat32);
    Sgd sgd(ours, roost_options(c, 0.05));
    torch::optim::SGD ref(theirs, torch_options(c, 0.05));
    for (int step = 0; step < 4; ++step) {
      for (size_t i = 0; i < ours.size(); ++i) {
        const torch::Tensor g = torch::randn_like(ours[i]) + 0.1;
        ours[i].mutable_grad() = g.clone();
        theirs[i].mutable_grad() = g.clone();
      }
      ASSERT_EQ(sgd.device_step_obstacle(), "") << "the fused step must apply";
      sgd.step();
      ref.step();
      for (size_t i = 0; i < ours.size(); ++i)
        ASSERT_TRUE(torch::allclose(ours[i], theirs[i], 1e-6, 1e-7))
            << name(c) << " step " << step << " param " << i << " max diff "
            << (ours[i] - theirs[i]).abs().max().item<double>();
    }
  }
}

// The 16-bit patterns of two half tensors differ by at most one unit in the last place.
void expect_within_one_ulp(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  const torch::Tensor da = a.contiguous().view(torch::kInt16).to(torch::kInt32);
  const torch::Tensor db = b.contiguous().view(torch::kInt16).to(torch::kInt32);
  EXPECT_LE((da - db).abs().max().item<int>(), 1) << what;
}

// bfloat16 / float16 parameters with gradients of their type or float32: as torch stepping a
// float32 copy and rounding it back once; momentum buffers float32 (so the fused path ran).
TEST(FusedSgd, HalfParametersAsFloatMathRoundedOnce) {
  SKIP_WITHOUT_GPU();
  for (torch::ScalarType type : {torch::kBFloat16, torch::kFloat16})
    for (bool float_grad : {false, true})
      for (const Combo& c : kCombos) {
        torch::manual_seed(2);
        auto ours = twins(random_params(torch::kFloat32), type);
        auto master = twins(ours, torch::kFloat32);
        Sgd sgd(ours, roost_options(c, 0.1));
        torch::optim::SGD ref(master, torch_options(c, 0.1));
        for (int step = 0; step < 3; ++step) {
          for (size_t i = 0; i < ours.size(); ++i) {
            const torch::Tensor g = torch::randn_like(ours[i], torch::kFloat32).to(float_grad ? torch::kFloat32 : type);
            ours[i].mutable_grad() = g;
            torch::NoGradGuard no_grad;
            master[i].copy_(ours[i]);  // torch steps a float32 copy of the rounded parameter
            master[i].mutable_grad() = g.to(torch::kFloat32);
          }
          sgd.step();
          ref.step();
          for (size_t i = 0; i < ours.size(); ++i) {
            expect_within_one_ulp(ours[i], master[i].detach().to(type), name(c) + " step " + std::to_string(step));
            if (c.momentum != 0) {
              ASSERT_EQ(sgd.momentum_buffers()[i].scalar_type(), torch::kFloat32);
            }
          }
        }
      }
}

// The kernel and the host reference share their per-element math: for every combination
// and parameter type, the kernel's parameters and buffers are the reference's, bit for bit.
TEST(FusedSgd, BitwiseTheHostReference) {
  SKIP_WITHOUT_GPU();
  namespace math = kernels::sgd_math;
  for (torch::ScalarType type : {torch::kFloat32, torch::kBFloat16, torch::kFloat16})
    for (const Combo& c : kCombos) {
      torch::manual_seed(7);
      const torch::Tensor p0 = torch::randn({40009}, torch::kCUDA).to(type);
      torch::Tensor p = p0.clone().requires_grad_(true);
      Sgd sgd({p}, roost_options(c, 0.05));
      torch::Tensor host = p0.to(torch::kFloat32).cpu();  // the reference, in float32
      std::vector<float> buf(host.numel(), 0.0f);
      math::Coefficients k{0.05f, static_cast<float>(c.momentum), static_cast<float>(1.0 - c.dampening),
                           static_cast<float>(c.weight_decay), c.nesterov};
      for (int step = 0; step < 3; ++step) {
        const torch::Tensor g = torch::randn({40009}, torch::kCUDA);
        p.mutable_grad() = g;
        sgd.step();
        const torch::Tensor gh = g.cpu();
        float* hp = host.data_ptr<float>();
        for (int64_t i = 0; i < host.numel(); ++i) {
          const float v = math::update(hp[i], gh.data_ptr<float>()[i], buf[i], step == 0, k);
          hp[i] = type == torch::kFloat32    ? v
                  : type == torch::kBFloat16 ? math::bf16_to_float(math::float_to_bf16(v))
                                             : math::fp16_to_float(math::float_to_fp16(v));
        }
        ASSERT_TRUE(p.detach().to(torch::kFloat32).cpu().equal(host)) << name(c) << " step " << step;
        if (c.momentum != 0) {
          ASSERT_TRUE(sgd.momentum_buffers()[0].cpu().equal(torch::from_blob(buf.data(), {40009}))) << name(c);
        }
      }
    }
}

torch::Tensor device_float(float value) {
  return torch::full({}, value, torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat32));
}

TEST(FusedSgd, InvScaleUnscalesAndFoundInfSkips) {
  SKIP_WITHOUT_GPU();
  const Combo c{0.9, 0, 1e-3, true};
  torch::manual_seed(3);
  const auto init = random_params(torch::kFloat32);
  auto ours = twins(init, torch::kFloat32), theirs = twins(init, torch::kFloat32);
  Sgd sgd(ours, roost_options(c, 0.05));
  sgd.preallocate_momentum();  // zeros: without dampening, the first step's values
  torch::optim::SGD ref(theirs, torch_options(c, 0.05));
  const torch::Tensor lr = device_float(0.05f), inv_scale = device_float(1.0f / 1024), found = device_float(0);
  for (int step = 0; step < 3; ++step) {
    for (size_t i = 0; i < ours.size(); ++i) {
      const torch::Tensor g = torch::randn_like(ours[i]);
      ours[i].mutable_grad() = g * 1024;  // scaled by a power of two: unscaling is exact
      theirs[i].mutable_grad() = g.clone();
    }
    sgd.step_on_device(lr.data_ptr<float>(), inv_scale.data_ptr<float>(), found.data_ptr<float>());
    ref.step();
    for (size_t i = 0; i < ours.size(); ++i) ASSERT_TRUE(torch::allclose(ours[i], theirs[i], 1e-6, 1e-7)) << step;
  }
  std::vector<torch::Tensor> before, buffers_before;
  for (size_t i = 0; i < ours.size(); ++i) {
    before.push_back(ours[i].detach().clone());
    buffers_before.push_back(sgd.momentum_buffers()[i].clone());
  }
  found.fill_(1.0f);
  sgd.step_on_device(lr.data_ptr<float>(), inv_scale.data_ptr<float>(), found.data_ptr<float>());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_TRUE(ours[i].detach().equal(before[i])) << "a skipped step changed parameter " << i;
    EXPECT_TRUE(sgd.momentum_buffers()[i].equal(buffers_before[i])) << "a skipped step changed buffer " << i;
  }
}

TEST(FusedSgd, FindsNonFiniteGradients) {
  SKIP_WITHOUT_GPU();
  for (torch::ScalarType type : {torch::kFloat32, torch::kBFloat16, torch::kFloat16}) {
    torch::manual_seed(4);
    auto params = twins(random_params(torch::kFloat32), type);
    for (auto& p : params) p.mutable_grad() = torch::randn_like(p);
    Sgd sgd(params, SgdOptions{});
    const torch::Tensor found = device_float(5.0f);  // the check zeroes it first
    sgd.find_non_finite_on_device(found.data_ptr<float>());
    EXPECT_EQ(found.item<float>(), 0.0f) << "finite gradients";
    for (float bad : {INFINITY, -INFINITY, NAN}) {
      torch::NoGradGuard no_grad;
      params[2].mutable_grad().view(-1)[39000] = bad;  // in the third chunk of the long tensor
      sgd.find_non_finite_on_device(found.data_ptr<float>());
      EXPECT_EQ(found.item<float>(), 1.0f) << bad;
      params[2].mutable_grad().view(-1)[39000] = 0.5f;
    }
  }
}

TEST(FusedSgd, UpdateLossScaleFollowsLossScaler) {
  SKIP_WITHOUT_GPU();
  const int interval = 3;
  LossScaler host(true, 65536.0, interval);
  const torch::Tensor scale = device_float(65536.0f), inv = device_float(0), found = device_float(0);
  const torch::Tensor tracker = torch::zeros({}, torch::TensorOptions().device(torch::kCUDA).dtype(torch::kInt32));
  const std::vector<int> overflow = {0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
  for (size_t s = 0; s < overflow.size(); ++s) {
    found.fill_(static_cast<float>(overflow[s]));
    kernels::update_loss_scale(scale.data_ptr<float>(), tracker.data_ptr<int32_t>(), inv.data_ptr<float>(),
                               found.data_ptr<float>(), interval, nullptr);
    host.update(overflow[s] == 0);
    ASSERT_EQ(scale.item<float>(), static_cast<float>(host.scale())) << "step " << s;
    ASSERT_EQ(tracker.item<int32_t>(), host.clean_steps()) << "step " << s;
    ASSERT_EQ(inv.item<float>(), static_cast<float>(1.0 / host.scale())) << "step " << s;
  }
}

#define CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call

// The plan's launch captured once on a stream of its own, replayed with a new learning rate
// and new gradients (written into the same memory) each time.
TEST(FusedSgd, PlanReplaysInCudaGraphWithDeviceLr) {
  SKIP_WITHOUT_GPU();
  const Combo c{0.9, 0, 1e-3, false};
  torch::manual_seed(5);
  const auto init = random_params(torch::kFloat32);
  auto ours = twins(init, torch::kFloat32), theirs = twins(init, torch::kFloat32);
  torch::optim::SGD ref(theirs, torch_options(c, 0.1));
  std::vector<torch::Tensor> buffers;
  std::vector<kernels::SgdTensor> tensors;
  for (auto& p : ours) {
    p.mutable_grad() = torch::zeros_like(p);
    buffers.push_back(torch::zeros_like(p));
    tensors.push_back({p.data_ptr(), p.grad().data_ptr(), buffers.back().data_ptr<float>(), p.numel()});
  }
  const torch::Tensor lr = device_float(0);
  cudaStream_t stream;
  CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  auto plan = std::make_unique<kernels::FusedSgdPlan>(tensors, stream);  // goes before its stream
  CUDA_OK(cudaStreamSynchronize(stream));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  CUDA_OK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  plan->step(kernels::SgdHyper{c.momentum, c.dampening, c.weight_decay, c.nesterov}, {lr.data_ptr<float>()}, stream);
  CUDA_OK(cudaStreamEndCapture(stream, &graph));
  CUDA_OK(cudaGraphInstantiate(&exec, graph, 0));
  for (int step = 0; step < 4; ++step) {
    const float rate = 0.1f / static_cast<float>(step + 1);
    CUDA_OK(cudaMemcpy(lr.data_ptr<float>(), &rate, sizeof rate, cudaMemcpyHostToDevice));
    for (size_t i = 0; i < ours.size(); ++i) {
      const torch::Tensor g = torch::randn_like(ours[i]);
      ours[i].mutable_grad().copy_(g);
      theirs[i].mutable_grad() = g.clone();
    }
    CUDA_OK(cudaDeviceSynchronize());
    CUDA_OK(cudaGraphLaunch(exec, stream));
    CUDA_OK(cudaStreamSynchronize(stream));
    static_cast<torch::optim::SGDOptions&>(ref.param_groups()[0].options()).lr(rate);
    ref.step();
    for (size_t i = 0; i < ours.size(); ++i)
      ASSERT_TRUE(torch::allclose(ours[i], theirs[i], 1e-6, 1e-7)) << "replay " << step << " param " << i;
  }
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  plan.reset();
  cudaStreamSynchronize(stream);
  cudaStreamDestroy(stream);
}

#else  // built without CUDA

TEST(FusedSgd, UnavailableWithoutCuda) {
  EXPECT_FALSE(kernels::fused_sgd_available());
  GTEST_SKIP() << "no CUDA device: roost was built without CUDA";
}

#endif

}  // namespace
}  // namespace roost::train
