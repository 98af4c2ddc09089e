// policy.cc — the bandit, median stopping and truncation selection rules (see policy.h).
#include "roost/sweep/policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "roost/core/error.h"

namespace roost::sweep {

namespace {
bool better(Goal g, double a, double b) { return g == Goal::kMaximize ? a > b : a < b; }

bool has(const Curve& c, int k) {
  return k >= 1 && static_cast<int>(c.values.size()) >= k && std::isfinite(c.values[k - 1]);
}

// The best finite value over intervals 1..k; NaN when there is none.
double best_until(Goal g, const Curve& c, int k) {
  double best = NAN;
  for (int i = 0; i < std::min<int>(k, c.values.size()); ++i)
    if (std::isfinite(c.values[i]) && (std::isnan(best) || better(g, c.values[i], best))) best = c.values[i];
  return best;
}

double running_average(const Curve& c, int k) {
  double sum = 0;
  int n = 0;
  for (int i = 0; i < std::min<int>(k, c.values.size()); ++i)
    if (std::isfinite(c.values[i])) sum += c.values[i], ++n;
  return n ? sum / n : NAN;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

Decision bandit(const PolicyConfig& p, Goal g, const std::vector<Curve>& curves, size_t subject, int k) {
  double best = NAN;
  for (const auto& c : curves) {
    const double b = best_until(g, c, k);
    if (std::isfinite(b) && (std::isnan(best) || better(g, b, best))) best = b;
  }
  const double v = curves[subject].values[k - 1];
  const bool max = g == Goal::kMaximize;
  double limit;
  std::string how;
  if (p.slack_factor > 0) {
    limit = max ? best / (1 + p.slack_factor) : best * (1 + p.slack_factor);
    how = num(best) + (max ? " / " : " * ") + num(1 + p.slack_factor);
  } else {
    limit = max ? best - p.slack_amount : best + p.slack_amount;
    how = num(best) + (max ? " - " : " + ") + num(p.slack_amount);
  }
  if (!better(g, limit, v)) return {};
  return {true, num(v) + (max ? " < " : " > ") + how + " = " + num(limit) + " (best so far)"};
}

Decision median(Goal g, const std::vector<Curve>& curves, size_t subject, int k) {
  std::vector<double> averages;
  for (size_t j = 0; j < curves.size(); ++j)
    if (j != subject && has(curves[j], k)) averages.push_back(running_average(curves[j], k));
  if (averages.empty()) return {};
  std::sort(averages.begin(), averages.end());
  const size_t n = averages.size();
  const double med = n % 2 ? averages[n / 2] : (averages[n / 2 - 1] + averages[n / 2]) / 2;
  const double best = best_until(g, curves[subject], k);
  if (!better(g, med, best)) return {};
  return {true, "best " + num(best) + (g == Goal::kMaximize ? " < " : " > ") + "median " + num(med) +
                    " of the running averages of " + std::to_string(n) + " other trials"};
}

Decision truncation(const PolicyConfig& p, Goal g, const std::vector<Curve>& curves, size_t subject, int k) {
  const double v = curves[subject].values[k - 1];
  int pool = 0, worse = 0, tied = 0;
  for (size_t j = 0; j < curves.size(); ++j) {
    if (!has(curves[j], k)) continue;
    ++pool;
    if (j == subject) continue;
    const double w = curves[j].values[k - 1];
    if (better(g, v, w)) ++worse;
    else if (w == v) ++tied;
  }
  const int bottom = static_cast<int>(std::floor(pool * p.truncation_percentage / 100.0 + 1e-9));
  if (worse + tied >= bottom) return {};
  return {true, num(v) + " is in the lowest " + num(p.truncation_percentage) + " % (" + std::to_string(bottom) +
                    " of " + std::to_string(pool) + " trials at this epoch)"};
}
}  // namespace

PolicyKind parse_policy(const std::string& name) {
  if (name == "none") return PolicyKind::kNone;
  if (name == "bandit") return PolicyKind::kBandit;
  if (name == "median") return PolicyKind::kMedian;
  if (name == "truncation") return PolicyKind::kTruncation;
  ROOST_USAGE_ERROR("--policy ", name, ": use none, bandit, median or truncation");
}

const char* to_string(PolicyKind kind) {
  static const char* const kNames[] = {"none", "bandit", "median", "truncation"};
  return kNames[static_cast<int>(kind)];
}

void check_policy(const PolicyConfig& p) {
  if (p.evaluation_interval < 1)
    ROOST_USAGE_ERROR("--evaluation-interval ", p.evaluation_interval, ": must be at least 1");
  if (p.delay_evaluation < 0) ROOST_USAGE_ERROR("--delay-evaluation ", p.delay_evaluation, ": must be 0 or more");
  if (p.slack_factor < 0 || p.slack_amount < 0) ROOST_USAGE_ERROR("--slack-factor and --slack-amount must be positive");
  if (p.kind == PolicyKind::kBandit && (p.slack_factor > 0) == (p.slack_amount > 0))
    ROOST_USAGE_ERROR("--policy bandit needs one of --slack-factor and --slack-amount (greater than 0)");
  if (p.kind != PolicyKind::kBandit && (p.slack_factor > 0 || p.slack_amount > 0))
    ROOST_USAGE_ERROR("--slack-factor and --slack-amount belong to --policy bandit");
  if (p.kind == PolicyKind::kTruncation && !(p.truncation_percentage >= 1 && p.truncation_percentage <= 99))
    ROOST_USAGE_ERROR("--policy truncation needs --truncation-percentage between 1 and 99");
  if (p.kind != PolicyKind::kTruncation && p.truncation_percentage != 0)
    ROOST_USAGE_ERROR("--truncation-percentage belongs to --policy truncation");
}

bool policy_applies(const PolicyConfig& p, int k) {
  return p.kind != PolicyKind::kNone && k >= 1 && k >= p.delay_evaluation && k % p.evaluation_interval == 0;
}

Decision evaluate(const PolicyConfig& p, Goal g, const std::vector<Curve>& curves, size_t subject, int k) {
  if (subject >= curves.size() || !policy_applies(p, k) || !has(curves[subject], k)) return {};
  switch (p.kind) {
    case PolicyKind::kBandit: return bandit(p, g, curves, subject, k);
    case PolicyKind::kMedian: return median(g, curves, subject, k);
    case PolicyKind::kTruncation: return truncation(p, g, curves, subject, k);
    default: return {};
  }
}

}  // namespace roost::sweep
