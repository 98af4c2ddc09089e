// trainer_metrics_test.cc — under mpirun: per-epoch metrics are exact global averages (a
// rank-dependent toy case where a plain mean of per-rank values would give another answer),
// rank 0's metrics files carry them, and ranks started with different options stop with an
// error naming the option on every rank.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "mpi_env.h"
#include "roost/comm/mpi_communicator.h"
#include "roost/core/error.h"
#include "roost/train/config_check.h"
#include "roost/train/metrics.h"

using namespace roost;

TEST(TrainerMetrics, GlobalAveragesWeightSamplesNotRanks) {
  MpiCommDup dup(roost::testing::g_mpi->comm());
  comm::MpiCommunicator comm(dup.get());
  const int r = comm.rank(), world = comm.size();
  // Rank r saw r+1 training images with mean loss r+1, got r of them right, waited r+1 s.
  train::EpochSums sums;
  sums.train_count = r + 1;
  sums.train_loss_sum = (r + 1.0) * (r + 1.0);
  sums.train_correct = r;
  sums.val_count = 2;
  sums.val_correct = r % 2;
  sums.val_loss_sum = 2.0 * r;
  sums.data_wait_s = r + 1;
  sums.skipped = 1;
  sums.allreduce(comm);
  train::EpochRecord rec = train::EpochRecord::from(sums, world);
  double n = 0, loss = 0, correct = 0, val_correct = 0, val_loss = 0, wait = 0;
  for (int k = 0; k < world; ++k) {
    n += k + 1;
    loss += (k + 1.0) * (k + 1.0);
    correct += k;
    val_correct += k % 2;
    val_loss += 2.0 * k;
    wait += k + 1;
  }
  EXPECT_DOUBLE_EQ(rec.train_loss, loss / n);  // not the mean of per-rank means
  EXPECT_NE(rec.train_loss, (world + 1) / 2.0);
  EXPECT_DOUBLE_EQ(rec.train_acc, correct / n);
  EXPECT_DOUBLE_EQ(rec.val_acc, val_correct / (2.0 * world));
  EXPECT_DOUBLE_EQ(rec.val_loss, val_loss / (2.0 * world));
  EXPECT_DOUBLE_EQ(rec.data_wait_s, wait / world);
  EXPECT_EQ(rec.skipped_images, world);
  EXPECT_EQ(rec.world_size, world);

  // Rank 0 writes the row; every rank reads it back after a barrier.
  const std::string dir = "/tmp/roost-metrics-test-" + std::to_string(::getppid());
  if (r == 0) {
    std::filesystem::create_directories(dir);
    rec.epoch = 1;
    train::MetricsWriter writer(dir, "20261207-000000-abcdef");
    writer.rewrite({});
    writer.append(rec);
  }
  comm.barrier();
  std::ifstream in(dir + "/metrics.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  char want[64];
  std::snprintf(want, sizeof want, "\"train_loss\": %.9g", loss / n);
  EXPECT_NE(line.find(want), std::string::npos) << line;
  EXPECT_EQ(line.rfind("{\"run_id\": \"20261207-000000-abcdef\", \"epoch\": 1,", 0), 0u) << line;
  EXPECT_FALSE(std::getline(in, line)) << "one row expected";
  comm.barrier();
  if (r == 0) std::filesystem::remove_all(dir);
}

TEST(TrainerConfig, DifferentOptionsAreAnErrorOnEveryRank) {
  MpiCommDup dup(roost::testing::g_mpi->comm());
  comm::MpiCommunicator comm(dup.get());
  train::TrainConfig config;
  config.data_dir = "/data";
  EXPECT_NO_THROW(train::check_same_config(config, comm));
  if (comm.rank() == comm.size() - 1) config.batch_size = 8;
  try {
    train::check_same_config(config, comm);
    FAIL() << "rank " << comm.rank() << " accepted differing options";
  } catch (const UsageError& e) {
    EXPECT_NE(e.message().find("--batch-size"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("rank(s) " + std::to_string(comm.size() - 1)), std::string::npos) << e.message();
  }
}
