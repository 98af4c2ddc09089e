// roost/data/resize.cc — the CPU reference of roost's preprocessing: Pillow's antialiased
// bilinear resampling (ImagingResample with the BILINEAR filter, 8 bits per channel),
// reproduced operation for operation so that the result equals PIL's byte for byte.
//
// Pillow resizes in two separable passes: a horizontal pass over the source rows into a
// uint8 image, then a vertical pass over that image. Both passes use integer weights with
// 22 fractional bits. torchvision crops first (PIL's Image.crop) and then resizes the crop,
// so the resampling filter clamps at the crop's edges: every index here is relative to the
// plan's box. Only the source rows and intermediate columns that the kept window reads are
// computed; each output value depends on its own taps alone, so the result is unchanged.
//
// On x86-64 both passes run with SSE2 (part of the x86-64 baseline, so no dispatch) and
// produce exactly the integers of the scalar reference kept below, which other
// architectures use and the tests compare against.
#include "roost/data/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "roost/core/error.h"

namespace roost::data {

namespace {

// Pillow's bilinear filter: a triangle of support 1.
double triangle(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

uint8_t clip8(int32_t acc) {
  // Pillow's clip8: the accumulator carries 22 fraction bits; negative sums clamp to 0.
  if (acc <= 0) return 0;
  const int32_t value = acc >> kResamplePrecisionBits;
  return value > 255 ? 255 : static_cast<uint8_t>(value);
}

constexpr int32_t kRoundingHalf = 1 << (kResamplePrecisionBits - 1);

}  // namespace

ResampleAxis resample_axis(int in_size, int out_size) {
  ROOST_CHECK(in_size > 0 && out_size > 0, "resample sizes must be positive, got ", in_size, " -> ", out_size);
  // Pillow takes the box as floats and subtracts them as floats; for integer sizes below
  // 2^24 that is exact, so a double quotient of the integers gives the same scale.
  const double scale = static_cast<double>(static_cast<float>(in_size)) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;  // BILINEAR's support is 1
  ResampleAxis axis;
  axis.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  axis.start.resize(out_size);
  axis.count.resize(out_size);
  axis.coef.assign(static_cast<size_t>(out_size) * axis.taps, 0);

  std::vector<double> weights(axis.taps);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = 0.0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // Pillow truncates towards zero after adding 0.5 ("round the value"), then clamps.
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = triangle((x + xmin - center + 0.5) * ss);
      weights[x] = w;
      ww += w;
    }
    int32_t* k = axis.coef.data() + static_cast<size_t>(xx) * axis.taps;
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? weights[x] / ww : weights[x];
      // normalize_coeffs_8bpc: round half away from zero into 22 fraction bits.
      k[x] = w < 0 ? static_cast<int32_t>(-0.5 + w * (1 << kResamplePrecisionBits))
                   : static_cast<int32_t>(0.5 + w * (1 << kResamplePrecisionBits));
    }
    axis.start[xx] = xmin;
    axis.count[xx] = xmax;
  }
  return axis;
}

void check_plan(int height, int width, const ResizePlan& plan) {
  const CropBox& b = plan.box;
  ROOST_USAGE_CHECK(height > 0 && width > 0, "cannot resize an empty image (", height, "x", width, ")");
  ROOST_USAGE_CHECK(b.height > 0 && b.width > 0 && b.top >= 0 && b.left >= 0 && b.top + b.height <= height &&
                        b.left + b.width <= width,
                    "crop box (top ", b.top, ", left ", b.left, ", ", b.height, "x", b.width, ") is not inside the ",
                    height, "x", width, " image");
  ROOST_USAGE_CHECK(plan.resized_h > 0 && plan.resized_w > 0, "resize target ", plan.resized_h, "x", plan.resized_w,
                    " must be positive");
  ROOST_USAGE_CHECK(plan.out_h > 0 && plan.out_w > 0 && plan.offset_y >= 0 && plan.offset_x >= 0 &&
                        plan.offset_y + plan.out_h <= plan.resized_h && plan.offset_x + plan.out_w <= plan.resized_w,
                    "output window (", plan.offset_y, ", ", plan.offset_x, ", ", plan.out_h, "x", plan.out_w,
                    ") is not inside the resized ", plan.resized_h, "x", plan.resized_w, " image");
}

namespace {

// What both implementations need: the axes and the box rows the kept window reads.
struct Passes {
  ResampleAxis horiz, vert;
  int row_first = 0;  // first box row read
  int rows = 0;       // box rows read (the bounds are monotone in the output index)
};

Passes plan_passes(const Image& source, const ResizePlan& plan) {
  check_plan(source.height, source.width, plan);
  ROOST_CHECK(source.pixels.size() == static_cast<size_t>(source.height) * source.width * 3, "image buffer holds ",
              source.pixels.size(), " bytes, not ", source.height, "x", source.width, "x3");
  Passes p;
  p.horiz = resample_axis(plan.box.width, plan.resized_w);
  p.vert = resample_axis(plan.box.height, plan.resized_h);
  const int last_y = plan.offset_y + plan.out_h - 1;
  p.row_first = p.vert.start[plan.offset_y];
  p.rows = p.vert.start[last_y] + p.vert.count[last_y] - p.row_first;
  return p;
}

Image output_image(const ResizePlan& plan) {
  Image out;
  out.height = plan.out_h;
  out.width = plan.out_w;
  out.pixels.resize(static_cast<size_t>(plan.out_h) * plan.out_w * 3);
  return out;
}

#if defined(__SSE2__)
// The SSE2 passes compute the same integer sums as the reference with 16-bit multiply-adds
// (pmaddwd): each 22-bit coefficient k is split as k = hi * 2^11 + lo with hi, lo < 2^12, the
// two halves are accumulated separately in 32 bits and recombined as (hi_sum << 11) + lo_sum.
// Integer addition is exact and associative, so the result equals Pillow's bit for bit.
constexpr int kSplitBits = 11;

inline int16_t coef_hi(int32_t k) { return static_cast<int16_t>(k >> kSplitBits); }
inline int16_t coef_lo(int32_t k) { return static_cast<int16_t>(k & ((1 << kSplitBits) - 1)); }

// (hi_sum << 11) + lo_sum + rounding, >> 22, saturated to 0..255 by the packs (= clip8).
inline __m128i finish(__m128i hi, __m128i lo) {
  const __m128i sum = _mm_add_epi32(_mm_add_epi32(_mm_slli_epi32(hi, kSplitBits), lo), _mm_set1_epi32(kRoundingHalf));
  return _mm_srai_epi32(sum, kResamplePrecisionBits);
}

// Horizontal pass, two taps per step: the 8 bytes at a tap pair (pixels j, j+1 and two bytes
// of j+2) become the words [r_j r_j+1 g_j g_j+1 b_j b_j+1 x x]; one pmaddwd against
// [k_j k_j+1 k_j k_j+1 k_j k_j+1 0 0] gives the pair's contribution to R, G and B.
// Every column runs the same number of pairs (the most any window column needs, padded with
// zero coefficients): tap counts differ between neighbouring columns, and a loop whose trip
// count changes from pixel to pixel costs more in mispredicted branches than the spare pair.
void horizontal_pass_sse2(const Image& source, const ResizePlan& plan, const Passes& p, uint8_t* inter) {
  const ResampleAxis& h = p.horiz;
  const int out_w = plan.out_w;
  int pairs = 1;
  for (int x = 0; x < out_w; ++x) pairs = std::max(pairs, (h.count[plan.offset_x + x] + 1) / 2);
  // Per window column and tap pair: the hi vector, then the lo vector, 8 words each.
  std::vector<int16_t> coefs(static_cast<size_t>(out_w) * pairs * 16, 0);
  int overrun = 0;  // bytes the loads may read past the end of the box row
  for (int x = 0; x < out_w; ++x) {
    const int xx = plan.offset_x + x;
    const int32_t* k = h.coef.data() + static_cast<size_t>(xx) * h.taps;
    for (int j = 0; j < pairs; ++j) {
      const int32_t k0 = 2 * j < h.count[xx] ? k[2 * j] : 0;
      const int32_t k1 = 2 * j + 1 < h.count[xx] ? k[2 * j + 1] : 0;
      int16_t* c = &coefs[(static_cast<size_t>(x) * pairs + j) * 16];
      for (int lane = 0; lane < 6; lane += 2) {
        c[lane] = coef_hi(k0), c[lane + 1] = coef_hi(k1);
        c[8 + lane] = coef_lo(k0), c[8 + lane + 1] = coef_lo(k1);
      }
    }
    overrun = std::max(overrun, (h.start[xx] + 2 * pairs) * 3 + 2 - plan.box.width * 3);
  }
  // Bytes read past the box row meet zero coefficients. Where the image holds that many
  // bytes after the row (pixels to the right, the next rows) they are read in place; near
  // the end of the image the row is first copied into a zero-padded buffer.
  const size_t row_bytes = static_cast<size_t>(plan.box.width) * 3;
  const size_t image_bytes = source.pixels.size();
  std::vector<uint8_t> padded(row_bytes + std::max(overrun, 0) + 16, 0);
  const __m128i zero = _mm_setzero_si128();
  for (int r = 0; r < p.rows; ++r) {
    const uint8_t* row = source.row(plan.box.top + p.row_first + r) + plan.box.left * 3;
    const size_t row_end = static_cast<size_t>(row - source.pixels.data()) + row_bytes;
    if (overrun > 0 && image_bytes - row_end < static_cast<size_t>(overrun)) {
      std::memcpy(padded.data(), row, row_bytes);
      row = padded.data();
    }
    uint8_t* dst = inter + static_cast<size_t>(r) * out_w * 3;
    // Flip here rather than after the vertical pass (that pass treats columns independently,
    // so mirroring the intermediate columns mirrors the output). Destinations are visited in
    // increasing order so each 4-byte store's spare byte is overwritten by the next pixel.
    for (int d = 0; d < out_w; ++d) {
      const int x = plan.flip ? out_w - 1 - d : d;
      const uint8_t* src = row + h.start[plan.offset_x + x] * 3;
      const int16_t* c = &coefs[static_cast<size_t>(x) * pairs * 16];
      __m128i hi = zero, lo = zero;
      for (int j = 0; j < pairs; ++j, src += 6, c += 16) {
        const __m128i w = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src)), zero);
        const __m128i pair = _mm_unpacklo_epi16(w, _mm_srli_si128(w, 6));
        hi = _mm_add_epi32(hi, _mm_madd_epi16(pair, _mm_loadu_si128(reinterpret_cast<const __m128i*>(c))));
        lo = _mm_add_epi32(lo, _mm_madd_epi16(pair, _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + 8))));
      }
      __m128i v = finish(hi, lo);
      v = _mm_packus_epi16(_mm_packs_epi32(v, v), zero);
      const int32_t rgb = _mm_cvtsi128_si32(v);
      std::memcpy(dst + d * 3, &rgb, 4);  // the buffer has 4 spare bytes at its end
    }
  }
}

// Vertical pass, two rows per step: bytes i..i+7 of rows t and t+1 interleave into words
// [a_i b_i a_i+1 b_i+1 ...]; pmaddwd against [k_t k_t+1 ...] sums both rows' terms.
void vertical_pass_sse2(const uint8_t* inter, const ResizePlan& plan, const Passes& p, Image& out) {
  const ResampleAxis& v = p.vert;
  const size_t row_bytes = static_cast<size_t>(plan.out_w) * 3;
  const size_t vector_end = row_bytes & ~size_t{7};
  const __m128i zero = _mm_setzero_si128();
  // Per tap pair of the current output row: the (hi, lo) word pairs, as 32-bit patterns.
  std::vector<int32_t> coefs(static_cast<size_t>(v.taps + 1));
  auto words = [](int16_t a, int16_t b) {
    return static_cast<int32_t>(static_cast<uint16_t>(a) | (static_cast<uint32_t>(static_cast<uint16_t>(b)) << 16));
  };
  for (int y = 0; y < plan.out_h; ++y) {
    const int yy = plan.offset_y + y, n = v.count[yy], pairs = (n + 1) / 2;
    const int32_t* k = v.coef.data() + static_cast<size_t>(yy) * v.taps;
    const uint8_t* first = inter + static_cast<size_t>(v.start[yy] - p.row_first) * row_bytes;
    for (int j = 0; j < pairs; ++j) {
      const int32_t k0 = k[2 * j], k1 = 2 * j + 1 < n ? k[2 * j + 1] : 0;
      coefs[2 * j] = words(coef_hi(k0), coef_hi(k1));
      coefs[2 * j + 1] = words(coef_lo(k0), coef_lo(k1));
    }
    uint8_t* dst = out.row(y);
    for (size_t i = 0; i < vector_end; i += 8) {
      __m128i hi0 = zero, lo0 = zero, hi1 = zero, lo1 = zero;
      for (int j = 0; j < pairs; ++j) {
        const uint8_t* a = first + static_cast<size_t>(2 * j) * row_bytes + i;
        const uint8_t* b = 2 * j + 1 < n ? a + row_bytes : a;  // odd count: weight 0
        const __m128i ra = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a)), zero);
        const __m128i rb = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b)), zero);
        const __m128i low = _mm_unpacklo_epi16(ra, rb), high = _mm_unpackhi_epi16(ra, rb);
        const __m128i ch = _mm_set1_epi32(coefs[2 * j]), cl = _mm_set1_epi32(coefs[2 * j + 1]);
        hi0 = _mm_add_epi32(hi0, _mm_madd_epi16(low, ch));
        lo0 = _mm_add_epi32(lo0, _mm_madd_epi16(low, cl));
        hi1 = _mm_add_epi32(hi1, _mm_madd_epi16(high, ch));
        lo1 = _mm_add_epi32(lo1, _mm_madd_epi16(high, cl));
      }
      const __m128i words = _mm_packs_epi32(finish(hi0, lo0), finish(hi1, lo1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + i), _mm_packus_epi16(words, zero));
    }
    for (size_t i = vector_end; i < row_bytes; ++i) {  // the last < 8 bytes of the row
      int32_t acc = kRoundingHalf;
      for (int t = 0; t < n; ++t) acc += first[static_cast<size_t>(t) * row_bytes + i] * k[t];
      dst[i] = clip8(acc);
    }
  }
}
#endif  // __SSE2__

}  // namespace

namespace detail {

Image apply_plan_u8_reference(const Image& source, const ResizePlan& plan) {
  const Passes p = plan_passes(source, plan);
  const ResampleAxis& horiz = p.horiz;
  const ResampleAxis& vert = p.vert;
  const int row_first = p.row_first, rows = p.rows;
  const int out_w = plan.out_w;

  // Horizontal pass: box rows row_first..row_end-1 → window columns, rounded to uint8.
  std::vector<uint8_t> inter(static_cast<size_t>(rows) * out_w * 3);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* src = source.row(plan.box.top + row_first + r) + plan.box.left * 3;
    uint8_t* dst = inter.data() + static_cast<size_t>(r) * out_w * 3;
    for (int x = 0; x < out_w; ++x) {
      const int xx = plan.offset_x + x;
      const int32_t* k = horiz.coef.data() + static_cast<size_t>(xx) * horiz.taps;
      const uint8_t* p = src + horiz.start[xx] * 3;
      int32_t s0 = kRoundingHalf, s1 = kRoundingHalf, s2 = kRoundingHalf;
      for (int t = 0; t < horiz.count[xx]; ++t, p += 3) {
        s0 += p[0] * k[t];
        s1 += p[1] * k[t];
        s2 += p[2] * k[t];
      }
      dst[x * 3 + 0] = clip8(s0);
      dst[x * 3 + 1] = clip8(s1);
      dst[x * 3 + 2] = clip8(s2);
    }
  }

  // Vertical pass over the intermediate rows, then the mirror (flip comes after resize).
  Image out = output_image(plan);
  std::vector<int32_t> acc(static_cast<size_t>(out_w) * 3);
  for (int y = 0; y < plan.out_h; ++y) {
    const int yy = plan.offset_y + y;
    const int32_t* k = vert.coef.data() + static_cast<size_t>(yy) * vert.taps;
    std::fill(acc.begin(), acc.end(), kRoundingHalf);
    for (int t = 0; t < vert.count[yy]; ++t) {
      // Row-major accumulation keeps the inner loop contiguous; integer sums are exact,
      // so the order does not change the result.
      const uint8_t* row = inter.data() + static_cast<size_t>(vert.start[yy] - row_first + t) * out_w * 3;
      for (int i = 0; i < out_w * 3; ++i) acc[i] += row[i] * k[t];
    }
    uint8_t* dst = out.row(y);
    for (int x = 0; x < out_w; ++x) {
      const int dx = plan.flip ? out_w - 1 - x : x;
      for (int c = 0; c < 3; ++c) dst[dx * 3 + c] = clip8(acc[x * 3 + c]);
    }
  }
  return out;
}

}  // namespace detail

Image apply_plan_u8(const Image& source, const ResizePlan& plan) {
#if defined(__SSE2__)
  const Passes p = plan_passes(source, plan);
  std::vector<uint8_t> inter(static_cast<size_t>(p.rows) * plan.out_w * 3 + 4);
  horizontal_pass_sse2(source, plan, p, inter.data());
  Image out = output_image(plan);
  vertical_pass_sse2(inter.data(), plan, p, out);
  return out;
#else
  return detail::apply_plan_u8_reference(source, plan);
#endif
}

void apply_plan_normalized(const Image& source, const ResizePlan& plan, const Normalization& norm, float* out) {
  const Image resized = apply_plan_u8(source, plan);
  const size_t plane = static_cast<size_t>(plan.out_h) * plan.out_w;
  // One table per channel: 256 values, so the per-pixel work is a lookup.
  float table[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) table[c][v] = normalize_u8(static_cast<uint8_t>(v), norm.mean[c], norm.std[c]);
  const uint8_t* p = resized.pixels.data();
  for (size_t i = 0; i < plane; ++i, p += 3) {
    out[i] = table[0][p[0]];
    out[plane + i] = table[1][p[1]];
    out[2 * plane + i] = table[2][p[2]];
  }
}

}  // namespace roost::data
