// roost/train/metrics.cc — epoch sums, their global reduction and the metrics files.
#include "roost/train/metrics.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/core/json.h"

namespace roost::train {

std::vector<double> EpochSums::to_values() const {
  return {train_loss_sum, train_correct, train_count, val_loss_sum, val_correct,
          val_count,      skipped,       data_wait_s, allreduce_s,  sync_wait_s};
}

EpochSums EpochSums::from_values(const std::vector<double>& v) {
  ROOST_CHECK(v.size() == kCount, "epoch sums need ", kCount, " values, got ", v.size());
  EpochSums s;
  s.train_loss_sum = v[0], s.train_correct = v[1], s.train_count = v[2];
  s.val_loss_sum = v[3], s.val_correct = v[4], s.val_count = v[5];
  s.skipped = v[6], s.data_wait_s = v[7], s.allreduce_s = v[8], s.sync_wait_s = v[9];
  return s;
}

const char* EpochSums::unreadable_pass(int64_t train_size, int64_t val_size) const {
  if (train_count == 0 && train_size > 0) return "training";
  if (val_count == 0 && val_size > 0) return "validation";
  return nullptr;
}

void EpochSums::allreduce(comm::Communicator& comm) {
  std::vector<double> v = to_values();
  comm.allreduce(v.data(), v.size(), comm::DType::kFloat64, comm::ReduceOp::kSum);
  *this = from_values(v);
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

std::vector<double> EpochRecord::to_values() const {
  return {static_cast<double>(epoch),
          train_loss,
          train_acc,
          val_loss,
          val_acc,
          lr,
          momentum,
          best_val_acc,
          images_per_sec,
          epoch_time_s,
          data_wait_s,
          allreduce_s,
          sync_wait_s,
          static_cast<double>(skipped_images),
          static_cast<double>(world_size),
          0.0 /* reserved */};
}

EpochRecord EpochRecord::from_values(const double* v) {
  EpochRecord r;
  r.epoch = static_cast<int>(v[0]);
  r.train_loss = v[1], r.train_acc = v[2], r.val_loss = v[3], r.val_acc = v[4];
  r.lr = v[5], r.momentum = v[6], r.best_val_acc = v[7], r.images_per_sec = v[8];
  r.epoch_time_s = v[9], r.data_wait_s = v[10], r.allreduce_s = v[11], r.sync_wait_s = v[12];
  r.skipped_images = static_cast<int64_t>(v[13]);
  r.world_size = static_cast<int>(v[14]);
  return r;
}

MetricsWriter::MetricsWriter(std::string dir, std::string run_id) : dir_(std::move(dir)), run_id_(std::move(run_id)) {}

namespace {
const char* kCsvHeader =
    "epoch,train_loss,train_acc,val_loss,val_acc,lr,momentum,best_val_acc,images_per_sec,"
    "epoch_time_s,data_wait_s,allreduce_s,sync_wait_s,skipped_images,world_size,run_id\n";

std::string csv_line(const EpochRecord& r) {
  char line[512];
  std::snprintf(line, sizeof line, "%d,%.6f,%.6f,%.6f,%.6f,%.8g,%.6g,%.6f,%.3f,%.3f,%.3f,%.3f,%.3f,%lld,%d,", r.epoch,
                r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.lr, r.momentum, r.best_val_acc, r.images_per_sec,
                r.epoch_time_s, r.data_wait_s, r.allreduce_s, r.sync_wait_s, static_cast<long long>(r.skipped_images),
                r.world_size);
  return line;
}

void append_to(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app);
  out << text;
  out.flush();
  if (!out) ROOST_THROW("cannot append to ", path, " (disk full or read-only?)");
}
}  // namespace

std::string MetricsWriter::json_row(const EpochRecord& r) const {
  return "{" + json_escape("run_id") + ": " + json_escape(run_id_) + ", " + r.to_json().substr(1);
}

std::string MetricsWriter::csv_row(const EpochRecord& r) const {
  return csv_line(r) + run_id_ + "\n";  // ids hold no commas or quotes
}

void MetricsWriter::append(const EpochRecord& r) {
  const std::string csv = dir_ + "/metrics.csv";
  append_to(dir_ + "/metrics.jsonl", json_row(r) + "\n");
  bool header = !std::filesystem::exists(csv) || std::filesystem::file_size(csv) == 0;
  append_to(csv, (header ? std::string(kCsvHeader) : std::string()) + csv_row(r));
}

void MetricsWriter::rewrite(const std::vector<EpochRecord>& records) {
  std::string jsonl, csv = kCsvHeader;
  for (const auto& r : records) {
    jsonl += json_row(r) + "\n";
    csv += csv_row(r);
  }
  write_file_atomic(dir_ + "/metrics.jsonl", jsonl);
  write_file_atomic(dir_ + "/metrics.csv", csv);
}

}  // namespace roost::train
