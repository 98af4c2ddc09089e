// sweep_documents_test.cc — the JSON documents of sweeps (roost sweeps list|show --json and roost
// ui's /api/sweeps serve these), and the sweep a trial's run document names.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "roost/run/documents.h"
#include "roost/sweep/documents.h"
#include "run_test_util.h"

using namespace roost;
using namespace roost::sweep;
using nlohmann::json;

namespace {
constexpr const char* kSettings =
    R"J({"metric": "val_acc", "goal": "max", "sampling": "grid", "policy": {"name": "bandit"},)J"
    R"J( "space": {"lr": "loguniform(0.0001,0.1)"}})J";

TEST(SweepDocuments, ShowAndListCarryTrialsValuesAndTheBest) {
  run::RunStore runs(run::test::fresh_test_dir("sweep_documents"));
  SweepStore store(runs);
  const int64_t id = store.create_sweep("exp", kSettings, "[]");
  const int64_t r1 = runs.create_run(run::test::local_run("exp"));
  const int64_t r2 = runs.create_run(run::test::local_run("exp"));
  store.add_trial(id, 0, r1, R"({"lr": "0.01"})");
  store.add_trial(id, 1, r2, R"({"lr": "0.001"})");
  runs.ingest_metrics(r1, {R"({"epoch":1,"val_acc":0.5})", R"({"epoch":2,"val_acc":0.6})"});
  runs.ingest_metrics(r2, {R"({"epoch":1,"val_acc":0.7})", R"({"epoch":2})"});
  store.set_stopped_by(id, 1, "bandit at epoch 2: val_acc 0.1 < 0.5");
  const SweepView v = sweep_view(store, id);
  EXPECT_EQ(v.sampling, "grid");
  EXPECT_EQ(v.policy, "bandit");
  const json show = json::parse(sweep_document(store.get_sweep(id), v, default_plot_path("/w", id)));
  EXPECT_EQ(show["sweep"], id);
  EXPECT_EQ(show["settings"]["space"]["lr"], "loguniform(0.0001,0.1)");
  ASSERT_EQ(show["trials"].size(), 2u);
  EXPECT_EQ(show["trials"][0]["values"], json::parse("[0.5, 0.6]"));
  EXPECT_EQ(show["trials"][1]["values"], json::parse("[0.7, null]"));
  EXPECT_EQ(show["trials"][1]["stopped_by"], "bandit at epoch 2: val_acc 0.1 < 0.5");
  EXPECT_EQ(show["trial_epochs"], 4);
  EXPECT_EQ(show["best"]["run"], r2);
  EXPECT_DOUBLE_EQ(show["best"]["value"].get<double>(), 0.7);
  EXPECT_EQ(show["plot"], "/w/sweeps/" + std::to_string(id) + "/sweep.png");
  const json list = json::parse(sweeps_document(store));
  ASSERT_EQ(list["sweeps"].size(), 1u);
  EXPECT_EQ(list["sweeps"][0]["trials"], 2);
  EXPECT_EQ(list["sweeps"][0]["policy"], "bandit");
  EXPECT_EQ(list["sweeps"][0]["goal"], "max");
  EXPECT_DOUBLE_EQ(list["sweeps"][0]["best"].get<double>(), 0.7);
  EXPECT_FALSE(list["sweeps"][0]["driver_stale"].get<bool>());
}

TEST(SweepDocuments, ATrialsRunDocumentNamesItsSweep) {
  run::RunStore runs(run::test::fresh_test_dir("sweep_documents"));
  SweepStore store(runs);
  const int64_t id = store.create_sweep("exp", kSettings, "[]");
  const int64_t other = runs.create_run(run::test::local_run("exp"));
  const int64_t r1 = runs.create_run(run::test::local_run("exp"));
  const int64_t r2 = runs.create_run(run::test::local_run("exp"));
  store.add_trial(id, 3, r1, R"({"lr": "0.01"})");
  store.replace_run(id, 3, r2);  // resumed: both runs carry trial 3
  for (int64_t run : {r1, r2}) {
    const json tag = json::parse(run::run_document(runs, run))["sweep"];
    EXPECT_EQ(tag, json::parse(R"({"sweep": )" + std::to_string(id) + R"(, "trial": 3, "params": {"lr": "0.01"}})"));
  }
  EXPECT_TRUE(json::parse(run::run_document(runs, other))["sweep"].is_null());
  EXPECT_FALSE(run::sweep_trial_of(runs, other).has_value());
  EXPECT_EQ(store.trial_of_run(other), std::make_pair(int64_t{0}, -1));
  EXPECT_TRUE(json::parse(sweeps_document(store))["sweeps"][0]["best"].is_null());
}
}  // namespace
