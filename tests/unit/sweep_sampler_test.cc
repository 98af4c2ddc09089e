// sweep_sampler_test.cc — grid order, reproducible random draws, and a TPE sampler that moves
// its draws towards where the ended trials did best.
#include <gtest/gtest.h>

#include <cmath>

#include "roost/core/error.h"
#include "roost/sweep/sampler.h"

using namespace roost::sweep;

namespace {
std::string words(const Assignment& a) {
  std::string out;
  for (const auto& v : a) out += v.word + " ";
  return out;
}
}  // namespace

TEST(SweepSampler, GridListsEveryCombinationInOrder) {
  const auto space = parse_space({"lr=choice(0.1,0.01)", "momentum=choice(0.5,0.9,0.99)"});
  auto grid = make_sampler("grid", space, 0, Goal::kMaximize);
  ASSERT_EQ(grid->size(), 6);
  const char* want[] = {"0.1 0.5 ", "0.1 0.9 ", "0.1 0.99 ", "0.01 0.5 ", "0.01 0.9 ", "0.01 0.99 "};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(words(*grid->next(i, {})), want[i]) << i;
  EXPECT_FALSE(grid->next(6, {}).has_value());
  EXPECT_THROW(make_sampler("grid", parse_space({"lr=uniform(0,1)"}), 0, Goal::kMaximize), roost::UsageError);
  EXPECT_THROW(make_sampler("sobol", space, 0, Goal::kMaximize), roost::UsageError);
}

TEST(SweepSampler, RandomIsSeededAndPerTrial) {
  const auto space = parse_space({"lr=loguniform(1e-4,1e-1)", "arch=choice(a,b,c)"});
  auto a = make_sampler("random", space, 7, Goal::kMaximize);
  auto b = make_sampler("random", space, 7, Goal::kMaximize);
  auto c = make_sampler("random", space, 8, Goal::kMaximize);
  // Trial 5 drawn alone (a resumed sweep) equals trial 5 drawn after trials 0..4.
  for (int i = 0; i < 5; ++i) a->next(i, {});
  EXPECT_EQ(words(*a->next(5, {})), words(*b->next(5, {})));
  EXPECT_NE(words(*b->next(5, {})), words(*c->next(5, {})));
  std::set<std::string> distinct;
  for (int i = 0; i < 20; ++i) distinct.insert(words(*b->next(i, {})));
  EXPECT_GT(distinct.size(), 15u);
}

// The objective peaks at lr = 0.02 (log scale) and at choice "b": after random start-up trials,
// TPE's draws land much nearer the peak than random ones do.
TEST(SweepSampler, TpeLearnsFromEndedTrials) {
  const auto space = parse_space({"lr=loguniform(1e-4,1)", "opt=choice(a,b,c,d)"});
  auto objective = [](const Assignment& a) {
    return -std::abs(std::log10(a[0].number) - std::log10(0.02)) + (a[1].word == "b" ? 1.0 : 0.0);
  };
  auto run = [&](const std::string& name) {
    auto s = make_sampler(name, space, 3, Goal::kMaximize);
    std::vector<Observation> ended;
    double late = 0;
    for (int i = 0; i < 60; ++i) {
      const Assignment a = *s->next(i, ended);
      const double y = objective(a);
      ended.push_back({{a[0].number, a[1].number}, y});
      if (i >= 40) late += y / 20;
    }
    return late;
  };
  const double tpe = run("bayesian"), random = run("random");
  EXPECT_GT(tpe, random + 0.5) << "tpe " << tpe << " random " << random;
  EXPECT_GT(tpe, 0.4);  // mostly "b" with lr within ~half a decade of the peak
  // Minimizing the negated objective finds the same region.
  auto s = make_sampler("bayesian", space, 3, Goal::kMinimize);
  std::vector<Observation> ended;
  double late = 0;
  for (int i = 0; i < 60; ++i) {
    const Assignment a = *s->next(i, ended);
    ended.push_back({{a[0].number, a[1].number}, -objective(a)});
    if (i >= 40) late += objective(a) / 20;
  }
  EXPECT_GT(late, random + 0.5);
}

TEST(SweepSampler, TpeIsReproducible) {
  const auto space = parse_space({"lr=uniform(0,1)"});
  std::vector<Observation> ended;
  for (int i = 0; i < 8; ++i) ended.push_back({{i / 8.0}, double(i)});
  auto a = make_sampler("bayesian", space, 1, Goal::kMaximize);
  auto b = make_sampler("bayesian", space, 1, Goal::kMaximize);
  EXPECT_EQ(words(*a->next(8, ended)), words(*b->next(8, ended)));
  EXPECT_GT(a->next(9, ended)->at(0).number, 0.5);  // towards the high end, where the best ones were
}
