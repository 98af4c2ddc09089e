// roost/sweep/policy.h — early termination with Azure ML HyperDrive's semantics, evaluated
// each time a trial records its metric for an interval (an epoch). A policy applies at
// interval k when k >= delay_evaluation and k is a multiple of evaluation_interval.
//
//   bandit      best = the best value any trial recorded at an interval <= k. The trial's value
//               at k is outside the slack when, maximizing, it is below best / (1 + slack_factor)
//               (or best - slack_amount); minimizing, above best * (1 + slack_factor) (or best +
//               slack_amount). HyperDrive's example: slack 0.2, best 0.8 → cancelled below 0.667.
//   median      the trial's best value over intervals 1..k is worse than the median, over the
//               other trials that reached k, of their running averages (mean of 1..k).
//   truncation  among the trials that recorded interval k (the trial included), the trial is in
//               the lowest truncation_percentage % by its value at k (floor(n × pct / 100) of
//               them); trials tied with it count as above it, so ties are kept together.
// Pure functions of the curves: the scheduler passes what the store holds at that moment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roost/sweep/sampler.h"

namespace roost::sweep {

enum class PolicyKind { kNone, kBandit, kMedian, kTruncation };

struct PolicyConfig {
  PolicyKind kind = PolicyKind::kNone;
  double slack_factor = 0;  // bandit: one of slack_factor, slack_amount is > 0
  double slack_amount = 0;
  int evaluation_interval = 1;
  int delay_evaluation = 0;
  double truncation_percentage = 0;  // truncation: 1..99
};

PolicyKind parse_policy(const std::string& name);  // none|bandit|median|truncation; UsageError
const char* to_string(PolicyKind kind);
// Checks that the settings the policy needs are given and in range. UsageError naming the option.
void check_policy(const PolicyConfig& config);

// One trial's metric per interval: values[k - 1] is interval k's (NaN where the row lacks it).
struct Curve {
  int64_t trial = 0;
  std::vector<double> values;
};

struct Decision {
  bool cancel = false;
  std::string why;  // for a cancel: the comparison, e.g. "val_acc 0.6 < 0.8 / 1.2 = 0.667"
};

// Whether trial curves[subject] is to be cancelled at interval k (1-based), given every trial's
// curve (the subject's included). No decision before the policy applies or without data at k.
Decision evaluate(const PolicyConfig& config, Goal goal, const std::vector<Curve>& curves, size_t subject, int k);

bool policy_applies(const PolicyConfig& config, int k);

}  // namespace roost::sweep
