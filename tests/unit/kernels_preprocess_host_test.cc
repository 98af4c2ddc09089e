// The fused preprocessing kernel's phases (kernels/preprocess_impl.cuh) run on the host, one
// tile after another with a single "thread", over a batch planned and packed exactly as
// GpuPreprocessor uploads it. Their output must equal the CPU reference byte for byte, so
// the kernel's arithmetic, tiling and tile modes are checked on every machine, not only
// where a GPU runs the gpu-labelled tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../preprocess_batch.h"
#include "preprocess_impl.cuh"
#include "preprocess_layout.h"
#include "roost/core/error.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

namespace roost {
namespace {

using data::Image;
using data::ResizePlan;
namespace k = kernels::detail;

using Batch = roost::testing::PreprocessBatch;

// Runs every tile of the planned batch through the kernel's phases, as one block of
// `threads` threads would: each phase runs for thread 0, 1, ... in turn, and the next phase
// starts after all of them, as after the kernel's barriers.
template <typename OutT, bool kPlanar>
std::vector<OutT> run_on_host(const Batch& b, const k::LayoutOptions& layout, int* modes_seen, uint32_t threads = 1) {
  const std::vector<const Image*> pointers = b.pointers();
  const k::BatchPlan plan = k::plan_batch(pointers, b.plans, layout);
  const k::BatchLayout& L = plan.layout;
  // 8-byte aligned, as device memory is, and exactly L.total bytes (a multiple of 16): a read
  // past the packed pixels' padding is a heap overflow under AddressSanitizer.
  std::vector<uint64_t> packed(L.total / 8);
  uint8_t* base = reinterpret_cast<uint8_t*>(packed.data());
  k::pack_batch(plan, pointers, data::Normalization{}, base);
  std::vector<OutT> out(pointers.size() * 3 * L.out_h * L.out_w);
  std::memset(out.data(), 0xA5, out.size() * sizeof(OutT));  // poison: every element is written

  const k::KernelArgs a = k::kernel_args(plan, base, out.data());
  for (int i = 0; i < L.num_tiles; ++i) {
    const k::Tile& t = a.tiles[i];
    const k::ImageDesc& img = a.images[t.image];
    ++modes_seen[t.mode];
    // The device loads windows as 8-byte pairs and coefficients as 16-byte groups: each
    // table starts 16-byte aligned in the (16-byte aligned) buffer.
    EXPECT_EQ(L.tables % 16, 0u);
    EXPECT_EQ(L.lut % 16, 0u);  // each block copies the normalisation table as float4
    EXPECT_EQ(img.h_table % 4, 0);
    EXPECT_EQ(img.v_table % 4, 0);
    if (t.mode == k::kDirect) {
      for (uint32_t tid = 0; tid < threads; ++tid) k::direct_tile<OutT, kPlanar>(a, img, t, a.lut, tid, threads);
      continue;
    }
    const int rows = t.r1 - t.r0;
    // This tile's shared memory, 16-byte aligned and not a byte more than the layout grants
    // it ([coefficients][intermediate][source rows and their padding]), so that a read past
    // it is a heap overflow under AddressSanitizer (tests/sanitize.sh).
    const size_t need = k::coefficient_bytes(t.y1 - t.y0, img.taps_v) +
                        k::intermediate_bytes(rows, kPlanar ? 3 : 1, a.inter_pitch) +
                        (t.mode == k::kStaged ? static_cast<size_t>(rows) * img.pitch + k::kReadPastRows : 0);
    // The layout grants it: every tile fits the launch's dynamic shared memory.
    EXPECT_LE(need + (layout.normalize ? k::kLutBytes : 0), static_cast<size_t>(L.shared_bytes));
    std::vector<uint64_t> shared(need / 8);
    auto* coefficients = reinterpret_cast<int32_t*>(shared.data());
    for (uint32_t tid = 0; tid < threads; ++tid) k::stage_vertical_coefficients(a, img, t, coefficients, tid, threads);
    uint8_t* inter = reinterpret_cast<uint8_t*>(coefficients) + k::coefficient_bytes(t.y1 - t.y0, img.taps_v);
    const uint8_t* rows_in_memory = a.pixels + img.pixels + static_cast<size_t>(t.r0) * img.pitch;
    const uint8_t* source = rows_in_memory;
    if (t.mode == k::kStaged) {
      uint8_t* src = inter + k::intermediate_bytes(rows, kPlanar ? 3 : 1, a.inter_pitch);
      std::memcpy(src, rows_in_memory, static_cast<size_t>(rows) * img.pitch);
      source = src;
    }
    for (uint32_t tid = 0; tid < threads; ++tid) k::horizontal_tile<kPlanar>(a, img, t, source, inter, tid, threads);
    for (uint32_t tid = 0; tid < threads; ++tid)
      k::vertical_tile<OutT, kPlanar>(a, img, t, inter, coefficients, a.lut, tid, threads);
  }
  return out;
}

struct Tiling {
  int target_bytes, max_rows;
};

class PreprocessKernelOnHost : public ::testing::TestWithParam<Tiling> {
 protected:
  k::LayoutOptions layout(bool planar) const {
    k::LayoutOptions o;
    o.planar = planar;
    o.normalize = planar;
    o.shared_limit = 227 * 1024;  // an sm_90 block's opt-in limit
    if (GetParam().target_bytes) o.tile_target_bytes = GetParam().target_bytes;
    if (GetParam().max_rows) o.max_tile_rows = GetParam().max_rows;
    return o;
  }
};

TEST_P(PreprocessKernelOnHost, Uint8MatchesCpuReferenceExactly) {
  for (int out_size : {224, 37}) {
    const Batch b = roost::testing::make_preprocess_batch(out_size, 7 + out_size);
    int modes[3] = {0, 0, 0};
    const std::vector<uint8_t> got = run_on_host<uint8_t, false>(b, layout(false), modes);
    const size_t per_image = static_cast<size_t>(out_size) * out_size * 3;
    for (size_t i = 0; i < b.plans.size(); ++i) {
      const Image ref = data::apply_plan_u8(b.images[i], b.plans[i]);
      ASSERT_EQ(ref.pixels.size(), per_image);
      size_t differing = 0;
      for (size_t e = 0; e < per_image; ++e) differing += got[i * per_image + e] != ref.pixels[e];
      EXPECT_EQ(differing, 0u) << "plan " << i << " of a " << b.images[i].height << "x" << b.images[i].width
                               << " image, output " << out_size;
    }
    EXPECT_GT(modes[k::kStaged], 0);
  }
}

TEST_P(PreprocessKernelOnHost, NormalizedNchwMatchesCpuReference) {
  const int out_size = 224;
  const Batch b = roost::testing::make_preprocess_batch(out_size, 99);
  int modes[3] = {0, 0, 0};
  const std::vector<float> got = run_on_host<float, true>(b, layout(true), modes);
  const size_t per_image = static_cast<size_t>(3) * out_size * out_size;
  std::vector<float> ref(per_image);
  for (size_t i = 0; i < b.plans.size(); ++i) {
    data::apply_plan_normalized(b.images[i], b.plans[i], data::Normalization{}, ref.data());
    size_t differing = 0;
    for (size_t e = 0; e < per_image; ++e) differing += got[i * per_image + e] != ref[e];
    EXPECT_EQ(differing, 0u) << "plan " << i << " of a " << b.images[i].height << "x" << b.images[i].width << " image";
  }
  // The 60000×2 whole-image plan shrinks a column too tall for any tile's shared memory;
  // under the default or a smaller tile target, the whole 2000×1500 image reads rows too wide
  // to stage.
  EXPECT_GT(modes[k::kDirect], 0);
  if (GetParam().target_bytes <= 32 * 1024) {
    EXPECT_GT(modes[k::kGlobalSource], 0);
  }
  EXPECT_GT(modes[k::kStaged], 0);
}

// The other tests here run the tiles in image order (the default) and check the bytes.
TEST_P(PreprocessKernelOnHost, TilesGoLargestFirst) {
  const Batch b = roost::testing::make_preprocess_batch(224, 5);
  k::LayoutOptions ordered = layout(true), in_image_order = layout(true);
  ordered.largest_first = true;
  const k::BatchPlan sorted = k::plan_batch(b.pointers(), b.plans, ordered);
  const k::BatchPlan plain = k::plan_batch(b.pointers(), b.plans, in_image_order);
  ASSERT_EQ(sorted.tiles.size(), plain.tiles.size());
  auto work = [](const k::BatchPlan& p, const k::Tile& t) {
    return k::tile_work(t, p.images[static_cast<size_t>(t.image)], p.layout);
  };
  bool image_order_was_sorted = true;
  for (size_t i = 1; i < sorted.tiles.size(); ++i) {
    EXPECT_GE(work(sorted, sorted.tiles[i - 1]), work(sorted, sorted.tiles[i])) << "tile " << i;
    image_order_was_sorted = image_order_was_sorted && work(plain, plain.tiles[i - 1]) >= work(plain, plain.tiles[i]);
    EXPECT_LE(plain.tiles[i - 1].image, plain.tiles[i].image);  // image order, as planned
  }
  EXPECT_FALSE(image_order_was_sorted);  // else this test would not test the reordering
  // The same tiles, each once: sorted by (image, first row) both lists are equal.
  auto key = [](const k::Tile& t) { return std::vector<int>{t.image, t.y0, t.y1, t.r0, t.r1, t.mode}; };
  std::vector<std::vector<int>> a, c;
  for (const auto& t : sorted.tiles) a.push_back(key(t));
  for (const auto& t : plain.tiles) c.push_back(key(t));
  std::sort(a.begin(), a.end());
  std::sort(c.begin(), c.end());
  EXPECT_EQ(a, c);
  // And they write the same bytes.
  int modes[3] = {0, 0, 0};
  EXPECT_EQ((run_on_host<float, true>(b, ordered, modes)), (run_on_host<float, true>(b, in_image_order, modes)));
}

// A block's threads split each phase's items by index arithmetic (dividers the host makes,
// a shift and a mask for the coefficients): run as 256 threads, every tile writes the same
// bytes as one thread does, which the tests above check against the CPU reference.
TEST_P(PreprocessKernelOnHost, ABlocksThreadsWriteWhatOneThreadWrites) {
  const uint32_t threads = static_cast<uint32_t>(k::kThreads);
  for (int out_size : {224, 37}) {
    const Batch b = roost::testing::make_preprocess_batch(out_size, 11 + out_size);
    int modes[3] = {0, 0, 0};
    EXPECT_EQ((run_on_host<float, true>(b, layout(true), modes, threads)),
              (run_on_host<float, true>(b, layout(true), modes, 1)));
    EXPECT_EQ((run_on_host<uint8_t, false>(b, layout(false), modes, threads)),
              (run_on_host<uint8_t, false>(b, layout(false), modes, 1)));
    EXPECT_GT(modes[k::kStaged], 0);
  }
}

TEST(PreprocessKernelArithmetic, FastDivIsExactForTheKernelsRanges) {
  // The kernel divides item indices below 2^20 by row lengths below 2^15.
  for (uint32_t d : {1u, 2u, 3u, 5u, 7u, 28u, 37u, 84u, 224u, 255u, 672u, 1000u, 4095u, 32767u}) {
    const k::FastDiv by(d);
    size_t wrong = 0;
    for (uint32_t n = 0; n < (1u << 20); ++n) wrong += by.div(n) != n / d;
    EXPECT_EQ(wrong, 0u) << "divisor " << d;
  }
}

// clip8 has no clamp, which needs every window to weigh at most kMaxWindowWeight. A shrink
// by about a million (resample_axis's rounded weights of an edge window then sum past it)
// sends the image's tiles direct, which clamp, and the bytes still equal the reference's:
// on all-255 pixels an unclamped rounding would give 256.
TEST(PreprocessKernelArithmetic, WindowsTooHeavyForClip8GoDirectAndMatchTheReference) {
  const int width = 1350000;
  int64_t heaviest = 0;
  std::vector<int32_t> tables;
  k::append_axis_table(data::resample_axis(width, 2), 0, 2, false, 0, 3, tables, heaviest);
  ASSERT_GT(heaviest, k::kMaxWindowWeight) << "the test needs a window heavier than the bound";
  EXPECT_EQ(k::clip8(static_cast<int32_t>(255 * k::kMaxWindowWeight + k::kHalf)), 255u);

  Batch b;
  Image img;
  img.height = 2;
  img.width = width;
  img.pixels.assign(static_cast<size_t>(width) * 2 * 3, 255);
  b.images.push_back(img);
  data::ResizePlan plan;
  plan.box = data::CropBox{0, 0, 2, width};
  plan.resized_h = plan.resized_w = plan.out_h = plan.out_w = 2;
  b.plans.push_back(plan);
  k::LayoutOptions layout;
  layout.planar = false;
  layout.normalize = false;
  const k::BatchPlan planned = k::plan_batch(b.pointers(), b.plans, layout);
  for (const k::Tile& t : planned.tiles) EXPECT_EQ(t.mode, k::kDirect);
  int modes[3] = {0, 0, 0};
  const std::vector<uint8_t> got = run_on_host<uint8_t, false>(b, layout, modes);
  const Image ref = data::apply_plan_u8(b.images[0], b.plans[0]);
  EXPECT_EQ(got, ref.pixels);
  EXPECT_EQ(got, std::vector<uint8_t>(12, 255));
}

// The kernel's dividers are exact only while tiles stay within plan_batch's row limit.
TEST(PreprocessKernelArithmetic, TileRowsOutsideTheDividersRangeAreAUsageError) {
  const Batch b = roost::testing::make_preprocess_batch(37, 3);
  k::LayoutOptions layout;
  for (int rows : {0, 257}) {
    layout.max_tile_rows = rows;
    EXPECT_THROW(k::plan_batch(b.pointers(), b.plans, layout), UsageError) << rows;
  }
  layout.max_tile_rows = 256;
  EXPECT_NO_THROW(k::plan_batch(b.pointers(), b.plans, layout));
}

TEST(PreprocessKernelArithmetic, CeilLog2) {
  EXPECT_EQ(k::ceil_log2(1), 0u);
  EXPECT_EQ(k::ceil_log2(2), 1u);
  EXPECT_EQ(k::ceil_log2(3), 2u);
  EXPECT_EQ(k::ceil_log2(32), 5u);
  EXPECT_EQ(k::ceil_log2(33), 6u);
  for (uint32_t n = 1; n < 5000; ++n) {
    const uint32_t b = k::ceil_log2(n);
    EXPECT_GE(uint64_t{1} << b, n);
    if (b > 0) {
      EXPECT_LT(uint64_t{1} << (b - 1), n);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Tilings, PreprocessKernelOnHost,
                         ::testing::Values(Tiling{0, 0}, Tiling{8 * 1024, 4}, Tiling{96 * 1024, 64}),
                         [](const ::testing::TestParamInfo<Tiling>& info) {
                           return "target" + std::to_string(info.param.target_bytes) + "_rows" +
                                  std::to_string(info.param.max_rows);
                         });

}  // namespace
}  // namespace roost
