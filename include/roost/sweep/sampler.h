// roost/sweep/sampler.h — choosing each trial's parameters: grid (every combination in
// order), random (seeded; trial i's values depend only on the seed and i, so a resumed
// sweep draws what the first would have), and bayesian (TPE, a tree-structured Parzen
// estimator that learns from the trials that have ended).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "roost/sweep/space.h"

namespace roost::sweep {

using Assignment = std::vector<Value>;  // one per dimension, in the order of the space

// A trial that has ended (or at least reported), as the bayesian sampler learns from it.
struct Observation {
  std::vector<double> numbers;  // Value::number per dimension
  double objective = 0;         // its best metric
};

enum class Goal { kMaximize, kMinimize };
Goal parse_goal(const std::string& word);  // max|min; UsageError otherwise

// TPE's settings (the defaults follow Optuna's TPESampler and hyperopt).
struct TpeOptions {
  int startup_trials = 5;  // random draws before the model is used
  double gamma = 0.25;     // the best fraction of observations forms the "good" density
  int candidates = 24;     // draws from the good density, of which the best l/g ratio wins
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // The parameters of trial `index` (0-based), knowing what has ended so far; nullopt when
  // the space is exhausted (grid).
  virtual std::optional<Assignment> next(int index, const std::vector<Observation>& ended) = 0;
  // How many distinct trials the sampler can give (grid), or nullopt (unbounded).
  virtual std::optional<int> size() const { return std::nullopt; }
};

std::unique_ptr<Sampler> make_sampler(const std::string& name, const std::vector<Dimension>& space, uint64_t seed,
                                      Goal goal, const TpeOptions& tpe = {});

// The seed of trial `index`'s own generator (stream: which use of it, so uses do not share draws).
uint64_t trial_seed(uint64_t seed, int index, uint64_t stream = 0);
// The uniform draws of trial `index` under `seed`: a generator of its own per trial.
std::vector<double> trial_uniforms(uint64_t seed, int index, size_t count, uint64_t stream = 0);

}  // namespace roost::sweep
