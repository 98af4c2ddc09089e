// roost/train/config.cc — validation and JSON rendering of TrainConfig.
#include "roost/train/config.h"

#include <sstream>

#include "roost/core/error.h"
#include "roost/core/json.h"
#include "roost/train/graph_policy.h"

namespace roost::train {

void validate(const TrainConfig& c) {
  ROOST_USAGE_CHECK(!c.data_dir.empty(), "--data-dir is required");
  ROOST_USAGE_CHECK(c.epochs >= 1, "--epochs must be at least 1 (got ", c.epochs, ")");
  ROOST_USAGE_CHECK(c.batch_size >= 1, "--batch-size must be at least 1 (got ", c.batch_size, ")");
  ROOST_USAGE_CHECK(c.lr > 0, "--lr must be positive (got ", c.lr, ")");
  ROOST_USAGE_CHECK(c.momentum >= 0 && c.momentum < 1, "--momentum must be in [0, 1) (got ", c.momentum, ")");
  ROOST_USAGE_CHECK(c.weight_decay >= 0, "--weight-decay must not be negative");
  ROOST_USAGE_CHECK(!c.nesterov || c.momentum > 0, "--nesterov needs a positive --momentum");
  ROOST_USAGE_CHECK(c.lr_step >= 1, "--lr-step must be at least 1");
  ROOST_USAGE_CHECK(c.lr_gamma > 0 && c.lr_gamma <= 1, "--lr-gamma must be in (0, 1]");
  ROOST_USAGE_CHECK(c.image_size >= 16, "--image-size must be at least 16 (got ", c.image_size, ")");
  ROOST_USAGE_CHECK(c.resize_short >= c.image_size, "--resize-short (", c.resize_short,
                    ") must be at least --image-size (", c.image_size, ")");
  ROOST_USAGE_CHECK(c.crop_scale_lo > 0 && c.crop_scale_lo <= c.crop_scale_hi && c.crop_scale_hi <= 1,
                    "--crop-scale must satisfy 0 < lo <= hi <= 1");
  ROOST_USAGE_CHECK(c.crop_ratio_lo > 0 && c.crop_ratio_lo <= c.crop_ratio_hi,
                    "--crop-ratio must satisfy 0 < min <= max");
  ROOST_USAGE_CHECK(c.workers == kAutoWorkers || (c.workers >= 0 && c.workers <= kMaxWorkers),
                    "--workers must be auto or in [0, ", kMaxWorkers, "] (got ", c.workers, ")");
  ROOST_USAGE_CHECK(c.threads >= 0 && c.threads <= kMaxThreads, "--threads must be in [0, ", kMaxThreads, "] (got ",
                    c.threads, ")");
  ROOST_USAGE_CHECK(!(c.overwrite && !c.resume.empty()),
                    "--overwrite replaces the run in --output-dir and "
                    "--resume continues it: give one of them");
  ROOST_USAGE_CHECK(c.mpi_yield == "auto" || c.mpi_yield == "on" || c.mpi_yield == "off",
                    "--mpi-yield must be auto, on or off (got '", c.mpi_yield, "')");
  parse_cuda_graphs(c.cuda_graphs);  // a UsageError naming --cuda-graphs
  ROOST_USAGE_CHECK(c.log_every >= 1, "--log-every must be at least 1");
  ROOST_USAGE_CHECK(c.fusion_threshold_mb >= 0, "--fusion-threshold-mb must not be negative");
  ROOST_USAGE_CHECK(c.cycle_time_ms > 0 && c.cycle_time_ms <= 10000, "--cycle-time-ms must be in (0, 10000]");
  ROOST_USAGE_CHECK(c.jpeg_dct_scale == "off" || c.jpeg_dct_scale == "on", "--jpeg-dct-scale must be off or on (got '",
                    c.jpeg_dct_scale, "')");
  ROOST_USAGE_CHECK(c.prefetch_next_pass == "auto" || c.prefetch_next_pass == "on" || c.prefetch_next_pass == "off",
                    "--prefetch-next-pass must be auto, on or off (got '", c.prefetch_next_pass, "')");
  ROOST_USAGE_CHECK(c.allreduce_path == "auto" || c.allreduce_path == "ring" || c.allreduce_path == "shm" ||
                        c.allreduce_path == "hier",
                    "--allreduce-path must be auto, ring, shm or hier (got '", c.allreduce_path, "')");
  ROOST_USAGE_CHECK(c.shared_update == "auto" || c.shared_update == "off", "--shared-update must be auto or off (got '",
                    c.shared_update, "')");
  ROOST_USAGE_CHECK(c.backward_passes_per_step >= 1, "--backward-passes-per-step must be at least 1");
  ROOST_USAGE_CHECK(c.stall_warning_s > 0, "--stall-warning-s must be positive");
  ROOST_USAGE_CHECK(c.stall_shutdown_s >= 0, "--stall-shutdown-s must not be negative");
  ROOST_USAGE_CHECK(c.preprocess == "auto" || c.preprocess == "cpu" || c.preprocess == "gpu",
                    "--preprocess must be auto, cpu or gpu (got '", c.preprocess, "')");
  ROOST_USAGE_CHECK(c.progress == "auto" || c.progress == "bar" || c.progress == "lines" || c.progress == "none",
                    "--progress must be auto, bar, lines or none (got '", c.progress, "')");
  ROOST_USAGE_CHECK(c.lr_scaling == "none" || c.lr_scaling == "linear", "--lr-scaling must be none or linear (got '",
                    c.lr_scaling, "')");
  ROOST_USAGE_CHECK(c.elastic_batch == "per-rank" || c.elastic_batch == "global",
                    "--elastic-batch must be per-rank or global (got '", c.elastic_batch, "')");
  ROOST_USAGE_CHECK(c.warmup_epochs >= 0, "--warmup-epochs must not be negative");
  ROOST_USAGE_CHECK(c.label_smoothing >= 0 && c.label_smoothing < 1, "--label-smoothing must be in [0, 1)");
  ROOST_USAGE_CHECK(c.checkpoint_every >= 0, "--checkpoint-every must not be negative");
  ROOST_USAGE_CHECK(c.keep_checkpoints >= 1, "--keep-checkpoints must be at least 1");
  ROOST_USAGE_CHECK(!(c.freeze_backbone && c.sync_bn),
                    "--sync-bn has nothing to do with --freeze-backbone "
                    "(frozen BatchNorms keep their statistics)");
  ROOST_USAGE_CHECK(c.amp == "off" || c.amp == "bf16" || c.amp == "fp16", "--amp must be off, bf16 or fp16 (got '",
                    c.amp, "')");
}

namespace {
struct Entries {
  template <typename T>
  Entries& add(const std::string& key, const T& value) {
    out_.emplace_back(key, json_value(value));
    return *this;
  }
  std::vector<std::pair<std::string, std::string>> out_;
};
}  // namespace

std::vector<std::pair<std::string, std::string>> config_entries(const TrainConfig& c) {
  Entries e;
  e.add("data_dir", c.data_dir).add("output_dir", c.output_dir).add("arch", c.arch);
  e.add("zero_init_residual", c.zero_init_residual).add("pretrained", c.pretrained);
  e.add("freeze_backbone", c.freeze_backbone).add("sync_bn", c.sync_bn);
  e.add("epochs", c.epochs).add("batch_size", c.batch_size).add("lr", c.lr);
  e.add("momentum", c.momentum).add("weight_decay", c.weight_decay).add("nesterov", c.nesterov);
  e.add("lr_step", c.lr_step).add("lr_gamma", c.lr_gamma).add("lr_scaling", c.lr_scaling);
  e.add("elastic_batch", c.elastic_batch);
  e.add("warmup_epochs", c.warmup_epochs).add("label_smoothing", c.label_smoothing);
  e.add("seed", static_cast<int64_t>(c.seed));
  e.add("image_size", c.image_size).add("resize_short", c.resize_short);
  e.add("crop_scale_lo", c.crop_scale_lo).add("crop_scale_hi", c.crop_scale_hi);
  e.add("crop_ratio_lo", c.crop_ratio_lo).add("crop_ratio_hi", c.crop_ratio_hi);
  e.add("jpeg_dct_scale", c.jpeg_dct_scale);
  if (c.workers == kAutoWorkers) e.add("workers", "auto");
  else e.add("workers", c.workers);
  e.add("prefetch_next_pass", c.prefetch_next_pass).add("threads", c.threads).add("preprocess", c.preprocess);
  e.add("mpi_yield", c.mpi_yield);
  e.add("amp", c.amp).add("channels_last", c.channels_last).add("cuda_graphs", c.cuda_graphs);
  e.add("fusion_threshold_mb", c.fusion_threshold_mb).add("cycle_time_ms", c.cycle_time_ms);
  e.add("fp16_allreduce", c.fp16_allreduce).add("backward_passes_per_step", c.backward_passes_per_step);
  e.add("allreduce_path", c.allreduce_path).add("shared_update", c.shared_update);
  e.add("stall_warning_s", c.stall_warning_s).add("stall_shutdown_s", c.stall_shutdown_s);
  e.add("checkpoint_every", c.checkpoint_every).add("keep_checkpoints", c.keep_checkpoints);
  e.add("resume", c.resume).add("overwrite", c.overwrite).add("progress", c.progress).add("log_every", c.log_every);
  return e.out_;
}

sync::SyncOptions sync_options(const TrainConfig& c, int rank) {
  sync::SyncOptions o;
  o.fusion_threshold_mb = c.fusion_threshold_mb;
  o.cycle_time_ms = c.cycle_time_ms;
  o.fp16_allreduce = c.fp16_allreduce;
  o.backward_passes_per_step = c.backward_passes_per_step;
  o.stall_warning_s = c.stall_warning_s;
  o.stall_shutdown_s = c.stall_shutdown_s;
  if (rank == 0) o.timeline_path = c.timeline;
  return o;
}

std::string to_json(const TrainConfig& c) {
  JsonObject o;
  for (const auto& [key, value] : config_entries(c)) o.raw(key, value);
  return o.str();
}

}  // namespace roost::train
