// train_fused_sgd_reference_test.cc — the fused GPU SGD step's per-element math
// (kernels/fused_sgd_math.h), run on the host: bitwise torch::optim::SGD and roost's Sgd for
// float32 in every option combination, first step and later ones; Python's torch.optim.SGD
// within float rounding; bfloat16 and float16 parameters as torch computing in float32 and
// rounding once (.to(bfloat16)); the half-precision conversions against torch's own.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "fused_sgd_math.h"
#include "python_peer.h"
#include "roost/train/sgd.h"

namespace roost::train {
namespace {

namespace math = kernels::sgd_math;

struct Combo {
  double momentum, dampening, weight_decay;
  bool nesterov;
};

// Every combination torch accepts (Nesterov needs momentum and no dampening).
std::vector<Combo> combos() {
  std::vector<Combo> out;
  for (double m : {0.0, 0.9})
    for (double d : {0.0, 0.25})
      for (double wd : {0.0, 1e-3})
        for (bool n : {false, true})
          if ((m != 0 || d == 0) && (!n || (m != 0 && d == 0))) out.push_back({m, d, wd, n});
  return out;
}

std::string name(const Combo& c) {
  return "momentum " + std::to_string(c.momentum) + " dampening " + std::to_string(c.dampening) + " decay " +
         std::to_string(c.weight_decay) + (c.nesterov ? " nesterov" : "");
}

math::Coefficients coefficients(const Combo& c, double lr) {
  math::Coefficients k;
  k.lr = static_cast<float>(lr);
  k.momentum = static_cast<float>(c.momentum);
  k.keep = static_cast<float>(1.0 - c.dampening);
  k.weight_decay = static_cast<float>(c.weight_decay);
  k.nesterov = c.nesterov;
  return k;
}

// The reference over a float32 tensor, as the kernel steps each element.
void reference_step(torch::Tensor& p, const torch::Tensor& g, std::vector<float>& buf, bool first,
                    const math::Coefficients& c) {
  float* pp = p.data_ptr<float>();
  const float* gp = g.data_ptr<float>();
  for (int64_t i = 0; i < p.numel(); ++i) pp[i] = math::update(pp[i], gp[i], buf[i], first, c);
}

TEST(FusedSgdReference, BitwiseTorchOptimSgdAndRoostSgdForFloat32) {
  const double lr = 0.05;
  for (const Combo& c : combos()) {
    torch::manual_seed(3);
    const torch::Tensor init = torch::randn({4099});
    torch::Tensor ours = init.clone(), roost_p = init.clone().requires_grad_(true),
                  torch_p = init.clone().requires_grad_(true);
    std::vector<float> buf(init.numel(), 7.0f);  // a value the first step must not read
    torch::optim::SGD ref({torch_p}, torch::optim::SGDOptions(lr)
                                         .momentum(c.momentum)
                                         .dampening(c.dampening)
                                         .weight_decay(c.weight_decay)
                                         .nesterov(c.nesterov));
    Sgd sgd({roost_p}, SgdOptions{lr, c.momentum, c.dampening, c.weight_decay, c.nesterov});
    for (int step = 0; step < 4; ++step) {
      const torch::Tensor g = torch::randn({4099}) + 0.1;
      torch_p.mutable_grad() = g.clone();
      roost_p.mutable_grad() = g.clone();
      reference_step(ours, g, buf, step == 0, coefficients(c, lr));
      ref.step();
      sgd.step();
      ASSERT_TRUE(ours.equal(torch_p.detach())) << name(c) << " step " << step;
      ASSERT_TRUE(ours.equal(roost_p.detach())) << name(c) << " step " << step;
      if (c.momentum != 0) {
        ASSERT_TRUE(torch::from_blob(buf.data(), {4099}).equal(sgd.momentum_buffers()[0])) << name(c);
      }
    }
  }
}

TEST(FusedSgdReference, MatchesPythonTorchOptimSgd) {
  if (std::system(ROOST_PYTHON " -c 'import torch, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << ROOST_PYTHON << " lacks torch or numpy (Debian: python3-torch python3-numpy)";
  roost::testing::TempDir dir;
  const std::vector<Combo> all = combos();
  const int steps = 4, n = 1031;
  const double lr = 0.03;
  std::vector<torch::Tensor> results;  // per combo: parameter then buffer, from the reference
  std::ofstream cases(dir.file("cases.txt"));
  for (size_t k = 0; k < all.size(); ++k) {
    torch::manual_seed(20 + k);
    torch::Tensor data = torch::randn({steps + 1, n});
    const std::string in = dir.file("in" + std::to_string(k)), out = dir.file("out" + std::to_string(k));
    std::ofstream(in, std::ios::binary).write(static_cast<const char*>(data.data_ptr()), data.nbytes());
    torch::Tensor p = data[0].clone();
    std::vector<float> buf(n, 0.0f);
    for (int s = 0; s < steps; ++s) reference_step(p, data[s + 1].contiguous(), buf, s == 0, coefficients(all[k], lr));
    if (all[k].momentum == 0) std::fill(buf.begin(), buf.end(), 0.0f);
    results.push_back(torch::cat({p, torch::from_blob(buf.data(), {n}).clone()}));
    cases << all[k].momentum << ' ' << all[k].dampening << ' ' << all[k].weight_decay << ' ' << all[k].nesterov << ' '
          << lr << ' ' << steps << ' ' << n << ' ' << in << ' ' << out << '\n';
  }
  cases.close();
  const std::string command =
      std::string(ROOST_PYTHON " ") + ROOST_SOURCE_DIR + "/tests/unit/sgd_fixture.py " + dir.file("cases.txt");
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  for (size_t k = 0; k < all.size(); ++k) {
    torch::Tensor theirs = torch::zeros({2 * n});
    std::ifstream(dir.file("out" + std::to_string(k)), std::ios::binary)
        .read(static_cast<char*>(theirs.data_ptr()), theirs.nbytes());
    // Within float rounding: a few units in the last place of values around 1.
    EXPECT_TRUE(torch::allclose(results[k], theirs, 1e-6, 1e-7))
        << name(all[k]) << ": max difference " << (results[k] - theirs).abs().max().item<double>();
  }
}

// Raw 16-bit patterns of a bfloat16 / float16 tensor, and back.
std::vector<uint16_t> bits_of(const torch::Tensor& half) {
  const torch::Tensor raw = half.contiguous().view(torch::kInt16);
  const uint16_t* b = reinterpret_cast<const uint16_t*>(raw.data_ptr<int16_t>());
  return std::vector<uint16_t>(b, b + raw.numel());
}

torch::Tensor tensor_of(std::vector<uint16_t> bits, torch::ScalarType type) {
  return torch::from_blob(bits.data(), {static_cast<int64_t>(bits.size())}, torch::kInt16).clone().view(type);
}

float to_float(uint16_t h, torch::ScalarType type) {
  return type == torch::kBFloat16 ? math::bf16_to_float(h) : math::fp16_to_float(h);
}

uint16_t from_float(float f, torch::ScalarType type) {
  return type == torch::kBFloat16 ? math::float_to_bf16(f) : math::float_to_fp16(f);
}

TEST(FusedSgdReference, HalfConversionsMatchTorch) {
  for (torch::ScalarType type : {torch::kBFloat16, torch::kFloat16}) {
    std::vector<uint16_t> every(65536);
    for (size_t i = 0; i < every.size(); ++i) every[i] = static_cast<uint16_t>(i);
    const torch::Tensor widened = tensor_of(every, type).to(torch::kFloat32);
    for (size_t i = 0; i < every.size(); ++i) {
      const float theirs = widened[i].item<float>(), ours = to_float(every[i], type);
      ASSERT_TRUE(std::isnan(theirs) ? std::isnan(ours) : math::float_bits(ours) == math::float_bits(theirs))
          << "bits " << i;
    }
    // Narrowing: random bit patterns (every exponent: subnormals, overflow, ties) and edges.
    torch::manual_seed(4);
    torch::Tensor words = torch::randint(0, int64_t{1} << 32, {1 << 18}, torch::kInt64).to(torch::kInt32);
    std::vector<float> values(words.numel());
    std::memcpy(values.data(), words.data_ptr<int32_t>(), values.size() * 4);
    for (float edge : {0.0f, -0.0f, 65504.0f, 65519.996f, 65520.0f, 6.1035156e-05f, 2.9802322e-08f, 5.9604645e-08f,
                       1.0f + 1.0f / 256, 1.0f + 3.0f / 256, INFINITY, -INFINITY, 3.3895314e38f, 1e-45f})
      values.push_back(edge);
    const std::vector<uint16_t> theirs = bits_of(torch::from_blob(values.data(), {(int64_t)values.size()}).to(type));
    for (size_t i = 0; i < values.size(); ++i) {
      if (std::isnan(values[i])) continue;  // torch's vectorized and scalar paths write different NaNs
      ASSERT_EQ(from_float(values[i], type), theirs[i])
          << "value " << values[i] << " bits " << math::float_bits(values[i]);
    }
  }
}

// A bfloat16 or float16 parameter, its gradient of that type or float32, stepped with
// loss scaling or without: the reference computes in float32 and rounds once, as torch
// stepping a float32 copy and converting it back (.to(type)); momentum stays float32.
TEST(FusedSgdReference, HalfParametersRoundOnceAfterFloatMath) {
  const double lr = 0.1;
  for (torch::ScalarType type : {torch::kBFloat16, torch::kFloat16})
    for (bool float_grad : {false, true})
      for (float inv_scale : {1.0f, 1.0f / 1024})
        for (const Combo& c : {Combo{0, 0, 0, false}, Combo{0.9, 0, 1e-2, true}, Combo{0.9, 0.25, 1e-3, false}}) {
          torch::manual_seed(6);
          const torch::Tensor init = torch::randn({2051}).to(type);
          std::vector<uint16_t> ours = bits_of(init);
          std::vector<float> buf(init.numel(), 0.0f);
          torch::Tensor master = init.to(torch::kFloat32).requires_grad_(true);
          torch::optim::SGD ref({master}, torch::optim::SGDOptions(lr)
                                              .momentum(c.momentum)
                                              .dampening(c.dampening)
                                              .weight_decay(c.weight_decay)
                                              .nesterov(c.nesterov));
          torch::Tensor theirs = init;
          for (int step = 0; step < 3; ++step) {
            torch::Tensor g = torch::randn({2051}) / inv_scale;  // as scaled gradients come
            if (!float_grad) g = g.to(type);
            const torch::Tensor g32 = g.to(torch::kFloat32);
            const float* gp = g32.data_ptr<float>();
            for (size_t i = 0; i < ours.size(); ++i) {
              const float gi = inv_scale != 1.0f ? math::mul_rn(gp[i], inv_scale) : gp[i];
              ours[i] =
                  from_float(math::update(to_float(ours[i], type), gi, buf[i], step == 0, coefficients(c, lr)), type);
            }
            {
              torch::NoGradGuard no_grad;
              master.copy_(theirs.to(torch::kFloat32));
            }
            master.mutable_grad() = inv_scale != 1.0f ? g32 * inv_scale : g32;
            ref.step();
            theirs = master.detach().to(type);
            ASSERT_EQ(ours, bits_of(theirs)) << name(c) << (float_grad ? " float32 gradient" : " half gradient")
                                             << " inv_scale " << inv_scale << " step " << step;
          }
        }
}

}  // namespace
}  // namespace roost::train
