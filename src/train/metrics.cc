// roost/train/metrics.cc — epoch sums, their global reduction and the metrics files.
#include "roost/train/metrics.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "roost/core/error.h"
#include "roost/train/json.h"

namespace roost::train {

void EpochSums::allreduce(comm::Communicator& comm) {
  double v[10] = {train_loss_sum, train_correct, train_count, val_loss_sum, val_correct,
                  val_count,      skipped,       data_wait_s, allreduce_s, sync_wait_s};
  comm.allreduce(v, 10, comm::DType::kFloat64, comm::ReduceOp::kSum);
  train_loss_sum = v[0], train_correct = v[1], train_count = v[2];
  val_loss_sum = v[3], val_correct = v[4], val_count = v[5];
  skipped = v[6], data_wait_s = v[7], allreduce_s = v[8], sync_wait_s = v[9];
}

EpochRecord EpochRecord::from(const EpochSums& s, int world_size) {
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  EpochRecord r;
  r.world_size = world_size;
  r.train_loss = ratio(s.train_loss_sum, s.train_count);
  r.train_acc = ratio(s.train_correct, s.train_count);
  r.val_loss = ratio(s.val_loss_sum, s.val_count);
  r.val_acc = ratio(s.val_correct, s.val_count);
  r.data_wait_s = s.data_wait_s / world_size;
  r.allreduce_s = s.allreduce_s / world_size;
  r.sync_wait_s = s.sync_wait_s / world_size;
  r.skipped_images = static_cast<int64_t>(s.skipped);
  return r;
}

std::string EpochRecord::to_json() const {
  JsonObject o;
  o.add("epoch", epoch).add("train_loss", train_loss).add("train_acc", train_acc);
  o.add("val_loss", val_loss).add("val_acc", val_acc).add("lr", lr).add("momentum", momentum);
  o.add("best_val_acc", best_val_acc).add("images_per_sec", images_per_sec);
  o.add("epoch_time_s", epoch_time_s).add("data_wait_s", data_wait_s);
  o.add("allreduce_s", allreduce_s).add("sync_wait_s", sync_wait_s).add("skipped_images", skipped_images);
  o.add("world_size", world_size);
  return o.str();
}

MetricsWriter::MetricsWriter(std::string dir) : dir_(std::move(dir)) {}

void MetricsWriter::append(const EpochRecord& r) {
  const std::string jsonl = dir_ + "/metrics.jsonl";
  const std::string csv = dir_ + "/metrics.csv";
  {
    std::ofstream out(jsonl, std::ios::app);
    out << r.to_json() << "\n";
    out.flush();
    if (!out) ROOST_THROW("cannot append to ", jsonl, " (disk full or read-only?)");
  }
  bool header = !std::filesystem::exists(csv) || std::filesystem::file_size(csv) == 0;
  std::ofstream out(csv, std::ios::app);
  if (header)
    out << "epoch,train_loss,train_acc,val_loss,val_acc,lr,momentum,best_val_acc,images_per_sec,"
           "epoch_time_s,data_wait_s,allreduce_s,sync_wait_s,skipped_images,world_size\n";
  char line[512];
  std::snprintf(line, sizeof line, "%d,%.6f,%.6f,%.6f,%.6f,%.8g,%.6g,%.6f,%.3f,%.3f,%.3f,%.3f,%.3f,%lld,%d\n",
                r.epoch, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.lr, r.momentum,
                r.best_val_acc, r.images_per_sec, r.epoch_time_s, r.data_wait_s, r.allreduce_s, r.sync_wait_s,
                static_cast<long long>(r.skipped_images), r.world_size);
  out << line;
  out.flush();
  if (!out) ROOST_THROW("cannot append to ", csv, " (disk full or read-only?)");
}

}  // namespace roost::train
