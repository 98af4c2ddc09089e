// roost/train/train_epoch.cc — the training pass of one epoch.
#include "roost/train/train_epoch.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "roost/core/log.h"
#include "roost/train/train_step.h"

namespace roost::train {

namespace {

// Fault injection for the reliability tests: ROOST_FAULT_STALL=RANK:STEP makes that rank
// hang (stop submitting gradients) before step STEP of the first epoch, as a stuck GPU or
// filesystem would. Unset, this costs one getenv per pass.
struct StallFault {
  int rank = -1, step = -1;
  static StallFault from_env() {
    StallFault f;
    if (const char* v = std::getenv("ROOST_FAULT_STALL")) {
      if (std::sscanf(v, "%d:%d", &f.rank, &f.step) != 2) f = StallFault{};
    }
    return f;
  }
  void maybe_hang(int rank_now, int epoch, int step_now) const {
    if (rank_now != rank || epoch != 0 || step_now != step) return;
    log_warn("ROOST_FAULT_STALL: rank ", rank_now, " hangs before step ", step_now + 1);
    std::this_thread::sleep_for(std::chrono::hours(1));
  }
};

// Test hook: ROOST_TRACE_SAMPLES=DIR makes each rank append "EPOCH INDEX" per trained
// sample to DIR/rank-R.txt after each step, so a test can count which samples an epoch
// trained across stops and restarts at other world sizes. Unset, this costs one getenv.
class SampleTrace {
 public:
  explicit SampleTrace(int rank) {
    if (const char* dir = std::getenv("ROOST_TRACE_SAMPLES"))
      out_.open(std::string(dir) + "/rank-" + std::to_string(rank) + ".txt", std::ios::app);
  }
  void add(int epoch, const data::Batch& batch) {
    if (!out_.is_open()) return;
    for (int i = 0; i < batch.size; ++i) out_ << epoch << ' ' << batch.indices[i] << '\n';
    out_.flush();
  }

 private:
  std::ofstream out_;
};

}  // namespace

EpochPass train_epoch(RunParts& run, PreemptionWatch& preemption, int epoch, int64_t first, EpochSums& sums) {
  const auto start = std::chrono::steady_clock::now();
  const StallFault stall_fault = StallFault::from_env();
  SampleTrace trace(run.rank);
  // Exchange times carried from an interrupted epoch; this pass's are read from the synchronizer.
  const double carried_allreduce_s = sums.allreduce_s, carried_sync_wait_s = sums.sync_wait_s;
  run.synchronizer->reset_timers();
  set_train_mode(run.net, run.config.freeze_backbone);

  // Steps are counted as in a whole epoch at this world size; one resumed at another starts
  // at the step that leaves the steps its remaining samples need.
  EpochPass pass;
  pass.steps = run.passes->steps_per_epoch();
  const int first_step = std::max(0, pass.steps - run.passes->steps_from(first));
  pass.step = first_step;
  const std::unique_ptr<data::Loader> loader = run.passes->train(epoch, first);
  run.optimizer->zero_grad();
  DeviceSums device_sums(sums.train_loss_sum, sums.train_correct, run.device);
  run.progress->start_epoch(epoch + 1, pass.steps, first_step);
  data::Batch batch;
  while (loader->next(batch)) {
    run.passes->after_train_batch(*loader, epoch);
    stall_fault.maybe_hang(run.rank, epoch, pass.step);
    preemption.begin_step();
    sums.data_wait_s += batch.wait_seconds;
    sums.skipped += batch.skipped;
    run.class_counts->add_train(batch.labels, batch.size);
    const bool stepped = train_step(run, batch, StepPlace{epoch, pass.step, pass.steps}, device_sums);
    trace.add(epoch, batch);
    ++pass.step;
    if (stepped) pass.stop_signal = preemption.end_step();
    // The loss is read from the device only when shown (each read waits for the GPU).
    const double count = sums.train_count + static_cast<double>(device_sums.images);
    const bool show = pass.step % run.config.log_every == 0 || pass.step == pass.steps || pass.stop_signal ||
                      run.progress->wants_loss();
    run.progress->update(pass.step, show && count > 0 ? device_sums.loss_sum.item<double>() / count : NAN, batch.size);
    if (pass.stopped_mid_epoch()) break;
  }
  run.progress->end_epoch();
  sums.train_loss_sum = device_sums.loss_sum.item<double>();
  sums.train_correct = device_sums.correct.item<double>();
  sums.train_count += static_cast<double>(device_sums.images);
  sums.allreduce_s = carried_allreduce_s + run.synchronizer->allreduce_seconds();
  sums.sync_wait_s = carried_sync_wait_s + run.synchronizer->wait_seconds();
  pass.images = device_sums.images;
  pass.positions_done = first + int64_t{pass.step - first_step} * run.passes->positions_per_step();
  pass.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return pass;
}

}  // namespace roost::train
