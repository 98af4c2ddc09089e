// roost/sweep/space.h — a sweep's search space: `--param NAME=SPACE` parsed into one
// dimension per `roost train` option, and the values a trial gets for it.
//
// SPACE is one of
//   choice(a,b,...)      one of the listed words (numbers or not), each equally likely
//   uniform(lo,hi)       a real number in [lo, hi]
//   loguniform(lo,hi)    exp(uniform(log lo, log hi)), 0 < lo < hi
//   quniform(lo,hi,q)    round(uniform(lo,hi) / q) * q
//   randint(lo,hi)       an integer in lo..hi, both included
// A dimension's value is kept as the word the trial's command line gets ("0.0125", "sgd")
// and as a number the samplers and plots work with: the value itself when the word is a
// number, else the choice's index.
#pragma once

#include <string>
#include <vector>

namespace roost::sweep {

enum class SpaceKind { kChoice, kUniform, kLogUniform, kQUniform, kRandInt };

struct Dimension {
  std::string name;  // a `roost train` option without the dashes ("lr")
  SpaceKind kind = SpaceKind::kChoice;
  std::vector<std::string> choices;  // choice
  double lo = 0, hi = 0, q = 0;      // the ranges
  std::string spec;                  // as written, for messages and the store
};

// One dimension's value in a trial.
struct Value {
  std::string word;   // what `--NAME=word` passes
  double number = 0;  // the number behind it (a choice's index when the word is not a number)
};

// "lr=loguniform(1e-4,1e-1)" → a Dimension; UsageError naming the problem in one line.
Dimension parse_dimension(const std::string& text);

// Every --param, checked together: no name twice. UsageError.
std::vector<Dimension> parse_space(const std::vector<std::string>& texts);

// The value of `d` for u in [0, 1) (a uniform draw, mapped through the space's shape).
Value value_at(const Dimension& d, double u);

// The value of `d` whose number is x (a choice index, or a point of the range, clamped and
// rounded as the space requires). Samplers that work on numbers come back through here.
Value value_of_number(const Dimension& d, double x);

// The value of `d` that a trial recorded as `word` (a choice's word, or a number).
Value value_of_word(const Dimension& d, const std::string& word);

// Whether grid sampling can list the dimension, and its values in order (choice: as listed;
// randint: lo..hi; quniform: lo, lo+q, ... up to hi). UsageError for uniform and loguniform.
std::vector<Value> grid_values(const Dimension& d);

// The values that bound the dimension (every choice; lo and hi of a range), for checking
// every trial's options before a sweep starts.
std::vector<Value> boundary_values(const Dimension& d);

// Whether the sampler sees the dimension on a log scale (loguniform).
bool is_log(const Dimension& d);

// Six significant digits ("0.00123457", "64"); a Value's number is always its word read back.
std::string format_number(double v);

}  // namespace roost::sweep
