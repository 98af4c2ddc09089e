// run_store_test.cc — the run store: schema version, status transitions with their times,
// metrics ingestion, refusal of a newer schema, and writers in two processes at once.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "roost/core/error.h"
#include "roost/run/store.h"
#include "run_test_util.h"

namespace fs = std::filesystem;

namespace roost::run {
namespace {

class RunStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::fresh_test_dir("roost_store"); }
  void TearDown() override { fs::remove_all(dir_); }
  NewRun new_run(const std::string& experiment = "exp") { return test::local_run(experiment); }
  std::string dir_;
};

TEST_F(RunStoreTest, CreatesSchemaAndRunFolder) {
  RunStore store(dir_);
  {
    Statement v = store.db().prepare("PRAGMA user_version");
    ASSERT_TRUE(v.step());
    EXPECT_EQ(v.get_int(0), RunStore::kSchemaVersion);
    Statement mode = store.db().prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode.step());
    EXPECT_EQ(mode.get_text(0), "wal");
  }

  const int64_t id = store.create_run(new_run());
  RunRecord r = store.get_run(id);
  EXPECT_EQ(r.status, RunStatus::kQueued);
  EXPECT_EQ(r.experiment, "exp");
  EXPECT_EQ(r.np, 2);
  EXPECT_EQ(r.run_dir, fs::absolute(dir_).lexically_normal().string() + "/experiments/exp/runs/" + std::to_string(id));
  EXPECT_TRUE(fs::is_directory(r.run_dir + "/logs"));
  EXPECT_TRUE(fs::is_directory(r.run_dir + "/outputs"));
  EXPECT_EQ(store.create_run(new_run()), id + 1);
  EXPECT_THROW(store.create_run(new_run("../escape")), UsageError);
  EXPECT_THROW(store.get_run(999), UsageError);
}

TEST_F(RunStoreTest, StatusMovesForwardWithTimes) {
  RunStore store(dir_);
  const int64_t id = store.create_run(new_run());
  const double before = now_seconds();
  EXPECT_TRUE(store.set_status(id, RunStatus::kPreparing));
  EXPECT_TRUE(store.set_status(id, RunStatus::kRunning, "mpirun pid 7"));
  EXPECT_FALSE(store.set_status(id, RunStatus::kRunning));  // already there
  EXPECT_THROW(store.set_status(id, RunStatus::kQueued), Error);
  EXPECT_TRUE(store.set_status(id, RunStatus::kFinalizing));
  EXPECT_TRUE(store.set_status(id, RunStatus::kCompleted));
  EXPECT_FALSE(store.set_status(id, RunStatus::kFailed));  // terminal: stays Completed
  EXPECT_FALSE(store.set_status(id, RunStatus::kCanceled));
  EXPECT_EQ(store.get_run(id).status, RunStatus::kCompleted);

  const auto events = store.events(id);
  ASSERT_EQ(events.size(), 5u);
  const RunStatus want[] = {RunStatus::kQueued, RunStatus::kPreparing, RunStatus::kRunning, RunStatus::kFinalizing,
                            RunStatus::kCompleted};
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].status, want[i]);
    if (i > 0) {
      EXPECT_GE(events[i].at, events[i - 1].at);
      EXPECT_GE(events[i].at, before);
    }
  }
  EXPECT_EQ(events[2].note, "mpirun pid 7");
}

TEST_F(RunStoreTest, CanceledIsFinal) {
  RunStore store(dir_);
  const int64_t id = store.create_run(new_run());
  store.set_status(id, RunStatus::kRunning);
  EXPECT_TRUE(store.set_status(id, RunStatus::kCanceled));
  EXPECT_FALSE(store.set_status(id, RunStatus::kFinalizing));
  EXPECT_FALSE(store.set_status(id, RunStatus::kFailed));
  EXPECT_EQ(store.get_run(id).status, RunStatus::kCanceled);
  for (auto s :
       {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kFailed, RunStatus::kCanceled})
    EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_THROW(parse_status("Sleeping"), Error);
}

TEST_F(RunStoreTest, IngestsMetricsRowsByEpoch) {
  RunStore store(dir_);
  const int64_t id = store.create_run(new_run());
  const int stored = store.ingest_metrics(id, {
                                                  R"({"epoch": 1, "val_acc": 0.5, "train_loss": 0.7})",
                                                  R"({"epoch": 2, "val_acc": 0.75, "train_loss": 0.6})",
                                                  R"({"epoch": 3, "val_acc": 0.6)",  // cut off mid-write: skipped
                                                  "not json",
                                                  R"({"val_acc": 1.0})",  // no epoch: skipped
                                              });
  EXPECT_EQ(stored, 2);
  RunRecord r = store.get_run(id);
  EXPECT_EQ(r.epochs, 2);
  ASSERT_TRUE(r.best_val_acc.has_value());
  EXPECT_DOUBLE_EQ(*r.best_val_acc, 0.75);
  // The same epoch again (a resumed run rewrites metrics.jsonl) replaces the row.
  EXPECT_EQ(store.ingest_metrics(id, {R"({"epoch": 2, "val_acc": 0.8})"}), 1);
  auto rows = store.metrics(id);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NE(rows[1].find("0.8"), std::string::npos);
  EXPECT_DOUBLE_EQ(*store.get_run(id).best_val_acc, 0.8);
  // Other runs are untouched.
  const int64_t other = store.create_run(new_run());
  EXPECT_EQ(store.get_run(other).epochs, 0);
  EXPECT_FALSE(store.get_run(other).best_val_acc.has_value());
}

TEST_F(RunStoreTest, RefusesANewerSchema) {
  { RunStore store(dir_); }
  {
    Database db(dir_ + "/roost.db", false);
    db.exec("PRAGMA user_version = " + std::to_string(RunStore::kSchemaVersion + 1));
  }
  try {
    RunStore store(dir_);
    FAIL() << "opened a database of a newer schema";
  } catch (const UsageError& e) {
    EXPECT_NE(e.message().find("newer"), std::string::npos) << e.message();
  }
}

TEST_F(RunStoreTest, MigratesAVersion1Workspace) {
  { RunStore store(dir_); }
  {  // what a roost of schema 1 left: no model_files table
    Database db(dir_ + "/roost.db", false);
    db.exec("DROP TABLE model_files");
    db.exec("PRAGMA user_version = 1");
  }
  RunStore store(dir_);
  Statement v = store.db().prepare("PRAGMA user_version");
  ASSERT_TRUE(v.step());
  EXPECT_EQ(v.get_int(0), RunStore::kSchemaVersion);
  Statement t = store.db().prepare("SELECT count(*) FROM sqlite_master WHERE name = 'model_files'");
  ASSERT_TRUE(t.step());
  EXPECT_EQ(t.get_int(0), 1);
}

TEST_F(RunStoreTest, TransactionRollsBackUnlessCommitted) {
  RunStore store(dir_);
  {
    Transaction tx(store.db());
    store.db().exec("INSERT INTO experiments(name, created_at) VALUES ('ghost', 0)");
  }
  Statement s = store.db().prepare("SELECT count(*) FROM experiments WHERE name = 'ghost'");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.get_int(0), 0);
}

// Two processes open the same new workspace at once (both may create the schema) and each
// records runs, moves them through every status and ingests metrics: nothing is lost, the ids
// are distinct and the file passes SQLite's integrity check.
TEST_F(RunStoreTest, TwoProcessesWriteAtOnce) {
  constexpr int kRunsEach = 25;
  pid_t children[2];
  for (int c = 0; c < 2; ++c) {
    children[c] = fork();
    ASSERT_GE(children[c], 0);
    if (children[c] == 0) {
      int code = 0;
      try {
        RunStore store(dir_);
        for (int i = 0; i < kRunsEach; ++i) {
          const int64_t id = store.create_run(new_run("writer" + std::to_string(c)));
          store.set_status(id, RunStatus::kPreparing);
          store.set_status(id, RunStatus::kRunning);
          store.ingest_metrics(id, {R"({"epoch": 1, "val_acc": 0.25})", R"({"epoch": 2, "val_acc": 0.5})"});
          store.set_status(id, RunStatus::kCompleted);
        }
      } catch (const std::exception& e) {
        fprintf(stderr, "writer %d: %s\n", c, e.what());
        code = 1;
      }
      _exit(code);
    }
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer failed";
  }
  RunStore store(dir_);
  auto runs = store.list_runs();
  ASSERT_EQ(runs.size(), 2u * kRunsEach);
  for (const auto& r : runs) {
    EXPECT_EQ(r.status, RunStatus::kCompleted);
    EXPECT_EQ(r.epochs, 2);
    EXPECT_EQ(store.events(r.id).size(), 4u);
  }
  EXPECT_EQ(store.list_runs("writer0").size(), static_cast<size_t>(kRunsEach));
  Statement check = store.db().prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.get_text(0), "ok");
}

}  // namespace
}  // namespace roost::run
