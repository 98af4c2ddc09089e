// sweep_policy_test.cc — the early-termination rules pinned against worked examples (among
// them HyperDrive's documented bandit example) and, for median stopping, against Optuna's
// MedianPruner run by python3-optuna on the same curves.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "roost/core/error.h"
#include "roost/sweep/policy.h"

using namespace roost::sweep;

namespace {
PolicyConfig bandit_factor(double s) {
  PolicyConfig p;
  p.kind = PolicyKind::kBandit;
  p.slack_factor = s;
  return p;
}
}  // namespace

// HyperDrive's example: slack_factor 0.2, the best trial at 0.8 → cancelled below 0.8 / 1.2.
TEST(SweepPolicy, BanditDocumentedExample) {
  const std::vector<Curve> curves = {{1, {0.8}}, {2, {0.6}}, {3, {0.7}}};
  const PolicyConfig p = bandit_factor(0.2);
  EXPECT_FALSE(evaluate(p, Goal::kMaximize, curves, 0, 1).cancel);
  const Decision at_06 = evaluate(p, Goal::kMaximize, curves, 1, 1);
  EXPECT_TRUE(at_06.cancel);
  EXPECT_NE(at_06.why.find("0.6 < 0.8 / 1.2 = 0.6667"), std::string::npos) << at_06.why;
  EXPECT_FALSE(evaluate(p, Goal::kMaximize, curves, 2, 1).cancel);
}

TEST(SweepPolicy, BanditAmountMinimizeAndSchedule) {
  PolicyConfig amount;
  amount.kind = PolicyKind::kBandit;
  amount.slack_amount = 0.15;
  const std::vector<Curve> acc = {{1, {0.5, 0.8}}, {2, {0.7, 0.64}}, {3, {0.66, 0.66}}};
  EXPECT_TRUE(evaluate(amount, Goal::kMaximize, acc, 1, 2).cancel);   // 0.64 < 0.8 - 0.15
  EXPECT_FALSE(evaluate(amount, Goal::kMaximize, acc, 2, 2).cancel);  // 0.66 ≥ 0.65
  EXPECT_FALSE(evaluate(amount, Goal::kMaximize, acc, 1, 1).cancel);  // at epoch 1 the best was 0.7
  // Minimizing a loss: cancelled above best × (1 + s).
  const std::vector<Curve> loss = {{1, {0.5}}, {2, {0.61}}, {3, {0.59}}};
  EXPECT_TRUE(evaluate(bandit_factor(0.2), Goal::kMinimize, loss, 1, 1).cancel);
  EXPECT_FALSE(evaluate(bandit_factor(0.2), Goal::kMinimize, loss, 2, 1).cancel);
  // evaluation_interval 2, delay_evaluation 4: only epochs 4, 6, 8, ...
  PolicyConfig sched = bandit_factor(0.2);
  sched.evaluation_interval = 2;
  sched.delay_evaluation = 4;
  const std::vector<Curve> long_curves = {{1, {0.9, 0.9, 0.9, 0.9, 0.9}}, {2, {0.1, 0.1, 0.1, 0.1, 0.1}}};
  for (int k = 1; k <= 5; ++k) EXPECT_EQ(evaluate(sched, Goal::kMaximize, long_curves, 1, k).cancel, k == 4) << k;
}

// Median stopping: the subject's best so far against the median of the others' running averages.
TEST(SweepPolicy, MedianWorkedExample) {
  PolicyConfig p;
  p.kind = PolicyKind::kMedian;
  // Running averages at epoch 2: 0.6 (0.5, 0.7), 0.7 (0.6, 0.8), 0.4 (0.4, 0.4) → median 0.6.
  std::vector<Curve> curves = {{1, {0.5, 0.7}}, {2, {0.6, 0.8}}, {3, {0.4, 0.4}}, {4, {0.55, 0.58}}};
  const Decision d = evaluate(p, Goal::kMaximize, curves, 3, 2);
  EXPECT_TRUE(d.cancel);
  EXPECT_NE(d.why.find("median 0.6"), std::string::npos) << d.why;
  curves[3].values = {0.61, 0.3};  // its best so far (0.61) is above the median
  EXPECT_FALSE(evaluate(p, Goal::kMaximize, curves, 3, 2).cancel);
  EXPECT_FALSE(evaluate(p, Goal::kMaximize, {{1, {0.1}}}, 0, 1).cancel);  // nobody to compare with
}

// Truncation at 25 %: of four trials at the same epoch the lowest one goes; ties stay together.
TEST(SweepPolicy, TruncationWorkedExample) {
  PolicyConfig p;
  p.kind = PolicyKind::kTruncation;
  p.truncation_percentage = 25;
  const std::vector<Curve> four = {{1, {0.9}}, {2, {0.8}}, {3, {0.7}}, {4, {0.6}}};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(evaluate(p, Goal::kMaximize, four, i, 1).cancel, i == 3) << i;
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(evaluate(p, Goal::kMinimize, four, i, 1).cancel, i == 0) << i;
  const std::vector<Curve> tied = {{1, {0.9}}, {2, {0.8}}, {3, {0.6}}, {4, {0.6}}};
  EXPECT_FALSE(evaluate(p, Goal::kMaximize, tied, 3, 1).cancel);
  p.truncation_percentage = 50;
  EXPECT_TRUE(evaluate(p, Goal::kMaximize, tied, 3, 1).cancel);
  // Only trials of the same age compete: a trial at epoch 2 alone is never cut.
  const std::vector<Curve> ages = {{1, {0.9}}, {2, {0.1, 0.1}}};
  EXPECT_FALSE(evaluate(p, Goal::kMaximize, ages, 1, 2).cancel);
}

TEST(SweepPolicy, SettingsAreChecked) {
  PolicyConfig p;
  p.kind = PolicyKind::kBandit;
  EXPECT_THROW(check_policy(p), roost::UsageError);  // no slack
  p.slack_factor = 0.1;
  p.slack_amount = 0.1;
  EXPECT_THROW(check_policy(p), roost::UsageError);  // both
  p.slack_amount = 0;
  EXPECT_NO_THROW(check_policy(p));
  p.evaluation_interval = 0;
  EXPECT_THROW(check_policy(p), roost::UsageError);
  PolicyConfig t;
  t.kind = PolicyKind::kTruncation;
  EXPECT_THROW(check_policy(t), roost::UsageError);
  t.truncation_percentage = 100;
  EXPECT_THROW(check_policy(t), roost::UsageError);
  EXPECT_THROW(parse_policy("hyperband"), roost::UsageError);
}

// Optuna's MedianPruner (n_startup_trials 0, n_warmup_steps 0, interval 1) compares the trial's
// best intermediate value with the median of the completed trials' values at the same step.
// With constant curves for the others their running averages are those values, so both rules
// must agree on every random case.
TEST(SweepPolicy, MedianAgreesWithOptuna) {
  if (std::system(ROOST_PYTHON " -c 'import optuna' 2>/dev/null") != 0)
    GTEST_SKIP() << "python3-optuna is not installed";
  std::mt19937 gen(11);
  std::uniform_real_distribution<double> u(0, 1);
  struct Case {
    bool maximize;
    std::vector<Curve> curves;  // the last is the subject
    int k;
  };
  std::vector<Case> cases;
  std::ostringstream json;
  json << "[";
  for (int c = 0; c < 60; ++c) {
    Case cs{c % 2 == 0, {}, 1 + static_cast<int>(u(gen) * 4)};
    const int others = 1 + static_cast<int>(u(gen) * 6);
    json << (c ? "," : "") << "{\"max\":" << (cs.maximize ? "true" : "false") << ",\"k\":" << cs.k << ",\"others\":[";
    for (int j = 0; j < others; ++j) {
      const double v = std::round(u(gen) * 100) / 100;
      cs.curves.push_back({j, std::vector<double>(cs.k, v)});
      json << (j ? "," : "") << v;
    }
    Curve subject{99, {}};
    json << "],\"subject\":[";
    for (int s = 0; s < cs.k; ++s) {
      subject.values.push_back(std::round(u(gen) * 100) / 100);
      json << (s ? "," : "") << subject.values.back();
    }
    json << "]}";
    cs.curves.push_back(subject);
    cases.push_back(cs);
  }
  json << "]";
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/median_cases.json") << json.str();
  std::ofstream(dir + "/median_oracle.py") << R"py(import json, sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
for case in json.load(open(sys.argv[1])):
    study = optuna.create_study(direction="maximize" if case["max"] else "minimize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=0, n_warmup_steps=0, interval_steps=1))
    for v in case["others"]:
        t = study.ask()
        for step in range(1, case["k"] + 1):
            t.report(v, step)
        study.tell(t, v)
    t = study.ask()
    for step, v in enumerate(case["subject"], 1):
        t.report(v, step)
    print(1 if t.should_prune() else 0)
)py";
  FILE* p =
      popen((std::string(ROOST_PYTHON " ") + dir + "/median_oracle.py " + dir + "/median_cases.json").c_str(), "r");
  ASSERT_NE(p, nullptr);
  PolicyConfig median;
  median.kind = PolicyKind::kMedian;
  int agreed = 0, pruned = 0;
  for (const auto& cs : cases) {
    int want = -1;
    ASSERT_EQ(std::fscanf(p, "%d", &want), 1);
    const bool got =
        evaluate(median, cs.maximize ? Goal::kMaximize : Goal::kMinimize, cs.curves, cs.curves.size() - 1, cs.k).cancel;
    EXPECT_EQ(got, want == 1) << "case " << agreed;
    agreed += got == (want == 1);
    pruned += want;
  }
  pclose(p);
  EXPECT_EQ(agreed, 60);
  EXPECT_GT(pruned, 10);  // the cases exercise both outcomes
  EXPECT_LT(pruned, 50);
}
