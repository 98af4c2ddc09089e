// roost/train/trainer.cc — the training loop: shard, preprocess, forward/backward,
// average gradients, step; exact global metrics each epoch; rank 0 writes the outputs.
#include "roost/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "roost/train/amp.h"
#include "roost/train/batch_source.h"
#include "roost/comm/nccl_communicator.h"
#include "roost/comm/ring_mpi_communicator.h"
#include "roost/core/mpi_scope.h"
#include "roost/sync/grad_sync.h"
#include "roost/core/error.h"
#include "roost/core/log.h"
#include "roost/data/dataset.h"
#include "roost/data/loader.h"
#include "roost/data/open.h"
#include "roost/data/sampler.h"
#include "roost/model/pretrained.h"
#include "roost/model/resnet.h"
#include "roost/model/state_dict.h"
#include "roost/train/metrics.h"
#include "roost/train/sgd.h"

namespace roost::train {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

struct Datasets {
  std::shared_ptr<data::Dataset> train, val;
};

// An ImageFolder root (root/train, root/val) or an HDF5 pack made by `roost pack`.
Datasets open_datasets(const std::string& root) {
  namespace fs = std::filesystem;
  if (!fs::exists(root)) ROOST_USAGE_ERROR("data dir ", root, " does not exist");
  if (!data::is_pack_path(root)) {
    if (!fs::is_directory(root)) ROOST_USAGE_ERROR("data dir ", root, " is not a directory");
    for (const char* split : {"train", "val"})
      if (!fs::is_directory(fs::path(root) / split))
        ROOST_USAGE_ERROR("data dir ", root, " has no ", split, "/ folder (expected ", root, "/", split,
                          "/<class>/*.jpg)");
  }
  Datasets d{data::open_split(root, "train"), data::open_split(root, "val")};
  if (d.train->class_names() != d.val->class_names())
    ROOST_USAGE_ERROR("train/val class mismatch: train has [", join(d.train->class_names()), "], val has [",
                      join(d.val->class_names()), "]");
  if (d.train->class_names().size() < 2)
    ROOST_USAGE_ERROR("need at least two classes, found ", d.train->class_names().size());
  return d;
}

// Makes every rank start from rank 0's parameters and buffers.
void broadcast_state(model::ResNet& net, comm::Communicator& comm) {
  for (auto& [name, tensor] : model::state_dict(*net)) {
    torch::NoGradGuard no_grad;
    ROOST_CHECK(tensor.is_contiguous() && tensor.device().is_cpu(), name, " must be a contiguous CPU tensor");
    comm.broadcast(tensor.data_ptr(), tensor.numel() * tensor.element_size(), 0);
  }
}

double step_lr(const TrainConfig& c, int epoch) { return c.lr * std::pow(c.lr_gamma, epoch / c.lr_step); }

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
}  // namespace

void preflight(const TrainConfig& config) {
  open_datasets(config.data_dir);
  if (!config.pretrained.empty() && !std::filesystem::is_regular_file(config.pretrained))
    ROOST_USAGE_ERROR("--pretrained ", config.pretrained, " is not a file");
}

TrainResult run_training(const TrainConfig& config, const TrainContext& ctx) {
  comm::Communicator& comm = *ctx.host_comm;
  const int rank = comm.rank(), world = comm.size();
  Datasets data = open_datasets(config.data_dir);
  const auto& classes = data.train->class_names();

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
  }
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

  std::unique_ptr<comm::Communicator> device_comm;
#ifdef ROOST_WITH_NCCL
  if (on_gpu) device_comm = std::make_unique<comm::NcclCommunicator>(ctx.mpi_comm, ctx.device.device);
#endif
  log_info("roost train: ", world, " rank(s), arch ", config.arch, ", ", classes.size(), " classes [",
           join(classes), "], ", data.train->size(), " train / ", data.val->size(), " val images, device ",
           on_gpu ? ctx.device.name : std::string("cpu"), ", gradients over ",
           device_comm ? "nccl" : "ring allreduce over mpi", ", preprocessing on ", gpu_preprocess ? "gpu" : "cpu",
           ", ", torch::get_num_threads(), " thread(s) per rank");

  SgdOptions sgd;
  sgd.lr = config.lr;
  sgd.momentum = config.momentum;
  sgd.weight_decay = config.weight_decay;
  sgd.nesterov = config.nesterov;
  Sgd optimizer(net->parameters(), sgd);
  if (on_gpu) at::globalContext().setBenchmarkCuDNN(true);  // fixed input shapes: pick the fastest convolutions once
  // Gradients travel on communicators of their own: the ring over MPI (or NCCL on GPU) for
  // the fused allreduces and a separate one for negotiation, both driven by the
  // synchronizer's background thread while this thread runs backward.
  MpiCommDup reduce_dup(ctx.mpi_comm), negotiate_dup(ctx.mpi_comm);
  std::unique_ptr<comm::Communicator> ring;
  if (!device_comm) ring = std::make_unique<comm::RingMpiCommunicator>(reduce_dup.get());
  sync::SyncOptions sopts;
  sopts.fusion_threshold_mb = config.fusion_threshold_mb;
  sopts.cycle_time_ms = config.cycle_time_ms;
  sopts.fp16_allreduce = config.fp16_allreduce;
  sopts.backward_passes_per_step = config.backward_passes_per_step;
  sopts.stall_warning_s = config.stall_warning_s;
  sopts.stall_shutdown_s = config.stall_shutdown_s;
  if (rank == 0) sopts.timeline_path = config.timeline;
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : net->named_parameters()) named.emplace_back(p.key(), p.value());
  sync::GradientSynchronizer synchronizer(named, device_comm ? *device_comm : *ring, negotiate_dup.get(), rank,
                                          sopts);
  LossScaler scaler(config.amp == "fp16");
  BatchSource source(device, gpu_preprocess, config.channels_last,
                     config.amp == "off" || !gpu_preprocess ? torch::kFloat32 : amp_dtype, config.image_size);
  std::unique_ptr<MetricsWriter> writer;
  if (rank == 0) writer = std::make_unique<MetricsWriter>(config.output_dir);

  TrainResult result;
  double best = -1;
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    const double lr = step_lr(config, epoch);
    optimizer.set_lr(lr);
    EpochSums sums;
    synchronizer.reset_timers();

    net->train();
    data::Loader train_loader(data.train, data::train_shard(data.train->size(), rank, world, config.seed, epoch),
                              loader_options(config, epoch, data::Augment::kTrain, gpu_preprocess));
    data::Batch batch;
    optimizer.zero_grad();
    torch::Tensor train_loss_acc = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
    torch::Tensor train_correct_acc = torch::zeros_like(train_loss_acc);
    int step = 0;
    const int steps = train_loader.num_batches();
    while (train_loader.next(batch)) {
      sums.data_wait_s += batch.wait_seconds;
      sums.skipped += batch.skipped;
      synchronizer.begin_backward();
      if (batch.size > 0) {
        auto [inputs, labels] = source.to_device(batch);
        torch::Tensor logits;
        {
          AutocastScope autocast(config.amp != "off", amp_dtype);
          logits = net->forward(inputs);
        }
        torch::Tensor loss = torch::cross_entropy_loss(logits.to(torch::kFloat32), labels);
        (scaler.enabled() ? loss * scaler.scale() : loss).backward();
        // Summed on the device and read once per log line: .item() every step would make
        // the host wait for the GPU and stop it from queueing the next step.
        torch::NoGradGuard no_grad;
        train_loss_acc = train_loss_acc + loss.detach().to(torch::kFloat64) * batch.size;
        train_correct_acc = train_correct_acc + logits.argmax(1).eq(labels).sum().to(torch::kFloat64);
        sums.train_count += batch.size;
      } else {
        synchronizer.submit_zero_gradients();
      }
      if (synchronizer.synchronize()) {  // last micro-batch of the step: gradients averaged
        bool finite = true;
        if (scaler.enabled()) {
          torch::NoGradGuard no_grad;
          for (auto& p : net->parameters()) finite = finite && torch::isfinite(p.grad()).all().item<bool>();
        }
        if (scaler.update(finite)) {
          if (scaler.enabled()) {
            torch::NoGradGuard no_grad;
            for (auto& p : net->parameters()) p.mutable_grad().div_(scaler.scale());
          }
          optimizer.step();
        }
        optimizer.zero_grad();
      }
      if (++step % config.log_every == 0 || step == steps)
        log_info("epoch ", epoch + 1, "/", config.epochs, " step ", step, "/", steps, " loss ",
                 sums.train_count > 0 ? train_loss_acc.item<double>() / sums.train_count : 0.0);
    }
    sums.train_loss_sum = train_loss_acc.item<double>();
    sums.train_correct = train_correct_acc.item<double>();
    const double train_time = seconds_since(epoch_start);

    net->eval();
    {
      torch::NoGradGuard no_grad;
      data::Loader val_loader(data.val, data::val_shard(data.val->size(), rank, world),
                              loader_options(config, epoch, data::Augment::kVal, gpu_preprocess));
      while (val_loader.next(batch)) {
        sums.data_wait_s += batch.wait_seconds;
        sums.skipped += batch.skipped;
        if (batch.size == 0) continue;
        auto [inputs, labels] = source.to_device(batch);
        AutocastScope autocast(config.amp != "off", amp_dtype);
        torch::Tensor logits = net->forward(inputs).to(torch::kFloat32);
        sums.val_loss_sum += torch::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum).item<double>();
        sums.val_correct += logits.argmax(1).eq(labels).sum().item<double>();
        sums.val_count += batch.size;
      }
    }
    sums.allreduce_s = synchronizer.allreduce_seconds();
    sums.sync_wait_s = synchronizer.wait_seconds();
    sums.allreduce(comm);

    EpochRecord record = EpochRecord::from(sums, world);
    record.epoch = epoch + 1;
    record.lr = lr;
    record.momentum = config.momentum;
    record.images_per_sec = train_time > 0 ? sums.train_count / train_time : 0;
    record.epoch_time_s = seconds_since(epoch_start);
    const bool improved = record.val_acc > best;
    if (improved) best = record.val_acc;
    record.best_val_acc = best;
    log_info("epoch ", record.epoch, "/", config.epochs, ": train loss ", record.train_loss, " acc ",
             record.train_acc, " | val loss ", record.val_loss, " acc ", record.val_acc, " | ",
             record.images_per_sec, " img/s");
    if (rank == 0) {
      writer->append(record);
      if (improved) {
        model::save_weights_h5(config.output_dir + "/model.h5", model::state_dict(*net), config.arch, classes);
      }
    }
    result.final_val_acc = record.val_acc;
    result.epochs = epoch + 1;
  }
  result.best_val_acc = best;

  model::NamedTensors params;
  for (const auto& p : net->named_parameters()) params.emplace_back(p.key(), p.value());
  result.params_crc32 = model::tensors_crc32(params);
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", result.params_crc32);
  log(LogLevel::kDebug, std::string("final parameters crc32 ") + crc);
  return result;
}

}  // namespace roost::train
