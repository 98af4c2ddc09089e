// sampler.cc — the grid and random samplers, per-trial random streams, and the factory.
#include "roost/sweep/sampler.h"

#include <algorithm>
#include <random>

#include "roost/core/error.h"

namespace roost::sweep {

std::unique_ptr<Sampler> make_tpe_sampler(const std::vector<Dimension>& space, uint64_t seed, Goal goal,
                                          const TpeOptions& tpe);  // tpe_sampler.cc

namespace {
// splitmix64: decorrelates the seeds of neighbouring trials.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class GridSampler : public Sampler {
 public:
  explicit GridSampler(const std::vector<Dimension>& space) {
    for (const auto& d : space) axes_.push_back(grid_values(d));
    // Capped: a grid that large is never run to its end, and the product must not overflow.
    for (const auto& a : axes_) total_ = std::min<int64_t>(total_ * static_cast<int64_t>(a.size()), 1 << 30);
  }
  // The first dimension varies slowest, as nested loops written in the order of --param.
  std::optional<Assignment> next(int index, const std::vector<Observation>&) override {
    if (index >= total_) return std::nullopt;
    Assignment out(axes_.size());
    int64_t rest = index;
    for (size_t k = axes_.size(); k-- > 0;) {
      out[k] = axes_[k][rest % axes_[k].size()];
      rest /= static_cast<int64_t>(axes_[k].size());
    }
    return out;
  }
  std::optional<int> size() const override { return static_cast<int>(total_); }

 private:
  std::vector<std::vector<Value>> axes_;
  int64_t total_ = 1;
};

class RandomSampler : public Sampler {
 public:
  RandomSampler(const std::vector<Dimension>& space, uint64_t seed) : space_(space), seed_(seed) {}
  std::optional<Assignment> next(int index, const std::vector<Observation>&) override {
    const std::vector<double> u = trial_uniforms(seed_, index, space_.size());
    Assignment out;
    for (size_t k = 0; k < space_.size(); ++k) out.push_back(value_at(space_[k], u[k]));
    return out;
  }

 private:
  std::vector<Dimension> space_;
  uint64_t seed_;
};
}  // namespace

Goal parse_goal(const std::string& word) {
  if (word == "max" || word == "maximize") return Goal::kMaximize;
  if (word == "min" || word == "minimize") return Goal::kMinimize;
  ROOST_USAGE_ERROR("--goal ", word, ": use max or min");
}

uint64_t trial_seed(uint64_t seed, int index, uint64_t stream) {
  return mix(mix(seed) ^ mix(static_cast<uint64_t>(index) + (stream << 32)));
}

std::vector<double> trial_uniforms(uint64_t seed, int index, size_t count, uint64_t stream) {
  std::mt19937_64 gen(trial_seed(seed, index, stream));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> out(count);
  for (auto& v : out) v = u(gen);
  return out;
}

std::unique_ptr<Sampler> make_sampler(const std::string& name, const std::vector<Dimension>& space, uint64_t seed,
                                      Goal goal, const TpeOptions& tpe) {
  if (name == "grid") return std::make_unique<GridSampler>(space);
  if (name == "random") return std::make_unique<RandomSampler>(space, seed);
  if (name == "bayesian" || name == "tpe") return make_tpe_sampler(space, seed, goal, tpe);
  ROOST_USAGE_ERROR("--sampling ", name, ": use grid, random or bayesian");
}

}  // namespace roost::sweep
