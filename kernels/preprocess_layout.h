// kernels/preprocess_layout.h — how a batch travels to the fused preprocessing kernel.
//
// The host does all the floating-point work: it builds Pillow's resampling tables with
// data::resample_axis (the very tables the CPU reference uses), folds the window and the
// flip into them, cuts every image's output rows into tiles sized for shared memory, and
// packs tables, tiles and the source pixels each image really needs into one buffer that
// goes to the device in a single copy. The kernel is then integer multiply-adds only, so
// its bytes equal data::apply_plan_u8's. Plain C++ and header-only: preprocess.cu is the
// one translation unit of roost_kernels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "roost/core/error.h"
#include "roost/data/image.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

namespace roost::kernels::detail {

constexpr int kLutEntries = 3 * 256;  // normalisation table, per channel
constexpr int kLutBytes = kLutEntries * static_cast<int>(sizeof(float));
// The horizontal pass reads taps as whole aligned words, up to 9 bytes past a row's window
// (preprocess_impl.cuh, horizontal_taps_words), and whole groups of four coefficients, up to
// three past its count: the tables hold coefficients for a multiple of four taps, and staged
// source rows in shared memory and the packed pixels each end with kReadPastRows bytes of
// padding.
constexpr size_t kTapGroup = 4;
constexpr size_t kReadPastRows = 16;
// The most a window's coefficients may sum to for the kernel's rounding to need no clamp
// (preprocess_impl.cuh, clip8): below (2^30 - 2^21) / 255, so 2^22 + 8224. Pillow's rounded
// weights sum to at most 2^22 plus half a unit per tap, so only a shrink by thousands
// (over 16448 taps) can weigh more; such an image's tiles go direct, which clamps.
constexpr int64_t kMaxWindowWeight = ((int64_t{1} << 30) - (int64_t{1} << 21) - 1) / 255;

// One image of the batch as the kernel sees it. Table entries are indexed by output
// column (x) or output row (y) of the window (see append_axis_table for the tables).
struct ImageDesc {
  uint64_t pixels = 0;  // byte offset of the packed source rectangle in the batch's pixels
  int pitch = 0;        // bytes per packed row, a multiple of 16
  // int32 indices; each table holds round_up(taps, kTapGroup) coefficient rows, zero past
  // each count.
  int h_table = 0;  // the horizontal table (starts as byte offsets), a multiple of 4
  int v_table = 0;  // the vertical table (starts as rows), a multiple of 4
  int taps_h = 0, taps_v = 0;
  int unused = 0;
};

// How a tile's block reads its source (see preprocess_impl.cuh).
enum TileMode : int {
  kStaged = 0,        // packed rows copied to shared memory first (the common, fast way)
  kGlobalSource = 1,  // rows too wide to stage: the horizontal pass reads device memory
  kDirect = 2,        // even the intermediate does not fit: both passes inline per output
};

// A thread block's share: output rows [y0, y1) of one image, whose horizontal pass reads
// packed rows [r0, r1). Direct tiles (extreme vertical shrink) compute each output from
// the source with both passes inline — slower, same arithmetic, same bytes.
struct Tile {
  int image = 0;
  int y0 = 0, y1 = 0;
  int r0 = 0, r1 = 0;
  int mode = kStaged;
};

struct LayoutOptions {
  bool planar = true;     // intermediate per channel plane (NCHW output) or interleaved
  bool normalize = true;  // a float table for ToTensor + Normalize travels too
  // Preferred shared memory per block (coefficients, intermediate, staged source): small
  // enough for six blocks of 256 threads on an SM (the kernel's registers allow five).
  int tile_target_bytes = 32 * 1024;
  int shared_limit = 48 * 1024;  // the most dynamic shared memory a block may get
  int max_tile_rows = 32;
  // Launch the costliest tiles first (tile_work) instead of in image order. Blocks start
  // roughly in index order, so the last wave would hold the cheapest tiles; on an H100 it
  // measured no faster at a batch of 256 (0.147 ms both ways) and 4.6% slower at 1024
  // (0.546 against 0.522 ms): neighbouring tiles of one image share source rows and tables
  // in L2, which image order keeps together. Off by default; preprocess_bench times both.
  bool largest_first = false;
};

// Byte offsets into the batch buffer and the launch shape.
struct BatchLayout {
  int out_h = 0, out_w = 0;
  int inter_pitch = 0;  // bytes per intermediate row (per plane), a multiple of 8
  int planes = 1;       // 3 for planar, 1 for interleaved
  size_t images = 0, tiles = 0, tables = 0, lut = 0, pixels = 0, total = 0;
  int num_tiles = 0;
  int shared_bytes = 0;    // dynamic shared memory per block (LUT + largest tile's rows)
  size_t input_bytes = 0;  // packed source bytes, without row padding
  size_t output_elements = 0;
};

// Everything the host derives from the plans before packing.
struct BatchPlan {
  BatchLayout layout;
  std::vector<ImageDesc> images;
  std::vector<Tile> tiles;
  std::vector<int32_t> tables;
  std::vector<data::CropBox> rects;  // source rectangle of each image, in image coordinates
};

inline size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// An axis's table serves one 8-byte load of an output's window and one 16-byte load per
// four taps: it starts at a multiple of four entries with a pair {start * start_scale,
// count} per output (start_scale 3 makes the horizontal start a byte offset into a packed
// RGB row), then, 16-byte aligned after up to two zero entries, the coefficients in groups
// of four taps, group-major: coefficient k of output o at [k / 4][o][k % 4], so that
// neighbouring threads read neighbouring groups. (constexpr: the kernel calls these too.)
constexpr int grouped_coef_offset(int out) { return (2 * out + 3) / 4 * 4; }
constexpr int grouped_coef_index(int k, int o, int out) { return ((k / 4) * out + o) * 4 + k % 4; }

// Appends one axis's table for window indices offset .. offset + out - 1, mirrored if asked,
// starts relative to the packed rectangle's first index rect_first.
// `heaviest` becomes the largest sum of one window's coefficients.
inline int append_axis_table(const data::ResampleAxis& axis, int offset, int out, bool mirror, int rect_first,
                             int start_scale, std::vector<int32_t>& tables, int64_t& heaviest) {
  // Coefficient rows up to a multiple of four, zero past each count: the horizontal pass
  // reads four taps at a time.
  const size_t taps = round_up(static_cast<size_t>(axis.taps), kTapGroup);
  const size_t index = round_up(tables.size(), kTapGroup);
  const size_t coef_at = static_cast<size_t>(grouped_coef_offset(out));
  ROOST_CHECK(index + coef_at + static_cast<size_t>(out) * taps < (size_t{1} << 31),
              "resampling tables of the batch exceed 2^31 entries");
  tables.resize(index + coef_at + static_cast<size_t>(out) * taps, 0);
  int32_t* start = tables.data() + index;
  int32_t* coef = start + coef_at;
  for (int o = 0; o < out; ++o) {
    const int w = offset + (mirror ? out - 1 - o : o);
    start[2 * o] = start_scale * (axis.start[w] - rect_first);
    start[2 * o + 1] = axis.count[w];
    int64_t weight = 0;
    for (int k = 0; k < axis.count[w]; ++k) {
      const int32_t c = axis.coef[static_cast<size_t>(w) * axis.taps + k];
      // The kernel's rounding relies on it (a triangle filter has no negative lobes).
      ROOST_CHECK(c >= 0, "negative resampling weight ", c);
      weight += c;
      coef[grouped_coef_index(k, o, out)] = c;
    }
    heaviest = std::max(heaviest, weight);
  }
  return static_cast<int>(index);
}

// Source indices [first, end) that window indices offset .. offset + out - 1 read.
inline void axis_span(const data::ResampleAxis& axis, int offset, int out, int& first, int& end) {
  first = axis.start[offset];
  end = 0;
  for (int o = offset; o < offset + out; ++o) {
    first = std::min(first, axis.start[o]);
    end = std::max(end, axis.start[o] + axis.count[o]);
  }
}

// Cuts one image's output rows into tiles. A tile grows row by row while its shared
// memory stays within grow_limit. Its first row picks the mode: staged if that row's source
// and intermediate fit the target, else reading the source from device memory if the
// intermediate alone fits shared memory (such a row may exceed the target), else direct.
// All direct when `direct` is set (windows too heavy for the other modes' rounding).
inline void append_tiles(int image, const int32_t* vwindow, int out_h, size_t row_bytes, int pitch, int taps_v,
                         const LayoutOptions& options, size_t grow_limit, size_t shared_for_rows, bool direct,
                         std::vector<Tile>& tiles, size_t& largest) {
  // Shared bytes of a tile of `tile_rows` output rows reading `rows` packed rows: its
  // vertical coefficients and intermediate, plus the source rows when they are staged.
  auto inter_bytes = [&](int rows, int tile_rows) {
    return round_up(static_cast<size_t>(tile_rows) * taps_v * 4, 16) +
           round_up(static_cast<size_t>(rows) * row_bytes, 16);
  };
  auto staged_bytes = [&](int rows, int tile_rows) {
    return inter_bytes(rows, tile_rows) + static_cast<size_t>(rows) * pitch + kReadPastRows;
  };
  for (int y0 = 0; y0 < out_h;) {
    Tile t;
    t.image = image;
    t.y0 = y0;
    t.y1 = y0 + 1;
    t.r0 = vwindow[2 * y0];
    t.r1 = vwindow[2 * y0] + vwindow[2 * y0 + 1];
    if (direct) t.mode = kDirect;
    else if (staged_bytes(t.r1 - t.r0, 1) <= grow_limit) t.mode = kStaged;
    else if (inter_bytes(t.r1 - t.r0, 1) <= shared_for_rows) t.mode = kGlobalSource;
    else t.mode = kDirect;
    if (t.mode != kDirect) {
      auto bytes = [&](int rows, int tile_rows) {
        return t.mode == kStaged ? staged_bytes(rows, tile_rows) : inter_bytes(rows, tile_rows);
      };
      while (t.y1 < out_h && t.y1 - y0 < options.max_tile_rows) {
        const int r0 = std::min(t.r0, vwindow[2 * t.y1]);
        const int r1 = std::max(t.r1, vwindow[2 * t.y1] + vwindow[2 * t.y1 + 1]);
        if (bytes(r1 - r0, t.y1 + 1 - y0) > grow_limit) break;
        t.r0 = r0;
        t.r1 = r1;
        ++t.y1;
      }
      largest = std::max(largest, bytes(t.r1 - t.r0, t.y1 - y0));
    }
    tiles.push_back(t);
    y0 = t.y1;
  }
}

// Rough issue-slot cost of a tile, to order the launch (off by default): two-row horizontal
// items of about 4 + 13 instructions per tap (counted with byte loads; words cost less),
// eight-byte vertical items of about 30 + 18 per tap, and the staging copy; a direct tile
// recomputes its horizontal taps for every output row.
inline double tile_work(const Tile& t, const ImageDesc& img, const BatchLayout& L) {
  const double tile_rows = t.y1 - t.y0, rows = t.r1 - t.r0;
  if (t.mode == kDirect) return tile_rows * L.out_w * img.taps_v * (4 + 7.0 * img.taps_h);
  const double horizontal = (rows + 1) / 2 * L.out_w * (4 + 13.0 * img.taps_h);
  const double vertical = L.planes * tile_rows * (L.inter_pitch / 8.0) * (30 + 18.0 * img.taps_v);
  const double staging = t.mode == kStaged ? 3.0 * rows * img.pitch / 16 : 0;
  return horizontal + vertical + staging;
}

// Reorders the plan's tiles by decreasing tile_work (ties keep their order). Each tile writes
// only its own output rows, so the order changes no output byte.
inline void order_largest_first(BatchPlan& plan) {
  std::vector<std::pair<double, size_t>> keyed(plan.tiles.size());
  for (size_t i = 0; i < plan.tiles.size(); ++i) {
    const Tile& t = plan.tiles[i];
    keyed[i] = {tile_work(t, plan.images[static_cast<size_t>(t.image)], plan.layout), i};
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Tile> sorted;
  sorted.reserve(plan.tiles.size());
  for (const auto& k : keyed) sorted.push_back(plan.tiles[k.second]);
  plan.tiles = std::move(sorted);
}

// Validates the batch and plans it (throws roost errors on bad input).
inline BatchPlan plan_batch(const std::vector<const data::Image*>& images, const std::vector<data::ResizePlan>& plans,
                            const LayoutOptions& options) {
  ROOST_CHECK(images.size() == plans.size(), images.size(), " images but ", plans.size(), " plans");
  ROOST_CHECK(!images.empty(), "empty batch");
  BatchPlan plan;
  BatchLayout& L = plan.layout;
  L.out_h = plans[0].out_h;
  L.out_w = plans[0].out_w;
  // The kernel addresses an image's 3 * out_h * out_w output elements with 32-bit offsets,
  // and its thread-index dividers (FastDiv) are exact for n * d < 2^36: the vertical pass
  // divides item indices below 3 * max_tile_rows * octets by the octets of a row (at most
  // 6144), under 2^34 for 256 rows; the horizontal pass's items are bounded by shared
  // memory, a direct tile's by out_w.
  ROOST_USAGE_CHECK(L.out_h > 0 && L.out_w > 0 && L.out_h <= 16384 && L.out_w <= 16384,
                    "GPU preprocessing supports outputs up to 16384x16384, got ", L.out_h, "x", L.out_w);
  ROOST_USAGE_CHECK(options.max_tile_rows >= 1 && options.max_tile_rows <= 256,
                    "GPU preprocessing takes 1 to 256 output rows per tile, got ", options.max_tile_rows);
  L.planes = options.planar ? 3 : 1;
  // A multiple of 8: the vertical pass reads eight intermediate bytes at a time.
  L.inter_pitch = static_cast<int>(round_up(options.planar ? L.out_w : 3 * L.out_w, 8));
  const size_t row_bytes = static_cast<size_t>(L.planes) * L.inter_pitch;
  const int lut_bytes = options.normalize ? kLutBytes : 0;
  const size_t shared_for_rows = static_cast<size_t>(options.shared_limit - lut_bytes);

  const size_t grow_limit = std::min(shared_for_rows, static_cast<size_t>(options.tile_target_bytes));
  size_t pixel_bytes = 0;
  size_t largest_tile = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const data::Image* img = images[i];
    const data::ResizePlan& p = plans[i];
    ROOST_CHECK(img != nullptr, "image ", i, " is null");
    ROOST_USAGE_CHECK(p.out_h == L.out_h && p.out_w == L.out_w, "plan ", i, " outputs ", p.out_h, "x", p.out_w,
                      " but the batch is ", L.out_h, "x", L.out_w);
    data::check_plan(img->height, img->width, p);
    ROOST_CHECK(img->pixels.size() == static_cast<size_t>(img->height) * img->width * 3, "image ", i, " holds ",
                img->pixels.size(), " bytes, not ", img->height, "x", img->width, "x3");
    const data::ResampleAxis horiz = data::resample_axis(p.box.width, p.resized_w);
    const data::ResampleAxis vert = data::resample_axis(p.box.height, p.resized_h);
    int x_first, x_end, y_first, y_end;
    axis_span(horiz, p.offset_x, p.out_w, x_first, x_end);
    axis_span(vert, p.offset_y, p.out_h, y_first, y_end);

    ImageDesc desc;
    desc.pitch = static_cast<int>(round_up(static_cast<size_t>(x_end - x_first) * 3, 16));
    desc.pixels = pixel_bytes;
    desc.taps_h = horiz.taps;
    desc.taps_v = vert.taps;
    int64_t heaviest = 0;
    desc.h_table = append_axis_table(horiz, p.offset_x, p.out_w, p.flip, x_first, 3, plan.tables, heaviest);
    desc.v_table = append_axis_table(vert, p.offset_y, p.out_h, false, y_first, 1, plan.tables, heaviest);
    pixel_bytes += static_cast<size_t>(desc.pitch) * (y_end - y_first);
    L.input_bytes += static_cast<size_t>(x_end - x_first) * 3 * (y_end - y_first);
    plan.rects.push_back(data::CropBox{p.box.top + y_first, p.box.left + x_first, y_end - y_first, x_end - x_first});
    plan.images.push_back(desc);

    append_tiles(static_cast<int>(i), plan.tables.data() + desc.v_table, L.out_h, row_bytes, desc.pitch, desc.taps_v,
                 options, grow_limit, shared_for_rows, heaviest > kMaxWindowWeight, plan.tiles, largest_tile);
  }
  L.num_tiles = static_cast<int>(plan.tiles.size());
  if (options.largest_first) order_largest_first(plan);
  L.shared_bytes = static_cast<int>(round_up(lut_bytes + largest_tile, 16));
  L.output_elements = images.size() * 3 * static_cast<size_t>(L.out_h) * L.out_w;

  // One buffer: descriptors, tiles, tables, LUT, pixels; every part 16-byte aligned.
  L.images = 0;
  L.tiles = round_up(L.images + plan.images.size() * sizeof(ImageDesc), 16);
  L.tables = round_up(L.tiles + plan.tiles.size() * sizeof(Tile), 16);
  L.lut = round_up(L.tables + plan.tables.size() * sizeof(int32_t), 16);
  L.pixels = round_up(L.lut + kLutBytes, 16);
  L.total = L.pixels + pixel_bytes + kReadPastRows;
  return plan;
}

// Writes plan's descriptors, tiles, tables, normalisation table and the images' source
// rectangles into dst, which holds plan.layout.total bytes. Every byte is written, the
// alignment gaps and paddings as zeros, so the upload never carries uninitialised memory.
inline void pack_batch(const BatchPlan& plan, const std::vector<const data::Image*>& images,
                       const data::Normalization& norm, uint8_t* dst) {
  const BatchLayout& L = plan.layout;
  auto put = [dst](size_t at, const void* from, size_t bytes, size_t next) {
    std::memcpy(dst + at, from, bytes);
    std::memset(dst + at + bytes, 0, next - at - bytes);
  };
  put(L.images, plan.images.data(), plan.images.size() * sizeof(ImageDesc), L.tiles);
  put(L.tiles, plan.tiles.data(), plan.tiles.size() * sizeof(Tile), L.tables);
  put(L.tables, plan.tables.data(), plan.tables.size() * sizeof(int32_t), L.lut);
  float lut[kLutEntries];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      lut[c * 256 + v] = data::normalize_u8(static_cast<uint8_t>(v), norm.mean[c], norm.std[c]);
  put(L.lut, lut, sizeof(lut), L.pixels);
  for (size_t i = 0; i < images.size(); ++i) {
    const data::CropBox& r = plan.rects[i];
    const size_t row = static_cast<size_t>(r.width) * 3;
    const size_t pitch = static_cast<size_t>(plan.images[i].pitch);
    const size_t first = L.pixels + plan.images[i].pixels;  // images follow one another
    for (int y = 0; y < r.height; ++y)
      put(first + y * pitch, images[i]->row(r.top + y) + r.left * 3, row, first + (y + 1) * pitch);
  }
  std::memset(dst + L.total - kReadPastRows, 0, kReadPastRows);
}

}  // namespace roost::kernels::detail
