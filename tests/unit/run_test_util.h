// run_test_util.h — what the run-store and registry tests share: a scratch folder per test
// and a minimal run to record.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "roost/run/store.h"

namespace roost::run::test {

// TempDir()/PREFIX_<pid>_<test name>, emptied: unique per test and per process.
inline std::string fresh_test_dir(const std::string& prefix) {
  const std::string dir = ::testing::TempDir() + "/" + prefix + "_" + std::to_string(getpid()) + "_" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::remove_all(dir);
  return dir;
}

// A local np=2 run of `experiment` with one training option.
inline NewRun local_run(const std::string& experiment = "exp") {
  NewRun n;
  n.experiment = experiment;
  n.target = "local";
  n.np = 2;
  n.train_args = R"(["--data-dir","d"])";
  n.config_json = "{}";
  return n;
}

}  // namespace roost::run::test
