// run_documents_test.cc — the JSON documents of runs and models (roost runs list|show --json and
// roost ui's /api/ serve these): fields, times, history and metrics rows as objects.
#include "roost/run/documents.h"

#include <nlohmann/json.hpp>

#include "roost/core/error.h"
#include "run_test_util.h"

namespace roost::run {
namespace {
using nlohmann::json;

TEST(RunDocuments, ListAndShowCarryStatusTimesAndMetrics) {
  RunStore store(test::fresh_test_dir("documents"));
  const int64_t id = store.create_run(test::local_run("exp"));
  store.set_status(id, RunStatus::kRunning);
  store.ingest_metrics(id, {R"({"epoch":1,"val_acc":0.5})", R"({"epoch":2,"val_acc":0.75})", "not json"});
  store.set_status(id, RunStatus::kCompleted);
  const json list = json::parse(runs_document(store));
  ASSERT_EQ(list["runs"].size(), 1u);
  const json& r = list["runs"][0];
  EXPECT_EQ(r["id"], id);
  EXPECT_EQ(r["status"], "Completed");
  EXPECT_EQ(r["epochs"], 2);
  EXPECT_DOUBLE_EQ(r["best_val_acc"].get<double>(), 0.75);
  EXPECT_GE(r["duration_s"].get<double>(), 0.0);
  EXPECT_TRUE(r["exit_code"].is_null());
  const json show = json::parse(run_document(store, id));
  EXPECT_EQ(show["train_args"], json::parse(R"(["--data-dir","d"])"));
  ASSERT_EQ(show["metrics"].size(), 2u);
  EXPECT_EQ(show["metrics"][1]["epoch"], 2);
  ASSERT_GE(show["history"].size(), 2u);
  EXPECT_EQ(show["history"].back()["status"], "Completed");
  EXPECT_FALSE(show["monitor_stale"].get<bool>());
  EXPECT_TRUE(json::parse(runs_document(store, "other"))["runs"].empty());
}

TEST(RunDocuments, UnknownRunIsAUsageError) {
  RunStore store(test::fresh_test_dir("documents"));
  EXPECT_THROW(run_document(store, 42), UsageError);
  EXPECT_TRUE(json::parse(models_document(store))["models"].empty());
}

}  // namespace
}  // namespace roost::run
