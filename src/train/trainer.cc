// roost/train/trainer.cc — the training loop: shard, preprocess, forward/backward,
// average gradients, step; exact global metrics each epoch; rank 0 writes the outputs.
#include "roost/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "roost/core/fs.h"

#include "roost/train/amp.h"
#include "roost/train/batch_source.h"
#include "roost/comm/nccl_communicator.h"
#include "roost/comm/ring_mpi_communicator.h"
#include "roost/comm/mpi_scope.h"
#include "roost/sync/grad_sync.h"
#include "roost/core/error.h"
#include "roost/core/log.h"
#include "roost/data/dataset.h"
#include "roost/data/loader.h"
#include "roost/data/next_loader.h"
#include "roost/data/open.h"
#include "roost/data/sampler.h"
#include "roost/model/pretrained.h"
#include "roost/model/resnet.h"
#include "roost/model/state_dict.h"
#include "roost/train/checkpoint.h"
#include "roost/train/class_counts.h"
#include "roost/train/config_check.h"
#include "roost/train/datasets.h"
#include "roost/train/metrics.h"
#include "roost/train/model_setup.h"
#include "roost/train/preemption.h"
#include "roost/train/progress.h"
#include "roost/train/resume.h"
#include "roost/train/run_outputs.h"
#include "roost/train/shared_update.h"
#include "roost/train/schedule.h"
#include "roost/train/sgd.h"
#include "roost/train/summary.h"

namespace roost::train {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

data::LoaderOptions loader_options(const TrainConfig& c, int epoch, data::Augment augment, bool decode_only) {
  data::LoaderOptions o;
  o.batch_size = c.batch_size;
  o.workers = c.workers;
  o.image_size = c.image_size;
  o.resize_short = c.resize_short;
  o.crop.scale_lo = c.crop_scale_lo;
  o.crop.scale_hi = c.crop_scale_hi;
  o.crop.ratio_lo = c.crop_ratio_lo;
  o.crop.ratio_hi = c.crop_ratio_hi;
  o.seed = c.seed;
  o.epoch = static_cast<uint64_t>(epoch);
  o.augment = augment;
  o.decode_only = decode_only;
  return o;
}

int default_threads(const TrainContext& ctx) {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, ctx.local_size));
}

// The options whose value follows the machine (after every rank checked it got the same
// options): --workers auto.
TrainConfig resolve_auto(const TrainConfig& requested, const TrainContext& ctx) {
  TrainConfig c = requested;
  if (c.workers == kAutoWorkers) c.workers = auto_workers(default_threads(ctx), ctx.device.device >= 0);
  return c;
}

// Fault injection for the reliability tests: ROOST_FAULT_STALL=RANK:STEP makes that rank
// hang (stop submitting gradients) before step STEP of the first epoch, as a stuck GPU or
// filesystem would. Unset, this costs one getenv per run.
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

}  // namespace

TrainResult run_training(const TrainConfig& requested, const TrainContext& ctx) {
  const auto run_start = Clock::now();
  comm::Communicator& comm = *ctx.host_comm;
  const int rank = comm.rank(), world = comm.size();
  // First, so that a signal during set-up stops the run after its first step instead of
  // killing the rank with nothing written.
  PreemptionWatch preemption(ctx.mpi_comm, ctx.signals_relayed);
  check_same_config(requested, comm);
  const TrainConfig config = resolve_auto(requested, ctx);
  Datasets data = open_datasets(config.data_dir);
  const auto& classes = data.train->class_names();
  // Before anything is built or written: may this run use the outputs directory?
  const OutputsPlan plan =
      plan_outputs(config, classes, dataset_identity(config.data_dir, *data.train, *data.val), comm);
  RunOutputs outputs(config, plan, rank);

  torch::set_num_threads(config.threads > 0 ? config.threads : default_threads(ctx));
  torch::manual_seed(config.seed);
  model::ResNetOptions mopts;
  mopts.arch = config.arch;
  mopts.num_classes = static_cast<int64_t>(classes.size());
  mopts.zero_init_residual = config.zero_init_residual;
  model::ResNet net = model::make_resnet(mopts);
  if (!config.pretrained.empty()) {
    model::PretrainedReport r = model::load_pretrained(net, config.pretrained);
    log_info("loaded ", r.loaded, " tensors from ", config.pretrained,
             r.classifier_replaced ? "; fc replaced by a new Linear(" + std::to_string(net->feature_dim()) + ", " +
                                         std::to_string(classes.size()) + ") for this dataset's classes"
                                   : std::string());
  } else if (config.freeze_backbone) {
    log_warn("--freeze-backbone without --pretrained: only fc trains, on a randomly initialised backbone");
  }
  const auto trainable = trainable_parameters(net, config.freeze_backbone);
  ResumePoint resume = resume_training(config, plan.existing_run_id, classes, net, values_of(trainable), comm);
  outputs.adopt_run_id(resume.run_id);
  broadcast_state(net, comm);

  // Device: the rank's GPU when roost and libtorch both have CUDA, else the CPU.
  const bool on_gpu = ctx.device.device >= 0 && torch::cuda::is_available();
  if (ctx.device.device >= 0 && !on_gpu) log_info("libtorch has no CUDA support: training on CPU");
  torch::Device device = on_gpu ? torch::Device(torch::kCUDA, ctx.device.device) : torch::Device(torch::kCPU);
  ROOST_USAGE_CHECK(on_gpu || config.preprocess != "gpu", "--preprocess gpu needs a CUDA device");
  ROOST_USAGE_CHECK(on_gpu || config.amp == "off", "--amp ", config.amp, " needs a CUDA device");
  const bool gpu_preprocess = on_gpu && config.preprocess != "cpu" && kernels::GpuPreprocessor::available();
  const torch::ScalarType amp_dtype = config.amp == "fp16" ? torch::kFloat16 : torch::kBFloat16;
  net->to(device);
  if (config.channels_last) {
    for (auto& p : net->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  HostBatchNormSync bn_sync(comm);
  if (config.sync_bn && world > 1) model::set_batch_norm_sync(*net, &bn_sync);

  std::unique_ptr<comm::Communicator> device_comm;
#ifdef ROOST_WITH_NCCL
  // NCCL needs a GPU of its own per rank. Where a node runs more ranks than it has GPUs
  // (say np=2 on one GPU), every rank takes the MPI path instead: the choice is agreed
  // across the job, since all ranks must use the same collective.
  double shares = on_gpu && ctx.local_size > ctx.device.device_count ? 1.0 : 0.0;
  comm.allreduce(&shares, 1, comm::DType::kFloat64, comm::ReduceOp::kSum);
  if (on_gpu && shares == 0) {
    device_comm = std::make_unique<comm::NcclCommunicator>(ctx.mpi_comm, ctx.device.device);
  } else if (on_gpu) {
    log_info("a node runs more ranks than it has GPUs (this one: ", ctx.local_size, " rank(s), ",
             ctx.device.device_count, " GPU(s)): NCCL needs one GPU per rank, so gradients go over "
             "MPI through host memory");
  }
#endif
  const std::string backend = device_comm ? "nccl" : "ring allreduce over mpi";
  log_info("roost train: ", world, " rank(s), arch ", config.arch, ", ", classes.size(), " classes [",
           join_names(classes), "], ", data.train->size(), " train / ", data.val->size(), " val images, device ",
           on_gpu ? ctx.device.name : std::string("cpu"), ", gradients over ", backend, ", preprocessing on ",
           gpu_preprocess ? "gpu" : "cpu", ", ", torch::get_num_threads(), " thread(s) and ", config.workers, " decode worker(s) per rank",
           config.sync_bn ? ", synchronized BatchNorm" : "", config.freeze_backbone ? ", backbone frozen" : "");

  SgdOptions sgd;
  sgd.lr = config.lr;
  sgd.momentum = config.momentum;
  sgd.weight_decay = config.weight_decay;
  sgd.nesterov = config.nesterov;
  const std::vector<torch::Tensor> trainable_tensors = values_of(trainable);
  Sgd optimizer(trainable_tensors, sgd);
  restore_momentum(optimizer, trainable_tensors, resume.momentum);
  const LrSchedule schedule(config, world);
  if (on_gpu) at::globalContext().setBenchmarkCuDNN(true);  // fixed input shapes: pick the fastest convolutions once
  // Gradients travel on communicators of their own: the ring over MPI (or NCCL on GPU) for
  // the fused allreduces and a separate one for negotiation, both driven by the
  // synchronizer's background thread while this thread runs backward.
  MpiCommDup reduce_dup(ctx.mpi_comm), negotiate_dup(ctx.mpi_comm);
  std::unique_ptr<comm::Communicator> ring;
  if (!device_comm) ring = std::make_unique<comm::RingMpiCommunicator>(reduce_dup.get());
  sync::GradientSynchronizer synchronizer(trainable, device_comm ? *device_comm : *ring, negotiate_dup.get(), rank,
                                          sync_options(config, rank));
  // On the host, with every rank on one node, each rank steps its share of the parameters
  // in memory all ranks map (shared_update.h). Decided the same way on every rank.
  std::string shared_why;
  if (config.shared_update == "off") shared_why = "--shared-update off";
  else if (device_comm || on_gpu) shared_why = "the gradients are on a GPU";
  else if (config.amp == "fp16") shared_why = "fp16 loss scaling must see every gradient before a step";
  else shared_why = enable_shared_update(trainable_tensors, optimizer, synchronizer, *ring);
  const bool shared_update = synchronizer.updates();
  if (rank == 0 && world > 1)
    log_info("optimizer step: ", shared_update ? "shared (each rank steps its share of the parameters)"
                                               : "every rank steps every parameter (shared update off: " + shared_why + ")");
  LossScaler scaler(config.amp == "fp16");
  scaler.restore(resume.loss_scale, resume.loss_scale_clean_steps);
  BatchSource source(device, gpu_preprocess, config.channels_last,
                     config.amp == "off" || !gpu_preprocess ? torch::kFloat32 : amp_dtype, config.image_size);
  const StallFault stall_fault = StallFault::from_env();
  Progress progress(config.progress == "bar" || (config.progress == "auto" && Progress::stdout_is_terminal()),
                    rank == 0 && config.progress != "none", config.epochs, config.log_every);
  std::vector<EpochRecord> history = resume.history;
  outputs.begin(history);
  RunSummary summary;
  summary.world_size = world;
  summary.device = on_gpu ? ctx.device.name : "cpu";
  summary.gradient_backend = backend;
  summary.resumed_from = resume.path;
  summary.shared_update = shared_update;
  ClassCounts class_counts(*data.train, *data.val);

  // Everything rank 0 needs to write a checkpoint at (epochs_done, step) with these sums.
  auto write_checkpoint = [&](int epochs_done, int step, const EpochSums& partial, double best_so_far) {
    if (rank != 0) return std::string();
    Checkpoint c;
    c.model = model::state_dict(*net);
    c.momentum = optimizer.momentum_buffers();
    c.rng = at::detail::getDefaultCPUGenerator().get_state();
    c.epochs_done = epochs_done;
    c.step = step;
    c.world_size = world;
    c.best_val_acc = best_so_far;
    c.loss_scale = scaler.scale();
    c.loss_scale_clean_steps = scaler.clean_steps();
    c.partial = partial;
    c.history = history;
    c.config_json = to_json(config);
    return outputs.checkpoint(std::move(c));
  };
  auto finish = [&](const std::string& status) {
    summary.history = history;
    summary.wall_time_s = seconds_since(run_start);
    outputs.finish(status, model::state_dict(*net), summary);
  };

  // Loaders of the passes (training of an epoch, then its validation): the next one starts
  // as soon as the current one has decoded its last sample (next_loader.h).
  // A pass's key: 2 × epoch for training, + 1 for validation.
  const bool prefetch =
      config.workers > 0 && (config.prefetch_next_pass == "on" || (config.prefetch_next_pass == "auto" && on_gpu));
  data::NextLoader ahead(prefetch);
  auto train_pass = [&](int epoch, int first_step) -> data::NextLoader::Make {
    return [&, epoch, first_step] {
      std::vector<int64_t> shard = data::train_shard(data.train->size(), rank, world, config.seed, epoch);
      shard.erase(shard.begin(), shard.begin() + std::min<size_t>(shard.size(), size_t(first_step) * config.batch_size));
      data::LoaderOptions o = loader_options(config, epoch, data::Augment::kTrain, gpu_preprocess);
      o.prepare = source.pack_on_workers();
      return std::make_unique<data::Loader>(data.train, std::move(shard), o);
    };
  };
  auto val_pass = [&](int epoch) -> data::NextLoader::Make {
    return [&, epoch] {
      data::LoaderOptions o = loader_options(config, epoch, data::Augment::kVal, gpu_preprocess);
      o.prepare = source.pack_on_workers();
      return std::make_unique<data::Loader>(data.val, data::val_shard(data.val->size(), rank, world), o);
    };
  };
  if (rank == 0 && prefetch) log_info("the next pass's decoding starts while the current pass's last batches train");

  TrainResult result;
  double best = resume.best_val_acc;
  bool warned_single = false;
  for (int epoch = resume.epochs_done; epoch < config.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    const bool resumed_epoch = resume.resumed && epoch == resume.epochs_done && resume.step > 0;
    const int first_step = resumed_epoch ? resume.step : 0;
    // Rank 0 carries the interrupted epoch's global sums; the others start from zero.
    EpochSums sums = resumed_epoch && rank == 0 ? resume.partial : EpochSums{};
    sums.allreduce_s = sums.sync_wait_s = 0;  // timers are re-read from the synchronizer below
    const double carried_allreduce_s = resumed_epoch && rank == 0 ? resume.partial.allreduce_s : 0;
    const double carried_sync_wait_s = resumed_epoch && rank == 0 ? resume.partial.sync_wait_s : 0;
    synchronizer.reset_timers();
    class_counts.reset();

    set_train_mode(net, config.freeze_backbone);
    const int64_t shard_size = data::train_shard_size(data.train->size(), world);
    const int steps = static_cast<int>((shard_size + config.batch_size - 1) / config.batch_size);
    const std::unique_ptr<data::Loader> train_loader = ahead.take(2 * epoch, train_pass(epoch, first_step));
    data::Batch batch;
    optimizer.zero_grad();
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
    torch::Tensor train_loss_acc = torch::full({}, sums.train_loss_sum, f64);
    torch::Tensor train_correct_acc = torch::full({}, sums.train_correct, f64);
    int step = first_step;
    int64_t images_this_run = 0;
    int stop_signal = 0;
    progress.start_epoch(epoch + 1, steps, first_step);
    const sync::GradientSynchronizer::ReadyFn step_ready = [&](const std::vector<torch::Tensor>& ready) {
      optimizer.step(ready);
    };
    while (train_loader->next(batch)) {
      ahead.start_after(*train_loader, 2 * epoch + 1, val_pass(epoch));
      stall_fault.maybe_hang(rank, epoch, step);
      preemption.begin_step();
      sums.data_wait_s += batch.wait_seconds;
      sums.skipped += batch.skipped;
      class_counts.add_train(batch.labels, batch.size);
      // The shared update steps parameters while backward runs: the step's rate is set first.
      if (shared_update) optimizer.set_lr(schedule.at(epoch, step, steps));
      synchronizer.begin_backward();
      // At 32 px or less the last stage's maps are 1x1: a batch of one image gives BatchNorm
      // one value per channel, whose unbiased variance (0/0) would make the running
      // statistics NaN. Such a batch (a shard's last, of one image) is left out like an
      // empty one: zero gradients from this rank. Not with synchronized BatchNorm over
      // several ranks: its statistics count every rank's values, and its collectives need
      // this rank's forward pass.
      const bool one_value_per_channel =
          batch.size == 1 && config.image_size <= 32 && !(config.sync_bn && world > 1);
      if (one_value_per_channel && !warned_single) {
        log_warn("a training batch of one image at --image-size ", config.image_size,
                 " is skipped (BatchNorm needs more than one value per channel)");
        warned_single = true;
      }
      if (batch.size > 0 && !one_value_per_channel) {
        auto [inputs, labels] = source.to_device(batch);
        torch::Tensor logits;
        {
          AutocastScope autocast(config.amp != "off", amp_dtype);
          logits = net->forward(inputs);
        }
        torch::Tensor loss = torch::cross_entropy_loss(logits.to(torch::kFloat32), labels, {},
                                                       at::Reduction::Mean, -100, config.label_smoothing);
        (scaler.enabled() ? loss * scaler.scale() : loss).backward();
        // Summed on the device and read once per log line: .item() every step would make
        // the host wait for the GPU and stop it from queueing the next step.
        torch::NoGradGuard no_grad;
        train_loss_acc = train_loss_acc + loss.detach().to(torch::kFloat64) * batch.size;
        train_correct_acc = train_correct_acc + logits.argmax(1).eq(labels).sum().to(torch::kFloat64);
        sums.train_count += batch.size;
        images_this_run += batch.size;
      } else if (batch.size == 0 && config.sync_bn && world > 1) {
        // Synchronized BatchNorm's collectives need this rank's forward and backward pass
        // even when every image of its batch was unreadable: an empty batch adds nothing to
        // the statistics and its zero loss gives zero gradients, through the usual hooks.
        const torch::Tensor empty =
            torch::zeros({0, 3, config.image_size, config.image_size}, torch::TensorOptions().device(device));
        torch::Tensor logits;
        {
          AutocastScope autocast(config.amp != "off", amp_dtype);
          logits = net->forward(empty);
        }
        (logits.to(torch::kFloat32).sum() * 0.0).backward();
      } else {
        synchronizer.submit_zero_gradients();
      }
      ++step;
      // On the host without loss scaling, each group of parameters is stepped as soon as its
      // averaged gradients arrive, in time this thread would otherwise spend waiting for the
      // last allreduces (the same update, bitwise). Loss scaling must first see every
      // gradient; on a GPU the multi-tensor step over all parameters launches fewer kernels.
      const bool step_early = !on_gpu && !scaler.enabled() && !shared_update;
      if (step_early) optimizer.set_lr(schedule.at(epoch, step - 1, steps));
      if (synchronizer.synchronize(step_early ? step_ready : nullptr)) {  // gradients averaged
        bool finite = true;
        if (scaler.enabled()) {
          std::vector<torch::Tensor> grads;
          for (auto& p : trainable_tensors) grads.push_back(p.grad());
          finite = all_finite(grads);
        }
        if (scaler.update(finite)) {
          if (scaler.enabled()) {
            torch::NoGradGuard no_grad;
            for (auto& p : trainable_tensors) p.mutable_grad().div_(scaler.scale());
          }
          if (shared_update) {
            optimizer.end_sliced_step();  // every rank's share is stepped
          } else if (!step_early) {
            optimizer.set_lr(schedule.at(epoch, step - 1, steps));
            optimizer.step();
          }
        }
        optimizer.zero_grad();
        stop_signal = preemption.end_step();
      }
      // The loss is read from the device only when shown (each read waits for the GPU).
      const bool show = step % config.log_every == 0 || step == steps || stop_signal || progress.wants_loss();
      progress.update(step, show && sums.train_count > 0 ? train_loss_acc.item<double>() / sums.train_count : NAN,
                      batch.size);
      if (stop_signal && step < steps) break;
    }
    progress.end_epoch();
    sums.train_loss_sum = train_loss_acc.item<double>();
    sums.train_correct = train_correct_acc.item<double>();
    sums.allreduce_s = carried_allreduce_s + synchronizer.allreduce_seconds();
    sums.sync_wait_s = carried_sync_wait_s + synchronizer.wait_seconds();
    const double train_time = seconds_since(epoch_start);

    if (stop_signal && step < steps) {  // stopped mid-epoch: keep the partial sums, write, leave
      sums.allreduce(comm);
      const std::string path = write_checkpoint(epoch, step, sums, best);
      finish(std::string("stopped by ") + PreemptionWatch::name(stop_signal));
      comm.barrier();  // the checkpoint is on disk before any rank exits
      log_info("stopped by ", PreemptionWatch::name(stop_signal), " in epoch ", epoch + 1, " after step ", step,
               "/", steps, rank == 0 ? "; checkpoint " + path : std::string(), "; rerun with --resume auto to continue");
      result.stopped_by_signal = stop_signal;
      result.epochs = epoch;
      result.best_val_acc = best;
      return result;
    }

    if (world > 1 && !config.sync_bn) broadcast_buffers(net, comm);
    net->eval();
    {
      torch::NoGradGuard no_grad;
      const std::unique_ptr<data::Loader> val_loader = ahead.take(2 * epoch + 1, val_pass(epoch));
      // Summed on the device and read once after the pass, as in training: a read per batch
      // would make the host wait for the GPU before it prepares the next batch.
      torch::Tensor val_loss_acc = torch::full({}, sums.val_loss_sum, f64);
      torch::Tensor val_correct_acc = torch::full({}, sums.val_correct, f64);
      while (val_loader->next(batch)) {
        ahead.start_after(*val_loader, 2 * (epoch + 1), epoch + 1 < config.epochs ? train_pass(epoch + 1, 0) : nullptr);
        sums.data_wait_s += batch.wait_seconds;
        sums.skipped += batch.skipped;
        if (batch.size == 0) continue;
        class_counts.add_val(batch.labels, batch.size);
        auto [inputs, labels] = source.to_device(batch);
        AutocastScope autocast(config.amp != "off", amp_dtype);
        torch::Tensor logits = net->forward(inputs).to(torch::kFloat32);
        val_loss_acc = val_loss_acc +
                       torch::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum).to(torch::kFloat64);
        val_correct_acc = val_correct_acc + logits.argmax(1).eq(labels).sum().to(torch::kFloat64);
        sums.val_count += batch.size;
      }
      sums.val_loss_sum = val_loss_acc.item<double>();
      sums.val_correct = val_correct_acc.item<double>();
    }
    sums.allreduce(comm);
    // A pass with every sample unreadable would record zeros that look like results. The sums
    // are global, so every rank stops here alike; earlier epochs' outputs stay.
    if (const char* split = sums.unreadable_pass(data.train->size(), data.val->size())) {
      finish(std::string("failed: no readable ") + split + " images");
      ROOST_USAGE_ERROR("epoch ", epoch + 1, ": none of the ", split, " images could be read (",
                        static_cast<int64_t>(sums.skipped), " skipped as unreadable this epoch)");
    }
    // Nor is an epoch in which one class could not be read at all. Checked on the global
    // counts, so every rank stops alike; not on an epoch resumed mid-way, whose earlier
    // steps were read by the process that stopped.
    class_counts.allreduce(comm);
    if (const std::string missing = class_counts.missing_class(!resumed_epoch); !missing.empty()) {
      finish("failed: " + missing);
      ROOST_USAGE_ERROR("epoch ", epoch + 1, ": ", missing);
    }
    if (epoch == resume.epochs_done || sums.skipped > 0)
      log_info("images read per class this epoch: ", class_counts.summary_line());
    summary.class_counts_json = class_counts.json();
    double images_total = static_cast<double>(images_this_run);
    comm.allreduce(&images_total, 1, comm::DType::kFloat64, comm::ReduceOp::kSum);

    EpochRecord record = EpochRecord::from(sums, world);
    record.epoch = epoch + 1;
    record.lr = optimizer.lr();
    record.momentum = config.momentum;
    record.images_per_sec = train_time > 0 ? images_total / train_time : 0;
    record.epoch_time_s = seconds_since(epoch_start);
    const bool improved = record.val_acc > best;
    if (improved) best = record.val_acc;
    record.best_val_acc = best;
    history.push_back(record);
    log_info("epoch ", record.epoch, "/", config.epochs, ": train loss ", record.train_loss, " acc ",
             record.train_acc, " | val loss ", record.val_loss, " acc ", record.val_acc, " | ",
             record.images_per_sec, " img/s");
    outputs.record_epoch(history, improved, model::state_dict(*net));
    result.final_val_acc = record.val_acc;
    result.epochs = epoch + 1;
    // Signals seen during validation count too; every rank learns of them here.
    stop_signal = preemption.agree_now();
    const bool due = config.checkpoint_every > 0 && (epoch + 1) % config.checkpoint_every == 0;
    if (due || stop_signal) {
      const std::string path = write_checkpoint(epoch + 1, 0, EpochSums{}, best);
      if (rank == 0) log(LogLevel::kDebug, "checkpoint " + path);
    }
    if (stop_signal && epoch + 1 < config.epochs) {
      finish(std::string("stopped by ") + PreemptionWatch::name(stop_signal));
      comm.barrier();
      log_info("stopped by ", PreemptionWatch::name(stop_signal), " after epoch ", epoch + 1,
               "; rerun with --resume auto to continue");
      result.stopped_by_signal = stop_signal;
      result.best_val_acc = best;
      return result;
    }
  }
  result.best_val_acc = best;
  finish("completed");

  model::NamedTensors params;
  for (const auto& p : net->named_parameters()) params.emplace_back(p.key(), p.value());
  result.params_crc32 = model::tensors_crc32(params);
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", result.params_crc32);
  log(LogLevel::kDebug, std::string("final parameters crc32 ") + crc);
  return result;
}

}  // namespace roost::train
