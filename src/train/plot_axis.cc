// src/train/plot_axis.cc — tick placement and number formatting for the plot axes.
#include "plot_axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace roost::train {

namespace {

// A cap on ticks, so that rounding trouble with extreme values cannot loop for long.
constexpr int kMaxTicks = 40;

// The smallest round step (1, 2, 2.5 or 5 times a power of ten) at least `raw`.
double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1.0;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / power;
  const double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * power;
}

std::string format_number(double v, int decimals, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f%s", decimals, v, suffix);
  return buf;
}

// Labels with the same number of decimals, as few as the step needs; large values are
// shortened with k or M so that throughput labels fit the margin.
std::vector<std::string> tick_labels(const std::vector<double>& ticks, double step) {
  double largest = 0;
  for (double t : ticks) largest = std::max(largest, std::abs(t));
  double divisor = 1;
  const char* suffix = "";
  if (largest >= 1e6 && step >= 1e5) {
    divisor = 1e6, suffix = "M";
  } else if (largest >= 1e4 && step >= 1e3) {
    divisor = 1e3, suffix = "k";
  }
  // As many decimals as the step needs (2.5 needs one, 0.25 two), at most six.
  const double scaled_step = step / divisor;
  int decimals = 0;
  for (double shifted = scaled_step; decimals < 6; ++decimals, shifted *= 10)
    if (std::abs(shifted - std::round(shifted)) < 1e-6 * shifted) break;
  std::vector<std::string> labels;
  bool too_long = false;
  for (double t : ticks) {
    // A tick that is zero up to rounding is printed as 0, not -0.
    const double v = std::abs(t) < step * 1e-6 ? 0.0 : t / divisor;
    labels.push_back(format_number(v, decimals, suffix));
    too_long = too_long || labels.back().size() > 7;
  }
  if (too_long) {
    // Values far from their step (1e9 ± 0.1): the short %g form keeps them readable.
    for (size_t i = 0; i < ticks.size(); ++i) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.3g", ticks[i]);
      labels[i] = buf;
    }
  }
  return labels;
}

}  // namespace

Axis value_axis(const std::vector<double>& values, int target_ticks, double floor, double ceiling) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) lo = 0, hi = 1;
  const double data_lo = lo, data_hi = hi;
  if (lo == hi) {
    // Flat line: a range of ±5% of the value (±0.5 around zero) so the line sits mid-panel.
    const double pad = lo != 0 ? std::abs(lo) * 0.05 : 0.5;
    lo -= pad, hi += pad;
  }
  if (!std::isfinite(hi - lo)) lo = -1e300, hi = 1e300;
  const double step = nice_step((hi - lo) / std::max(target_ticks, 1));
  Axis axis;
  axis.lo = std::floor(lo / step) * step;
  axis.hi = std::ceil(hi / step) * step;
  if (!(axis.lo < axis.hi)) axis.lo = lo, axis.hi = hi;  // step below the values' precision
  // The bounds trim only the padding and rounding around the values, never the values.
  const Axis unbounded = axis;
  if (data_lo >= floor) axis.lo = std::max(axis.lo, floor);
  if (data_hi <= ceiling) axis.hi = std::min(axis.hi, ceiling);
  if (!(axis.lo < axis.hi)) axis = unbounded;  // bounds closer than the flat line's padding
  // Ticks on the multiples of the step inside the range; a bound that is no multiple (none
  // of ours is) would only lose its own tick.
  const double first = std::ceil(axis.lo / step - 1e-9) * step;
  const double n = std::min<double>(std::floor((axis.hi - first) / step + 1e-9), kMaxTicks);
  for (int k = 0; k <= n; ++k) axis.ticks.push_back(first + k * step);
  axis.labels = tick_labels(axis.ticks, step);
  return axis;
}

Axis epoch_axis(int first, int last, int target_ticks) {
  if (last < first) std::swap(first, last);
  Axis axis;
  axis.lo = first, axis.hi = last;
  if (first == last) axis.lo -= 1, axis.hi += 1;
  double step = nice_step((axis.hi - axis.lo) / std::max(target_ticks, 1));
  step = step < 1 ? 1 : step == 2.5 ? 5 : step;  // whole epochs only
  for (double t = std::ceil(axis.lo / step) * step; t <= axis.hi && axis.ticks.size() < kMaxTicks; t += step)
    axis.ticks.push_back(t);
  axis.labels = tick_labels(axis.ticks, step);
  return axis;
}

}  // namespace roost::train
