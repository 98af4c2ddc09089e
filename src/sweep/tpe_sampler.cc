// tpe_sampler.cc — the bayesian sampler: a tree-structured Parzen estimator (Bergstra et al.
// 2011, as hyperopt and Optuna's TPESampler do it). Each dimension is modelled on its own:
// the ended trials are split into the best `gamma` fraction and the rest, each set becomes a
// density (a mixture of truncated Gaussians on ranges, smoothed counts on choices), and of
// `candidates` draws from the good density the one with the highest good/bad ratio is taken.
#include <algorithm>
#include <cmath>
#include <random>

#include "roost/sweep/sampler.h"

namespace roost::sweep {

namespace {
// A dimension in the coordinates the model works in: choice index, log value, or value; an
// integer or quantized range is widened by half a step so its end values are as likely.
struct Coordinates {
  bool categorical = false;
  double lo = 0, hi = 1;
  int categories = 0;
};

Coordinates coordinates(const Dimension& d) {
  Coordinates c;
  if (d.kind == SpaceKind::kChoice) {
    c.categorical = true;
    c.categories = static_cast<int>(d.choices.size());
    return c;
  }
  const double half = d.kind == SpaceKind::kRandInt ? 0.5 : d.kind == SpaceKind::kQUniform ? d.q / 2 : 0.0;
  c.lo = is_log(d) ? std::log(d.lo) : d.lo - half;
  c.hi = is_log(d) ? std::log(d.hi) : d.hi + half;
  return c;
}

double to_model(const Dimension& d, double number) {
  if (d.kind == SpaceKind::kChoice) {  // the number is the word's value, or the index when it is not a number
    for (size_t i = 0; i < d.choices.size(); ++i)
      if (value_of_number(d, double(i)).number == number) return double(i);
    return 0;
  }
  return is_log(d) ? std::log(number) : number;
}

Value from_model(const Dimension& d, double x) { return value_of_number(d, is_log(d) ? std::exp(x) : x); }

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// A Parzen density over a range: one truncated Gaussian per point plus a wide prior one.
struct Parzen {
  std::vector<double> mu, sigma;
  double lo, hi;

  Parzen(std::vector<double> points, const Coordinates& c) : lo(c.lo), hi(c.hi) {
    const double range = hi - lo;
    std::sort(points.begin(), points.end());
    // Each point's width is its larger gap to a neighbour (or the range's end), kept between
    // range / min(100, n + 1) and the range, so close points sharpen and lone ones stay wide.
    const double floor_sigma = range / std::min(100.0, double(points.size()) + 1);
    for (size_t i = 0; i < points.size(); ++i) {
      const double left = points[i] - (i ? points[i - 1] : lo);
      const double right = (i + 1 < points.size() ? points[i + 1] : hi) - points[i];
      mu.push_back(points[i]);
      sigma.push_back(std::clamp(std::max(left, right), floor_sigma, range));
    }
    mu.push_back((lo + hi) / 2);  // the prior: as wide as the range
    sigma.push_back(range);
  }

  double log_density(double x) const {
    double sum = 0;
    for (size_t i = 0; i < mu.size(); ++i) {
      const double z = (x - mu[i]) / sigma[i];
      const double mass = normal_cdf((hi - mu[i]) / sigma[i]) - normal_cdf((lo - mu[i]) / sigma[i]);
      sum += std::exp(-0.5 * z * z) / (sigma[i] * std::sqrt(2 * M_PI) * std::max(mass, 1e-12));
    }
    return std::log(std::max(sum / mu.size(), 1e-300));
  }

  double draw(std::mt19937_64& gen) const {
    const size_t i = std::uniform_int_distribution<size_t>(0, mu.size() - 1)(gen);
    std::normal_distribution<double> n(mu[i], sigma[i]);
    for (int tries = 0; tries < 100; ++tries) {
      const double x = n(gen);
      if (x >= lo && x <= hi) return x;
    }
    return std::clamp(mu[i], lo, hi);
  }
};

// Smoothed category frequencies (each category starts with a count of one).
std::vector<double> category_weights(const std::vector<double>& points, int categories) {
  std::vector<double> w(categories, 1.0);
  for (double p : points) w[std::clamp(static_cast<int>(std::lround(p)), 0, categories - 1)] += 1;
  double total = 0;
  for (double v : w) total += v;
  for (double& v : w) v /= total;
  return w;
}

double pick_category(const std::vector<double>& good, const std::vector<double>& bad, int candidates,
                     std::mt19937_64& gen) {
  std::discrete_distribution<int> draw(good.begin(), good.end());
  int best = draw(gen);
  for (int k = 1; k < candidates; ++k) {
    const int c = draw(gen);
    if (std::log(good[c]) - std::log(bad[c]) > std::log(good[best]) - std::log(bad[best])) best = c;
  }
  return best;
}

double pick_range(const Parzen& good, const Parzen& bad, int candidates, std::mt19937_64& gen) {
  double best = good.draw(gen), best_score = good.log_density(best) - bad.log_density(best);
  for (int k = 1; k < candidates; ++k) {
    const double x = good.draw(gen), score = good.log_density(x) - bad.log_density(x);
    if (score > best_score) best = x, best_score = score;
  }
  return best;
}

class TpeSampler : public Sampler {
 public:
  TpeSampler(const std::vector<Dimension>& space, uint64_t seed, Goal goal, const TpeOptions& o)
      : space_(space), seed_(seed), goal_(goal), options_(o) {}

  std::optional<Assignment> next(int index, const std::vector<Observation>& ended) override {
    Assignment out;
    if (static_cast<int>(ended.size()) < std::max(1, options_.startup_trials)) {
      const std::vector<double> u = trial_uniforms(seed_, index, space_.size());
      for (size_t k = 0; k < space_.size(); ++k) out.push_back(value_at(space_[k], u[k]));
      return out;
    }
    std::vector<Observation> sorted = ended;
    std::stable_sort(sorted.begin(), sorted.end(), [&](const Observation& a, const Observation& b) {
      return goal_ == Goal::kMaximize ? a.objective > b.objective : a.objective < b.objective;
    });
    const size_t n_good = std::max<size_t>(1, static_cast<size_t>(std::ceil(options_.gamma * sorted.size())));
    std::mt19937_64 gen(trial_seed(seed_, index, 1));
    for (size_t k = 0; k < space_.size(); ++k) out.push_back(sample_dimension(k, sorted, n_good, gen));
    return out;
  }

 private:
  Value sample_dimension(size_t k, const std::vector<Observation>& sorted, size_t n_good, std::mt19937_64& gen) {
    const Dimension& d = space_[k];
    const Coordinates c = coordinates(d);
    std::vector<double> good, bad;
    for (size_t i = 0; i < sorted.size(); ++i) (i < n_good ? good : bad).push_back(to_model(d, sorted[i].numbers[k]));
    if (c.categorical)
      return value_of_number(d, pick_category(category_weights(good, c.categories), category_weights(bad, c.categories),
                                              options_.candidates, gen));
    return from_model(d, pick_range(Parzen(good, c), Parzen(bad, c), options_.candidates, gen));
  }

  std::vector<Dimension> space_;
  uint64_t seed_;
  Goal goal_;
  TpeOptions options_;
};
}  // namespace

std::unique_ptr<Sampler> make_tpe_sampler(const std::vector<Dimension>& space, uint64_t seed, Goal goal,
                                          const TpeOptions& tpe) {
  return std::make_unique<TpeSampler>(space, seed, goal, tpe);
}

}  // namespace roost::sweep
