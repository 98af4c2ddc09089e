// kernels/preprocess_impl.cuh — the fused preprocessing kernel: crop → Pillow's
// antialiased bilinear resize → flip → ToTensor + Normalize → NCHW/NHWC store.
//
// One thread block per tile (a run of output rows of one image, see preprocess_layout.h):
//   0. the packed source rows the tile reads are copied to shared memory with asynchronous
//      16-byte copies, with the tile rows' vertical coefficients;
//   1. horizontal pass: every source row the tile's output rows read is resampled to the
//      window's columns once, rounded to uint8 exactly like Pillow's first pass, and kept in
//      shared memory (per channel plane for NCHW, interleaved for NHWC/uint8);
//   2. vertical pass: each thread takes eight consecutive bytes of an intermediate row — one
//      64-bit shared load per tap serves eight outputs — and stores them as two quads of
//      consecutive output elements, 16-byte (float) or 8-byte (bf16/fp16) stores when aligned.
// So every source byte is read from device memory about once and every output written
// once; the horizontal taps are never recomputed per output pixel. The kernel is bound by
// issued instructions and latency rather than bytes, which is why addresses stay 32-bit
// (shared memory) in the inner loops and why one item covers several rows or bytes.
// Rows too wide to stage read the source from device memory instead (kGlobalSource), and
// tiles whose intermediate cannot fit in shared memory go direct: both passes inline per
// output pixel, same arithmetic, more of it.
// The phase functions also compile as plain C++, so the host can run them thread by thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "preprocess_layout.h"

#include "host_device.h"

#ifdef __CUDACC__
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

namespace roost::kernels::detail {

constexpr int kThreads = 256;
constexpr int32_t kHalf = 1 << (data::kResamplePrecisionBits - 1);

// Exact n / d for n * d < 2^36 (plan_batch's limits keep the kernel's divisions there): one
// wide multiply instead of a ~20-instruction integer division in the thread-index arithmetic.
// Making one costs a 64-bit division, a long software routine on the device, so the
// dividers the whole batch shares travel in KernelArgs, made once on the host.
struct FastDiv {
  uint64_t magic = 0;
  uint32_t d = 0;
  FastDiv() = default;
  ROOST_HD explicit FastDiv(uint32_t divisor) : magic((uint64_t{1} << 36) / divisor + 1), d(divisor) {}
  ROOST_HD uint32_t div(uint32_t n) const { return static_cast<uint32_t>((n * magic) >> 36); }
};

// 1: every block makes its dividers itself, per tile, as it did before (kept for comparison
// in benchmarks/preprocess_variants.sh); 0: the host's from KernelArgs.
#ifndef ROOST_PREPROCESS_DEVICE_DIV
#define ROOST_PREPROCESS_DEVICE_DIV 0
#endif
constexpr bool kDeviceDiv = ROOST_PREPROCESS_DEVICE_DIV != 0;

// Elements per output plane row: out_w for planar (NCHW) output, out_w * 3 interleaved.
ROOST_HD int plane_row_length(int out_w, bool planar) { return planar ? out_w : 3 * out_w; }
ROOST_HD int octets_per_row(int length) { return (length + 7) / 8; }

struct KernelArgs {
  const ImageDesc* images;
  const Tile* tiles;
  const int32_t* tables;
  const float* lut;  // kLutEntries normalisation values (device memory)
  const uint8_t* pixels;
  void* out;
  int out_h, out_w;
  int inter_pitch;    // bytes per intermediate row and plane, a multiple of 8
  int vector_stores;  // out_w % 4 == 0 and out 16-byte aligned: quads store at once
  FastDiv by_width;   // out_w: items of the horizontal pass and direct tiles
  FastDiv by_octets;  // eight-byte groups per plane row: items of the vertical pass
};

// The arguments for a batch that pack_batch laid out at `base` (device memory, or host memory
// where the phases run on the CPU), writing to `out`.
inline KernelArgs kernel_args(const BatchPlan& plan, const uint8_t* base, void* out) {
  const BatchLayout& L = plan.layout;
  KernelArgs a;
  a.images = reinterpret_cast<const ImageDesc*>(base + L.images);
  a.tiles = reinterpret_cast<const Tile*>(base + L.tiles);
  a.tables = reinterpret_cast<const int32_t*>(base + L.tables);
  a.lut = reinterpret_cast<const float*>(base + L.lut);
  a.pixels = base + L.pixels;
  a.out = out;
  a.out_h = L.out_h;
  a.out_w = L.out_w;
  a.inter_pitch = L.inter_pitch;
  a.vector_stores = L.out_w % 4 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
  a.by_width = FastDiv(static_cast<uint32_t>(L.out_w));
  a.by_octets = FastDiv(static_cast<uint32_t>(octets_per_row(plane_row_length(L.out_w, L.planes == 3))));
  return a;
}

template <typename T>
ROOST_HD T load_ro(const T* p) {
#ifdef __CUDA_ARCH__
  return __ldg(p);  // read-only path: tables and pixels never change during the launch
#else
  return *p;
#endif
}

// 1: clip8 keeps Pillow's upper clamp, which cannot apply (below), as before (for
// comparison in benchmarks/preprocess_variants.sh).
#ifndef ROOST_PREPROCESS_CLAMP
#define ROOST_PREPROCESS_CLAMP 0
#endif

ROOST_HD uint32_t clip8(int32_t acc) {
  // Pillow's clip8 of acc = 2^21 + the sum of bytes times a window's coefficients. Those
  // are never negative (append_axis_table checks), and the staged and global-source tiles
  // only see windows that sum to at most kMaxWindowWeight (plan_batch makes the tiles of an
  // image with heavier ones direct), so there 2^21 <= acc < 256 * 2^22 and neither clamp
  // can apply: one shift and no min for every value the two passes round.
  static_assert(255 * static_cast<int64_t>(kMaxWindowWeight) + kHalf < (int64_t{256} << data::kResamplePrecisionBits),
                "a window's weight must keep its rounded value below 256");
  const uint32_t v = static_cast<uint32_t>(acc) >> data::kResamplePrecisionBits;
  return ROOST_PREPROCESS_CLAMP && v > 255u ? 255u : v;
}

// Pillow's clip8 with its clamp (acc >= 2^21 still): direct tiles, which serve any window.
ROOST_HD uint32_t clip8_clamped(int32_t acc) {
  const uint32_t v = clip8(acc);
  return v < 255u ? v : 255u;
}

// Byte j (0..3) of w, zero-extended: one PRMT on the device instead of a shift and a mask.
ROOST_HD uint32_t byte_of(uint32_t w, int j) {
#ifdef __CUDA_ARCH__
  return __byte_perm(w, 0u, 0x4440u | static_cast<uint32_t>(j));
#else
  return (w >> (8 * j)) & 0xFFu;
#endif
}

// The output value of channel `channel` for resized byte v, in the output type.
template <typename OutT>
ROOST_HD OutT to_output(uint32_t v, int channel, const float* lut) {
  if constexpr (std::is_same<OutT, uint8_t>::value) {
    (void)channel;
    (void)lut;
    return static_cast<uint8_t>(v);
  } else if constexpr (std::is_same<OutT, float>::value) {
    return lut[channel * 256 + v];
#ifdef __CUDACC__
  } else if constexpr (std::is_same<OutT, __nv_bfloat16>::value) {
    return __float2bfloat16_rn(lut[channel * 256 + v]);
  } else {
    static_assert(std::is_same<OutT, __half>::value, "unsupported output type");
    return __float2half_rn(lut[channel * 256 + v]);
#endif
  }
}

template <typename T>
struct alignas(4 * sizeof(T)) Quad {
  T v[4];
};

struct alignas(8) Octet {  // eight intermediate bytes, read with one 64-bit shared load
  uint32_t lo, hi;
};

// Element offset of (image, plane, row) in the output: planes are channels for NCHW; for
// NHWC (and uint8 HWC) there is one "plane" whose rows hold out_w * 3 interleaved values.
template <bool kPlanar>
ROOST_HD size_t row_offset(const KernelArgs& a, int image, int plane, int y) {
  if (kPlanar) return (static_cast<size_t>(image * 3 + plane) * a.out_h + y) * a.out_w;
  return (static_cast<size_t>(image) * a.out_h + y) * a.out_w * 3;
}

// Phase 1: packed rows [t.r0, t.r1) → intermediate rows 0 .. rows-1 of every plane.
// `src` holds those packed rows (img.pitch apart), staged in shared memory where addresses
// are 32-bit and loads take immediate offsets: 64-bit global address arithmetic per tap and
// row would cost more issue slots than the multiply-adds (kGlobalSource tiles pay it).
// An item is one output column of kRows consecutive rows: the column's start, tap count and
// each coefficient are loaded once for all of them. Rows past the tile's end repeat its
// last row and are not stored. Two rows need fewer registers than four, which the bound on
// registers below rewards: of rows 2 and 4 under a six-block bound, 2 was faster.
#ifndef ROOST_PREPROCESS_ROWS
#define ROOST_PREPROCESS_ROWS 2
#endif
constexpr int kRows = ROOST_PREPROCESS_ROWS;
// 1: the horizontal pass reads its source as aligned 32-bit words, four taps (twelve bytes)
// per three loads, and takes the bytes apart in registers; 0: one byte load per byte, kept
// for comparison. Shared memory serves one load instruction per cycle per SM against four
// issued instructions, so byte loads made it the busiest unit (Nsight Compute: L1/shared the
// highest throughput). On an H100 words took 0.142 / 0.505 ms at a batch of 256 / 1024
// against 0.146 / 0.520 for bytes (six blocks per SM), and 0.137 / 0.491 ms at five blocks;
// padding the last step to four taps with zero coefficients instead of a three-tap step
// took 0.155 / 0.547 (benchmarks/results/gpu-h100.md, sixth run).
#ifndef ROOST_PREPROCESS_HWORDS
#define ROOST_PREPROCESS_HWORDS 1
#endif
constexpr bool kHWords = ROOST_PREPROCESS_HWORDS != 0;
// 1: the word path loads a group of four coefficients with one 16-byte load; 0: with four
// 4-byte loads, as before (for comparison; the tables are grouped either way, so each of
// those loads now spans four times the bytes across a warp that it did from the tap-major
// table before).
#ifndef ROOST_PREPROCESS_HVEC
#define ROOST_PREPROCESS_HVEC 1
#endif

// The pair {start, count} of a table's output (8-byte aligned).
ROOST_HD void load_window(const int32_t* p, int& c0, int& n) {
#ifdef __CUDA_ARCH__
  const int2 w = __ldg(reinterpret_cast<const int2*>(p));
  c0 = w.x;
  n = w.y;
#else
  c0 = p[0];
  n = p[1];
#endif
}

// The four coefficients of a group at p (16-byte aligned).
ROOST_HD void load_group(const int32_t* p, int32_t (&c)[4]) {
#if defined(__CUDA_ARCH__) && ROOST_PREPROCESS_HVEC
  const int4 g = __ldg(reinterpret_cast<const int4*>(p));
  c[0] = g.x;
  c[1] = g.y;
  c[2] = g.z;
  c[3] = g.w;
#else
  for (int t = 0; t < 4; ++t) c[t] = load_ro(p + t);
#endif
}

// The 4-byte word at p, which is 4-byte aligned.
ROOST_HD uint32_t load_word(const uint8_t* p) {
#ifdef __CUDA_ARCH__
  return *reinterpret_cast<const uint32_t*>(p);
#else
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
#endif
}

// Bytes shift/8 .. shift/8 + 3 of the little-endian pair (lo, hi), shift in {0, 8, 16, 24}.
ROOST_HD uint32_t funnel_right(uint32_t lo, uint32_t hi, uint32_t shift) {
#ifdef __CUDA_ARCH__
  return __funnelshift_r(lo, hi, shift);
#else
  return static_cast<uint32_t>(((static_cast<uint64_t>(hi) << 32) | lo) >> shift);
#endif
}

// m (1-4) taps of one row from words: the stream of bytes that starts `shift` bits into the
// word `lo` (at q) and runs on through the words after it holds taps k .. k+m-1, R G B each.
// Reads the words at q + 4 .. q + 4 * ceil((3m + 3) / 4) - 4 and returns the last one (the
// next step's first word when m is 4).
template <int m>
ROOST_HD uint32_t taps_from_words(const uint8_t* q, uint32_t lo, uint32_t shift, const int32_t (&c)[4],
                                  int32_t (&acc)[3]) {
  const uint32_t w1 = load_word(q + 4);
  const uint32_t w2 = m >= 2 ? load_word(q + 8) : 0u;
  const uint32_t w3 = m == 4 ? load_word(q + 12) : 0u;
  const uint32_t a[3] = {funnel_right(lo, w1, shift), m >= 2 ? funnel_right(w1, w2, shift) : 0u,
                         m >= 3 ? funnel_right(w2, w3, shift) : 0u};
  for (int t = 0; t < m; ++t)
    for (int ch = 0; ch < 3; ++ch)
      acc[ch] += static_cast<int32_t>(byte_of(a[(3 * t + ch) / 4], (3 * t + ch) % 4)) * c[t];
  return w3;
}

// One item's taps over kRows rows, reading words: each row's window (3 * n bytes from
// column byte c0) is read as the aligned words from c0 rounded down, four taps per step,
// and the last one to three taps in a three-tap step, so that n = 2 or 3 (upscaling and
// mild downscaling, the common counts) does not pay for four. `coef` is the item's first
// group of four coefficients, the next `group_stride` entries on; every step loads a whole
// group: the tables hold round_up(taps, 4), zero past each count.
// Reads past a window: after a four-tap step, the next step's first word (at most 4 - mis
// bytes past the window's end); the last step reads its words up to q + 12, at most 9 bytes
// past (n % 4 = 1, mis = 0). The layout pads by kReadPastRows.
static_assert(kTapGroup == 4 && kReadPastRows >= 9, "the layout's padding for the word reads");
ROOST_HD void horizontal_taps_words(const uint8_t* const (&row)[kRows], int c0, int n, const int32_t* coef,
                                    int group_stride, int32_t (&acc)[kRows][3]) {
  const int mis = c0 & 3;
  const uint32_t shift = 8u * static_cast<uint32_t>(mis);
  const uint8_t* q[kRows];
  uint32_t lo[kRows];
  for (int j = 0; j < kRows; ++j) {
    q[j] = row[j] + (c0 - mis);
    lo[j] = load_word(q[j]);
  }
  const int full = n / 4 * 4;
  int k = 0;
  for (; k < full; k += 4, coef += group_stride) {
    int32_t c[4];
    load_group(coef, c);
    for (int j = 0; j < kRows; ++j) {
      lo[j] = taps_from_words<4>(q[j], lo[j], shift, c, acc[j]);
      q[j] += 12;
    }
  }
  if (k < n) {
    int32_t c[4];
    load_group(coef, c);
    for (int j = 0; j < kRows; ++j) taps_from_words<3>(q[j], lo[j], shift, c, acc[j]);
  }
}

template <bool kPlanar>
ROOST_HD void store_intermediate(const KernelArgs& a, uint8_t* inter, int rows, int r, int x, int32_t s0, int32_t s1,
                                 int32_t s2) {
  if (kPlanar) {
    const int plane = rows * a.inter_pitch;
    uint8_t* d = inter + r * a.inter_pitch + x;
    d[0] = static_cast<uint8_t>(clip8(s0));
    d[plane] = static_cast<uint8_t>(clip8(s1));
    d[2 * plane] = static_cast<uint8_t>(clip8(s2));
  } else {
    uint8_t* d = inter + r * a.inter_pitch + 3 * x;
    d[0] = static_cast<uint8_t>(clip8(s0));
    d[1] = static_cast<uint8_t>(clip8(s1));
    d[2] = static_cast<uint8_t>(clip8(s2));
  }
}

template <bool kPlanar>
ROOST_HD void horizontal_tile(const KernelArgs& a, const ImageDesc& img, const Tile& t, const uint8_t* src,
                              uint8_t* inter, uint32_t tid, uint32_t threads) {
  const int rows = t.r1 - t.r0;
  const int32_t* hwindow = a.tables + img.h_table;
  const int32_t* hcoef = hwindow + grouped_coef_offset(a.out_w);
  const FastDiv by_width = kDeviceDiv ? FastDiv(static_cast<uint32_t>(a.out_w)) : a.by_width;
  const uint32_t items = static_cast<uint32_t>((rows + kRows - 1) / kRows) * a.out_w;
  for (uint32_t i = tid; i < items; i += threads) {
    const int group = static_cast<int>(by_width.div(i));
    const int x = static_cast<int>(i - static_cast<uint32_t>(group) * a.out_w);
    const int r = group * kRows;
    int c0, n;  // the window's first byte in a packed row, and its taps
    load_window(hwindow + 2 * x, c0, n);
    const uint8_t* p[kRows];
    for (int j = 0; j < kRows; ++j) p[j] = src + (r + j < rows ? r + j : rows - 1) * img.pitch;
    int32_t acc[kRows][3];
    for (int j = 0; j < kRows; ++j) acc[j][0] = acc[j][1] = acc[j][2] = kHalf;
    if (kHWords) {
      horizontal_taps_words(p, c0, n, hcoef + 4 * x, 4 * a.out_w, acc);
    } else {
      for (int j = 0; j < kRows; ++j) p[j] += c0;
      for (int k = 0; k < n; ++k) {
        const int32_t c = load_ro(hcoef + grouped_coef_index(k, x, a.out_w));
        for (int j = 0; j < kRows; ++j) {
          acc[j][0] += static_cast<int32_t>(p[j][3 * k]) * c;
          acc[j][1] += static_cast<int32_t>(p[j][3 * k + 1]) * c;
          acc[j][2] += static_cast<int32_t>(p[j][3 * k + 2]) * c;
        }
      }
    }
    for (int j = 0; j < kRows; ++j)
      if (r + j < rows) store_intermediate<kPlanar>(a, inter, rows, r + j, x, acc[j][0], acc[j][1], acc[j][2]);
  }
}

// Phase 2: intermediate → output rows [t.y0, t.y1). An item is eight consecutive bytes of
// an intermediate row: one 64-bit shared load per tap feeds eight outputs, and the row's
// coefficient (staged in shared memory, row-major) is loaded once for all eight. Stores go
// out as two quads (16 bytes each for float32) when aligned.
template <typename OutT, bool kPlanar>
ROOST_HD void store_quad(const KernelArgs& a, OutT* out, const uint32_t (&v)[4], int e0, int length, int plane,
                         const float* lut) {
  if (a.vector_stores && e0 + 3 < length) {
    Quad<OutT> quad;
    for (int j = 0; j < 4; ++j) quad.v[j] = to_output<OutT>(v[j], kPlanar ? plane : (e0 + j) % 3, lut);
    *reinterpret_cast<Quad<OutT>*>(out) = quad;
  } else {
    for (int j = 0; j < 4 && e0 + j < length; ++j) out[j] = to_output<OutT>(v[j], kPlanar ? plane : (e0 + j) % 3, lut);
  }
}

template <typename OutT, bool kPlanar>
ROOST_HD void vertical_tile(const KernelArgs& a, const ImageDesc& img, const Tile& t, const uint8_t* inter,
                            const int32_t* coefficients, const float* lut, uint32_t tid, uint32_t threads) {
  const int rows = t.r1 - t.r0;
  const int tile_rows = t.y1 - t.y0;
  const int length = plane_row_length(a.out_w, kPlanar);
  const int octets = octets_per_row(length);
  const int32_t* vwindow = a.tables + img.v_table;
  const FastDiv by_octets = kDeviceDiv ? FastDiv(static_cast<uint32_t>(octets)) : a.by_octets;
  const uint32_t items = static_cast<uint32_t>((kPlanar ? 3 : 1) * tile_rows) * octets;
  // Three planes at most: two comparisons find a row's plane, no divider per tile.
  const uint32_t rows_u = static_cast<uint32_t>(tile_rows);
  const FastDiv by_rows = kDeviceDiv ? FastDiv(rows_u) : FastDiv();
  OutT* const image_out = static_cast<OutT*>(a.out) + row_offset<kPlanar>(a, t.image, 0, 0);
  for (uint32_t i = tid; i < items; i += threads) {
    const uint32_t plane_row = by_octets.div(i);
    const int o = static_cast<int>(i - plane_row * octets);
    const int plane = !kPlanar     ? 0
                      : kDeviceDiv ? static_cast<int>(by_rows.div(plane_row))
                                   : (plane_row >= rows_u) + (plane_row >= 2 * rows_u);
    const int y = t.y0 + static_cast<int>(plane_row - static_cast<uint32_t>(plane) * tile_rows);
    int first, n;  // the window's first packed row, and its taps
    load_window(vwindow + 2 * y, first, n);
    const uint8_t* col = inter + (plane * rows + (first - t.r0)) * a.inter_pitch + 8 * o;
    int32_t acc[8];
    for (int j = 0; j < 8; ++j) acc[j] = kHalf;
    const int32_t* coef = coefficients + (y - t.y0) * img.taps_v;
#ifdef __CUDA_ARCH__
#pragma unroll 4
#endif
    for (int k = 0; k < n; ++k, col += a.inter_pitch) {
      const Octet w = *reinterpret_cast<const Octet*>(col);
      const int32_t c = coef[k];
      for (int j = 0; j < 4; ++j) {
        acc[j] += static_cast<int32_t>(byte_of(w.lo, j)) * c;
        acc[4 + j] += static_cast<int32_t>(byte_of(w.hi, j)) * c;
      }
    }
    const int e0 = 8 * o;
    // 32-bit within the image: 3 * 16384^2 elements at most (plan_batch checks the size).
    OutT* out = image_out + static_cast<uint32_t>((kPlanar ? plane * a.out_h + y : y) * length + e0);
    const uint32_t lo[4] = {clip8(acc[0]), clip8(acc[1]), clip8(acc[2]), clip8(acc[3])};
    const uint32_t hi[4] = {clip8(acc[4]), clip8(acc[5]), clip8(acc[6]), clip8(acc[7])};
    store_quad<OutT, kPlanar>(a, out, lo, e0, length, plane, lut);
    if (e0 + 4 < length) store_quad<OutT, kPlanar>(a, out + 4, hi, e0 + 4, length, plane, lut);
  }
}

// Fallback for a tile whose intermediate exceeds shared memory: each item is one output
// pixel, computing its intermediate column on the fly (same roundings, more arithmetic).
template <typename OutT, bool kPlanar>
ROOST_HD void direct_tile(const KernelArgs& a, const ImageDesc& img, const Tile& t, const float* lut, uint32_t tid,
                          uint32_t threads) {
  const int32_t* hwindow = a.tables + img.h_table;
  const int32_t* hcoef = hwindow + grouped_coef_offset(a.out_w);
  const int32_t* vwindow = a.tables + img.v_table;
  const int32_t* vcoef = vwindow + grouped_coef_offset(a.out_h);
  const FastDiv by_width = kDeviceDiv ? FastDiv(static_cast<uint32_t>(a.out_w)) : a.by_width;
  const uint32_t items = static_cast<uint32_t>(t.y1 - t.y0) * a.out_w;
  for (uint32_t i = tid; i < items; i += threads) {
    const int yy = static_cast<int>(by_width.div(i));
    const int x = static_cast<int>(i - static_cast<uint32_t>(yy) * a.out_w);
    const int y = t.y0 + yy;
    int c0, hn;
    load_window(hwindow + 2 * x, c0, hn);
    int first, vn;
    load_window(vwindow + 2 * y, first, vn);
    const uint8_t* src = a.pixels + img.pixels + static_cast<size_t>(first) * img.pitch + c0;
    int32_t acc[3] = {kHalf, kHalf, kHalf};
    for (int k = 0; k < vn; ++k) {
      const uint8_t* p = src + static_cast<size_t>(k) * img.pitch;
      int32_t s0 = kHalf, s1 = kHalf, s2 = kHalf;
      for (int j = 0; j < hn; ++j, p += 3) {
        const int32_t c = load_ro(hcoef + grouped_coef_index(j, x, a.out_w));
        s0 += static_cast<int32_t>(load_ro(p)) * c;
        s1 += static_cast<int32_t>(load_ro(p + 1)) * c;
        s2 += static_cast<int32_t>(load_ro(p + 2)) * c;
      }
      const int32_t cv = load_ro(vcoef + grouped_coef_index(k, y, a.out_h));
      acc[0] += static_cast<int32_t>(clip8_clamped(s0)) * cv;
      acc[1] += static_cast<int32_t>(clip8_clamped(s1)) * cv;
      acc[2] += static_cast<int32_t>(clip8_clamped(s2)) * cv;
    }
    for (int c = 0; c < 3; ++c) {
      const size_t offset = row_offset<kPlanar>(a, t.image, kPlanar ? c : 0, y) + (kPlanar ? x : 3 * x + c);
      static_cast<OutT*>(a.out)[offset] = to_output<OutT>(clip8_clamped(acc[c]), c, lut);
    }
  }
}

// The least b with 2^b >= n, for n >= 1.
ROOST_HD uint32_t ceil_log2(uint32_t n) {
#ifdef __CUDA_ARCH__
  return 32u - static_cast<uint32_t>(__clz(static_cast<int>(n - 1)));
#else
  uint32_t b = 0;
  while ((uint32_t{1} << b) < n) ++b;
  return b;
#endif
}

// Copies the vertical coefficients of the tile's output rows to `dst`, row-major
// ([row][tap], taps_v per row, zero past each row's count) so that the vertical pass reads
// them with 32-bit shared addresses that unrolling turns into immediates. Item i is tap
// t = i % 4 of a group of four and row (i / 4) % 2^bits, 2^bits >= tile_rows, of group
// i / 2^(bits + 2): neighbouring threads read neighbouring words of the grouped table, and
// a shift and a mask stand in for a division; the items past the tile or the taps do nothing.
ROOST_HD void stage_vertical_coefficients(const KernelArgs& a, const ImageDesc& img, const Tile& t, int32_t* dst,
                                          uint32_t tid, uint32_t threads) {
  const int32_t* vcoef = a.tables + img.v_table + grouped_coef_offset(a.out_h);
  const uint32_t tile_rows = static_cast<uint32_t>(t.y1 - t.y0);
  const uint32_t taps = static_cast<uint32_t>(img.taps_v), groups = (taps + 3) / 4;
  const uint32_t bits = kDeviceDiv ? 0 : ceil_log2(tile_rows);
  const uint32_t rows_in_items = kDeviceDiv ? tile_rows : 1u << bits;
  const uint32_t items = groups * rows_in_items * 4;
  for (uint32_t i = tid; i < items; i += threads) {
    uint32_t group, row;
    if (kDeviceDiv) {  // the way before: a division per item
      group = (i / 4) / tile_rows;
      row = i / 4 - group * tile_rows;
    } else {
      group = i >> (bits + 2);
      row = (i >> 2) & (rows_in_items - 1);
    }
    const uint32_t k = 4 * group + (i & 3);
    if (row < tile_rows && k < taps) {
      const int y = t.y0 + static_cast<int>(row);
      dst[row * taps + k] = load_ro(vcoef + grouped_coef_index(static_cast<int>(k), y, a.out_h));
    }
  }
}

// Shared memory of a tile: [normalisation table][vertical coefficients][intermediate]
// [staged source rows], each part a multiple of 16 bytes.
ROOST_HD int coefficient_bytes(int tile_rows, int taps) { return (tile_rows * taps * 4 + 15) / 16 * 16; }

ROOST_HD int intermediate_bytes(int rows, int planes, int inter_pitch) {
  return (rows * planes * inter_pitch + 15) / 16 * 16;
}

#ifdef __CUDACC__
// Blocks per SM the register allocation must allow (benchmarks/preprocess_variants.sh, H100,
// rows 2). With byte loads, 6 (at most 40 registers, a few bytes spilled) was 3% faster at a
// batch of 256 and 7% at 1024 than no bound (48 registers, 5 blocks). With word loads, 5
// (at most 48 registers) is 3.5% and 2.8% faster than 6: 0.137 / 0.491 ms.
#ifndef ROOST_PREPROCESS_MIN_BLOCKS
#define ROOST_PREPROCESS_MIN_BLOCKS 5
#endif
template <typename OutT, bool kPlanar>
__global__ void __launch_bounds__(kThreads, ROOST_PREPROCESS_MIN_BLOCKS) preprocess_kernel(const KernelArgs a) {
  constexpr bool kNormalize = !std::is_same<OutT, uint8_t>::value;
  extern __shared__ __align__(16) uint8_t shared[];
  const Tile t = a.tiles[blockIdx.x];
  const ImageDesc img = a.images[t.image];
  float* lut = reinterpret_cast<float*>(shared);
  // The table in 16-byte pieces (both copies are 16-byte aligned): one load and one store
  // for each of the first 192 threads.
  static_assert(kLutEntries % 4 == 0, "the normalisation table copies as float4");
  if (kNormalize)
    for (int i = threadIdx.x; i < kLutEntries / 4; i += blockDim.x)
      reinterpret_cast<float4*>(lut)[i] = __ldg(reinterpret_cast<const float4*>(a.lut) + i);
  if (t.mode == kDirect) {  // uniform across the block: no barrier below is skipped by some
    if (kNormalize) __syncthreads();
    direct_tile<OutT, kPlanar>(a, img, t, lut, threadIdx.x, blockDim.x);
    return;
  }
  const int rows = t.r1 - t.r0;
  int32_t* coefficients = reinterpret_cast<int32_t*>(shared + (kNormalize ? kLutBytes : 0));
  stage_vertical_coefficients(a, img, t, coefficients, threadIdx.x, blockDim.x);
  uint8_t* inter = reinterpret_cast<uint8_t*>(coefficients) + coefficient_bytes(t.y1 - t.y0, img.taps_v);
  // The tile's packed rows are one contiguous, 16-byte aligned run of device memory.
  const uint8_t* rows_in_device = a.pixels + img.pixels + static_cast<size_t>(t.r0) * img.pitch;
  if (t.mode == kStaged) {
    uint8_t* src = inter + intermediate_bytes(rows, kPlanar ? 3 : 1, a.inter_pitch);
    const uint4* from = reinterpret_cast<const uint4*>(rows_in_device);
    uint4* to = reinterpret_cast<uint4*>(src);
    const int words = rows * img.pitch / 16;
    // Asynchronous copies (sm_80+): every word is in flight at once and no register holds
    // it on the way, so the copy waits for device memory about once per tile.
    for (int i = threadIdx.x; i < words; i += blockDim.x) {
#if __CUDA_ARCH__ >= 800
      const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(to + i));
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(from + i));
#else
      to[i] = __ldg(from + i);
#endif
    }
#if __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_all;\n" ::);
#endif
    __syncthreads();
    horizontal_tile<kPlanar>(a, img, t, src, inter, threadIdx.x, blockDim.x);
  } else {
    horizontal_tile<kPlanar>(a, img, t, rows_in_device, inter, threadIdx.x, blockDim.x);
  }
  __syncthreads();  // also orders the table and coefficients before the vertical pass
  vertical_tile<OutT, kPlanar>(a, img, t, inter, coefficients, lut, threadIdx.x, blockDim.x);
}
#endif

}  // namespace roost::kernels::detail
