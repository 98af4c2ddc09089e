// sweep_store_test.cc — sweeps and their trials in the run store: a trial tags an ordinary
// run, a resumed trial keeps its earlier run, metrics are read per epoch, and a workspace of
// schema version 2 gains the sweep tables when opened.
#include <gtest/gtest.h>

#include <cmath>

#include "run_test_util.h"
#include "roost/core/error.h"
#include "roost/sweep/sweep_store.h"

using namespace roost;
using namespace roost::sweep;

TEST(SweepStore, TrialsTagRunsAndKeepTheirHistory) {
  run::RunStore runs(run::test::fresh_test_dir("sweep_store"));
  SweepStore store(runs);
  const int64_t id = store.create_sweep("exp", R"({"metric":"val_acc"})", R"(["--experiment","exp"])");
  EXPECT_EQ(store.get_sweep(id).status, "Running");
  const int64_t r1 = runs.create_run(run::test::local_run());
  const int64_t r2 = runs.create_run(run::test::local_run());
  store.add_trial(id, 0, r1, R"({"lr":"0.01"})");
  runs.ingest_metrics(r1, {R"({"epoch":1,"val_acc":0.5})", R"({"epoch":2})", R"({"epoch":3,"val_acc":0.7})"});
  const std::vector<double> v = store.metric_values(r1, "val_acc");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_DOUBLE_EQ(v[0], 0.5);
  EXPECT_TRUE(std::isnan(v[1]));
  store.set_stopped_by(id, 0, "sweep interrupted");
  store.replace_run(id, 0, r2);
  const auto trials = store.trials(id);
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].run_id, r2);
  EXPECT_EQ(trials[0].previous_runs, std::to_string(r1));
  EXPECT_EQ(trials[0].stopped_by, "");
  EXPECT_EQ(store.trial_of_run(r1), std::make_pair(id, 0));
  EXPECT_EQ(store.trial_of_run(r2), std::make_pair(id, 0));
  EXPECT_EQ(store.json_strings(store.get_sweep(id).argv), (std::vector<std::string>{"--experiment", "exp"}));
  EXPECT_EQ(store.json_members(trials[0].params)[0], std::make_pair(std::string("lr"), std::string("0.01")));
  store.set_status(id, "Interrupted", "resume it");
  EXPECT_EQ(store.list_sweeps().at(0).message, "resume it");
  EXPECT_THROW(store.get_sweep(id + 1), UsageError);
}

TEST(SweepStore, VersionTwoWorkspaceGainsTheSweepTables) {
  const std::string dir = run::test::fresh_test_dir("sweep_store");
  {
    run::RunStore runs(dir);
    runs.db().exec("DROP TABLE sweep_trials; DROP TABLE sweeps; PRAGMA user_version = 2");
  }
  run::RunStore runs(dir);
  SweepStore store(runs);
  EXPECT_EQ(store.create_sweep("exp", "{}", "[]"), 1);
}
