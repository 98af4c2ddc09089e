// roost/train/trainer.cc — the run's shape: set up, then per epoch train, evaluate, record,
// checkpoint; one way to stop on a signal. The step, the passes and the wiring live in
// train_step.cc, train_epoch.cc, evaluate.cc and run_setup.cc; the files in run_outputs.cc.
#include "roost/train/trainer.h"

#include <chrono>
#include <cstdio>
#include <string>

#include "roost/core/error.h"
#include "roost/core/log.h"
#include "roost/model/state_dict.h"
#include "roost/train/checkpoint.h"
#include "roost/train/config_check.h"
#include "roost/train/evaluate.h"
#include "roost/train/graph_step.h"
#include "roost/train/run_outputs.h"
#include "roost/train/run_parts.h"
#include "roost/train/summary.h"
#include "roost/train/train_epoch.h"

namespace roost::train {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// What the run has recorded so far (the history includes a resumed run's earlier epochs).
struct Record {
  Clock::time_point start;
  std::vector<EpochRecord> history;
  double best = -1;
  RunSummary summary;
  TrainResult result;
};

Record start_record(const RunParts& run, Clock::time_point start) {
  Record rec;
  rec.start = start;
  rec.history = run.resume.history;
  rec.best = run.resume.best_val_acc;
  rec.summary.world_size = run.world;
  rec.summary.device = run.device_name;
  rec.summary.gradient_backend = run.backend->name();
  rec.summary.resumed_from = run.resume.path;
  rec.summary.shared_update = run.shared_update;
  return rec;
}

// Where a checkpoint is taken: after `epochs_done` epochs and `step` steps (with
// `positions_done` of its sample order) of the next one, with that epoch's sums so far.
struct StopPoint {
  int epochs_done = 0;
  int step = 0;
  int64_t positions_done = 0;
  EpochSums partial;
};

// Rank 0 writes the state at the point; the path.
std::string write_checkpoint(const RunParts& run, RunOutputs& outputs, const Record& rec, const StopPoint& at) {
  if (run.rank != 0) return std::string();
  if (run.graphs) run.graphs->scaler_to_host();  // --amp fp16 with graph steps: the device's scale
  Checkpoint c;
  c.model = model::state_dict(*run.net);
  c.momentum = run.optimizer->momentum_buffers();
  c.rng = at::detail::getDefaultCPUGenerator().get_state();
  c.epochs_done = at.epochs_done;
  c.step = at.step;
  c.positions_done = at.step > 0 ? at.positions_done : 0;
  c.world_size = run.world;
  c.best_val_acc = rec.best;
  c.loss_scale = run.scaler->scale();
  c.loss_scale_clean_steps = run.scaler->clean_steps();
  c.partial = at.partial;
  c.history = rec.history;
  c.config_json = to_json(run.config);
  return outputs.checkpoint(std::move(c));
}

void finish(const RunParts& run, RunOutputs& outputs, Record& rec, const std::string& status) {
  rec.summary.history = rec.history;
  rec.summary.wall_time_s = seconds_since(rec.start);
  outputs.finish(status, model::state_dict(*run.net), rec.summary);
}

// The one way a run stops early: checkpoint, last.h5 and summary.json, every rank waits
// until they are on disk, then leaves.
TrainResult stop(const RunParts& run, RunOutputs& outputs, Record& rec, int signal, const StopPoint& at,
                 const std::string& where) {
  const std::string path = write_checkpoint(run, outputs, rec, at);
  const std::string status = std::string("stopped by ") + PreemptionWatch::name(signal);
  finish(run, outputs, rec, status);
  run.comm->barrier();
  log_info(status, where, run.rank == 0 ? "; checkpoint " + path : std::string(),
           "; rerun with --resume auto to continue");
  rec.result.stopped_by_signal = signal;
  rec.result.epochs = at.epochs_done;
  rec.result.best_val_acc = rec.best;
  return rec.result;
}

// A pass with every sample unreadable would record zeros that look like results, and an
// epoch in which one class could not be read at all trains another task. Checked on the
// global sums, so every rank stops alike; earlier epochs' outputs stay. The class check
// skips an epoch resumed mid-way, whose earlier steps were read by the process that stopped.
void check_epoch_read(RunParts& run, RunOutputs& outputs, Record& rec, int epoch, const EpochSums& sums,
                      bool resumed_epoch) {
  if (const char* split = sums.unreadable_pass(run.data.train->size(), run.data.val->size())) {
    finish(run, outputs, rec, std::string("failed: no readable ") + split + " images");
    ROOST_USAGE_ERROR("epoch ", epoch + 1, ": none of the ", split, " images could be read (",
                      static_cast<int64_t>(sums.skipped), " skipped as unreadable this epoch)");
  }
  ClassCounts& counts = *run.class_counts;
  counts.allreduce(*run.comm);
  if (const std::string missing = counts.missing_class(!resumed_epoch); !missing.empty()) {
    finish(run, outputs, rec, "failed: " + missing);
    ROOST_USAGE_ERROR("epoch ", epoch + 1, ": ", missing);
  }
  if (epoch == run.resume.epochs_done || sums.skipped > 0)
    log_info("images read per class this epoch: ", counts.summary_line());
  rec.summary.class_counts_json = counts.json();
}

// The epoch's row from the global sums: metrics files, curves, model.h5 when it improved.
void record_epoch(RunParts& run, RunOutputs& outputs, Record& rec, int epoch, const EpochSums& sums,
                  const EpochPass& pass, Clock::time_point epoch_start) {
  double images_total = static_cast<double>(pass.images);
  run.comm->allreduce(&images_total, 1, comm::DType::kFloat64, comm::ReduceOp::kSum);
  EpochRecord record = EpochRecord::from(sums, run.world);
  record.epoch = epoch + 1;
  record.lr = run.optimizer->lr();
  record.momentum = run.config.momentum;
  record.images_per_sec = pass.seconds > 0 ? images_total / pass.seconds : 0;
  record.epoch_time_s = seconds_since(epoch_start);
  const bool improved = record.val_acc > rec.best;
  if (improved) rec.best = record.val_acc;
  record.best_val_acc = rec.best;
  rec.history.push_back(record);
  log_info("epoch ", record.epoch, "/", run.config.epochs, ": train loss ", record.train_loss, " acc ",
           record.train_acc, " | val loss ", record.val_loss, " acc ", record.val_acc, " | ", record.images_per_sec,
           " img/s");
  outputs.record_epoch(rec.history, improved, model::state_dict(*run.net));
  rec.result.final_val_acc = record.val_acc;
  rec.result.epochs = epoch + 1;
}

TrainResult complete(const RunParts& run, RunOutputs& outputs, Record& rec) {
  rec.result.best_val_acc = rec.best;
  finish(run, outputs, rec, "completed");
  model::NamedTensors params;
  for (const auto& p : run.net->named_parameters()) params.emplace_back(p.key(), p.value());
  rec.result.params_crc32 = model::tensors_crc32(params);
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", rec.result.params_crc32);
  log(LogLevel::kDebug, std::string("final parameters crc32 ") + crc);
  return rec.result;
}

}  // namespace

TrainResult run_training(const TrainConfig& requested, const TrainContext& ctx) {
  const auto run_start = Clock::now();
  comm::Communicator& comm = *ctx.host_comm;
  // First, so that a signal during set-up stops the run after its first step instead of
  // killing the rank with nothing written.
  PreemptionWatch preemption(ctx.mpi_comm, ctx.signals_relayed);
  check_same_config(requested, comm);
  const TrainConfig config = resolve_auto(requested, ctx);
  Datasets data = open_datasets(config.data_dir);
  // Before anything is built or written: may this run use the outputs directory?
  const OutputsPlan plan =
      plan_outputs(config, data.train->class_names(), dataset_identity(config.data_dir, *data.train, *data.val), comm);
  RunOutputs outputs(config, plan, comm.rank());
  const std::unique_ptr<RunParts> run = set_up_run(config, ctx, std::move(data), plan.existing_run_id);
  outputs.adopt_run_id(run->resume.run_id);
  Record rec = start_record(*run, run_start);
  outputs.begin(rec.history);

  const ResumePoint& resume = run->resume;
  for (int epoch = resume.epochs_done; epoch < config.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    // An epoch a signal interrupted goes on from its next step; rank 0 carries its global sums.
    const bool resumed_epoch = resume.resumed && epoch == resume.epochs_done && resume.step > 0;
    EpochSums sums = resumed_epoch && run->rank == 0 ? resume.partial : EpochSums{};
    run->class_counts->reset();
    const EpochPass pass = train_epoch(*run, preemption, epoch, resumed_epoch ? resume.positions_done : 0, sums);
    if (pass.stopped_mid_epoch()) {
      sums.allreduce(comm);
      return stop(*run, outputs, rec, pass.stop_signal, StopPoint{epoch, pass.step, pass.positions_done, sums},
                  " in epoch " + std::to_string(epoch + 1) + " after step " + std::to_string(pass.step) + "/" +
                      std::to_string(pass.steps));
    }
    evaluate(*run, epoch, sums);
    sums.allreduce(comm);
    check_epoch_read(*run, outputs, rec, epoch, sums, resumed_epoch);
    record_epoch(*run, outputs, rec, epoch, sums, pass, epoch_start);
    // Signals seen during validation count too; every rank learns of them here.
    const int signal = preemption.agree_now();
    if (signal && epoch + 1 < config.epochs)
      return stop(*run, outputs, rec, signal, StopPoint{epoch + 1}, " after epoch " + std::to_string(epoch + 1));
    if (signal || (config.checkpoint_every > 0 && (epoch + 1) % config.checkpoint_every == 0)) {
      const std::string path = write_checkpoint(*run, outputs, rec, StopPoint{epoch + 1});
      if (run->rank == 0) log(LogLevel::kDebug, "checkpoint " + path);
    }
  }
  return complete(*run, outputs, rec);
}

}  // namespace roost::train
