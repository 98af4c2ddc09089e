// preprocess_test.cc — the fused CUDA preprocessing kernel against the CPU reference
// (data::apply_plan_u8 / apply_plan_normalized) on random images of odd sizes: 1×N, N×1,
// heavy downscale, upscale, a shrink too tall for shared memory (direct tiles), random
// crop boxes with flips and validation plans, for every output type and both layouts.
// Outputs are poisoned first so that an element the kernel forgot shows up.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../preprocess_batch.h"
#include "roost/core/error.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"
#include "roost/kernels/preprocess.h"

#ifdef ROOST_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace roost::kernels {
namespace {

#ifdef ROOST_WITH_CUDA

using data::Image;
using data::ResizePlan;

using Batch = roost::testing::PreprocessBatch;
Batch make_batch(int out_size, uint64_t seed) { return roost::testing::make_preprocess_batch(out_size, seed); }
using roost::testing::random_image;

class DeviceMemory {
 public:
  explicit DeviceMemory(size_t bytes) : bytes_(bytes) {
    if (cudaMalloc(&data_, bytes) != cudaSuccess) throw std::runtime_error("cudaMalloc failed");
  }
  ~DeviceMemory() { cudaFree(data_); }
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  void* get() const { return data_; }
  void fill(int byte) { ASSERT_EQ(cudaMemset(data_, byte, bytes_), cudaSuccess); }
  template <typename T>
  std::vector<T> download() const {
    std::vector<T> host(bytes_ / sizeof(T));
    EXPECT_EQ(cudaMemcpy(host.data(), data_, bytes_, cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

float bf16_to_float(uint16_t bits) {
  const uint32_t word = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &word, 4);
  return f;
}

float fp16_to_float(uint16_t bits) {
  const int sign = bits >> 15, exponent = (bits >> 10) & 31, mantissa = bits & 1023;
  float magnitude;
  if (exponent == 0) magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31) magnitude = mantissa ? NAN : INFINITY;
  else magnitude = std::ldexp(1.0f + mantissa / 1024.0f, exponent - 15);
  return sign ? -magnitude : magnitude;
}

#define SKIP_WITHOUT_GPU() \
  if (!GpuPreprocessor::available()) GTEST_SKIP() << "no CUDA device: the GPU preprocessor cannot run on this machine"

TEST(GpuPreprocess, U8MatchesCpuReferenceExactly) {
  SKIP_WITHOUT_GPU();
  // The default tiling, then small tiles (more of them read the source from device memory
  // or go direct) and large ones: the tile shape changes the work split, never the bytes.
  const int tilings[][2] = {{0, 0}, {8 * 1024, 4}, {96 * 1024, 64}};
  for (const auto& tiling : tilings)
    for (int out_size : {224, 37}) {
      SCOPED_TRACE("tile target " + std::to_string(tiling[0]) + " B, max rows " + std::to_string(tiling[1]));
      const Batch b = make_batch(out_size, 100 + out_size);
      const size_t per_image = static_cast<size_t>(out_size) * out_size * 3;
      DeviceMemory out(per_image * b.images.size());
      PreprocessOptions options;
      options.tile_target_bytes = tiling[0];
      options.max_tile_rows = tiling[1];
      GpuPreprocessor pre(options);
      // Two poisons: 0xFF and 0x00 are both valid bytes, so only a byte the kernel wrote
      // can equal the reference after both.
      for (int poison : {0xFF, 0x00}) {
        out.fill(poison);
        pre.run_u8(b.pointers(), b.plans, out.get(), nullptr);
        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        const std::vector<uint8_t> got = out.download<uint8_t>();
        for (size_t i = 0; i < b.images.size(); ++i) {
          const Image ref = data::apply_plan_u8(b.images[i], b.plans[i]);
          size_t differing = 0;
          int max_diff = 0;
          for (size_t k = 0; k < per_image; ++k) {
            const int d = std::abs(int(got[i * per_image + k]) - int(ref.pixels[k]));
            differing += d != 0;
            max_diff = std::max(max_diff, d);
          }
          EXPECT_LE(max_diff, 1) << "image " << i << " (" << b.images[i].height << "x" << b.images[i].width
                                 << ") poison " << poison;
          EXPECT_EQ(differing, 0u) << "image " << i << " (" << b.images[i].height << "x" << b.images[i].width
                                   << ") out " << out_size;
        }
      }
    }
}

struct TypeCase {
  OutputType type;
  bool channels_last;
  int out_size;
};

class GpuPreprocessTyped : public ::testing::TestWithParam<TypeCase> {};

TEST_P(GpuPreprocessTyped, MatchesNormalizedReference) {
  SKIP_WITHOUT_GPU();
  const TypeCase tc = GetParam();
  const Batch b = make_batch(tc.out_size, 7 + tc.out_size);
  const size_t plane = static_cast<size_t>(tc.out_size) * tc.out_size;
  const size_t element = tc.type == OutputType::kFloat32 ? 4 : 2;
  DeviceMemory out(plane * 3 * b.images.size() * element);
  out.fill(0xFF);  // NaN in float32, bfloat16 and float16 alike
  PreprocessOptions options;
  options.output = tc.type;
  options.channels_last = tc.channels_last;
  GpuPreprocessor pre(options);
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  pre.run(b.pointers(), b.plans, out.get(), stream);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  cudaStreamDestroy(stream);

  std::vector<float> got(plane * 3 * b.images.size());
  if (tc.type == OutputType::kFloat32) {
    got = out.download<float>();
  } else {
    const std::vector<uint16_t> bits = out.download<uint16_t>();
    for (size_t k = 0; k < bits.size(); ++k)
      got[k] = tc.type == OutputType::kBFloat16 ? bf16_to_float(bits[k]) : fp16_to_float(bits[k]);
  }
  const data::Normalization norm;
  std::vector<float> ref(plane * 3);
  for (size_t i = 0; i < b.images.size(); ++i) {
    data::apply_plan_normalized(b.images[i], b.plans[i], norm, ref.data());
    size_t bad = 0;
    for (int c = 0; c < 3; ++c)
      for (size_t p = 0; p < plane; ++p) {
        const float r = ref[c * plane + p];
        const size_t at = i * plane * 3 + (tc.channels_last ? p * 3 + c : c * plane + p);
        const float g = got[at];
        // float32: one uint8 step of the input, and the kernel aims for exact; the
        // half types: their rounding of r (8 and 11 significant bits).
        const float tolerance = tc.type == OutputType::kFloat32    ? 1.0f / 255 / norm.std[c] + 1e-6f
                                : tc.type == OutputType::kBFloat16 ? std::fabs(r) / 256 + 1e-6f
                                                                   : std::fabs(r) / 1024 + 1e-4f;
        if (std::isnan(g) || std::fabs(g - r) > tolerance) {
          if (bad++ < 3)
            ADD_FAILURE() << "image " << i << " (" << b.images[i].height << "x" << b.images[i].width << ") channel "
                          << c << " pixel " << p << ": got " << g << " want " << r;
        }
      }
    EXPECT_EQ(bad, 0u) << "image " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Types, GpuPreprocessTyped,
    ::testing::Values(TypeCase{OutputType::kFloat32, false, 224}, TypeCase{OutputType::kFloat32, true, 224},
                      TypeCase{OutputType::kFloat32, false, 37}, TypeCase{OutputType::kFloat32, true, 37},
                      TypeCase{OutputType::kBFloat16, false, 224}, TypeCase{OutputType::kBFloat16, true, 37},
                      TypeCase{OutputType::kFloat16, false, 37}, TypeCase{OutputType::kFloat16, true, 224}));

TEST(GpuPreprocess, BackToBackBatchesReuseBuffersSafely) {
  SKIP_WITHOUT_GPU();
  // Three batches in flight on one stream without a sync in between: the slots alternate,
  // and the third (larger) batch grows the first slot's buffers while the second runs.
  const Batch small = make_batch(64, 1), other = make_batch(64, 2);
  Batch large = make_batch(64, 3);
  const Batch extra = make_batch(64, 4);
  for (size_t i = 0; i < extra.images.size(); ++i) {
    large.images.push_back(extra.images[i]);
    large.plans.push_back(extra.plans[i]);
  }
  const size_t per_image = 64 * 64 * 3;
  DeviceMemory a(per_image * small.images.size()), b(per_image * other.images.size()),
      c(per_image * large.images.size());
  GpuPreprocessor pre(PreprocessOptions{});
  pre.run_u8(small.pointers(), small.plans, a.get(), nullptr);
  pre.run_u8(other.pointers(), other.plans, b.get(), nullptr);
  pre.run_u8(large.pointers(), large.plans, c.get(), nullptr);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const std::pair<const Batch*, const DeviceMemory*> runs[] = {{&small, &a}, {&other, &b}, {&large, &c}};
  for (auto [batch, mem] : runs) {
    const std::vector<uint8_t> got = mem->download<uint8_t>();
    for (size_t i = 0; i < batch->images.size(); ++i) {
      const Image ref = data::apply_plan_u8(batch->images[i], batch->plans[i]);
      ASSERT_EQ(0, std::memcmp(ref.pixels.data(), got.data() + i * per_image, per_image)) << "image " << i;
    }
  }
}

TEST(GpuPreprocess, PackedOnOtherThreadsEqualsRun) {
  SKIP_WITHOUT_GPU();
  // Six batches packed concurrently on three threads (as loader workers do), one dropped
  // without an upload, the rest uploaded and run back to back without a sync, then six more
  // packed while those copies may still be in flight: the pool must not hand out a block
  // whose copy has not finished. Every output equals run()'s, byte for byte.
  PreprocessOptions options;
  GpuPreprocessor pre(options);
  std::vector<Batch> batches;
  for (int i = 0; i < 12; ++i) batches.push_back(make_batch(64, 100 + i));
  const size_t per_batch = batches[0].images.size() * 3 * 64 * 64 * sizeof(float);
  for (const Batch& b : batches) ASSERT_EQ(b.images.size() * 3 * 64 * 64 * sizeof(float), per_batch);
  std::vector<std::shared_ptr<data::PreparedBatch>> packed(batches.size());
  auto pack_range = [&](size_t begin, size_t end) {
    std::vector<std::thread> threads;
    std::vector<std::string> errors(3);
    for (size_t t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        try {
          for (size_t i = begin + t; i < end; i += 3) packed[i] = pre.pack(batches[i].pointers(), batches[i].plans);
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    for (auto& t : threads) t.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
  };
  std::vector<std::unique_ptr<DeviceMemory>> got, want;
  for (size_t i = 0; i < batches.size(); ++i) {
    got.push_back(std::make_unique<DeviceMemory>(per_batch));
    want.push_back(std::make_unique<DeviceMemory>(per_batch));
    got.back()->fill(0xFF);
  }
  pack_range(0, 6);
  packed[5].reset();  // dropped without an upload
  for (size_t i = 0; i < 5; ++i) {
    pre.run_packed(packed[i], got[i]->get(), nullptr);
    packed[i].reset();  // back to the pool while its copy may still run
  }
  pack_range(6, 12);
  for (size_t i = 6; i < 12; ++i) pre.run_packed(packed[i], got[i]->get(), nullptr);
  for (size_t i = 0; i < batches.size(); ++i)
    if (i != 5) pre.run(batches[i].pointers(), batches[i].plans, want[i]->get(), nullptr);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  for (size_t i = 0; i < batches.size(); ++i) {
    if (i == 5) continue;
    EXPECT_EQ(got[i]->download<uint8_t>(), want[i]->download<uint8_t>()) << "batch " << i;
  }
  EXPECT_THROW(pre.run_packed(nullptr, got[0]->get(), nullptr), roost::Error);
  GpuPreprocessor other(options);  // a batch packed by one preprocessor is not another's
  EXPECT_THROW(other.run_packed(pre.pack(batches[0].pointers(), batches[0].plans), got[0]->get(), nullptr),
               roost::Error);
}

TEST(GpuPreprocess, RejectsMixedOutputSizes) {
  SKIP_WITHOUT_GPU();
  std::mt19937_64 rng(5);
  const Image img = random_image(50, 60, rng);
  std::vector<ResizePlan> plans = {data::val_plan(50, 60, 40, 32), data::val_plan(50, 60, 40, 30)};
  DeviceMemory out(2 * 32 * 32 * 3);
  GpuPreprocessor pre(PreprocessOptions{});
  EXPECT_THROW(pre.run_u8({&img, &img}, plans, out.get(), nullptr), roost::UsageError);
}

#else  // built without CUDA

TEST(GpuPreprocess, UnavailableWithoutCuda) {
  EXPECT_FALSE(GpuPreprocessor::available());
  GTEST_SKIP() << "no CUDA device: roost was built without CUDA";
}

#endif

}  // namespace
}  // namespace roost::kernels
