// roost/train/run_setup.cc — wiring a training run: model, resume point, device, gradient
// transport and synchronizer, optimizer, batches. Every rank, in the same order.
#include <thread>

#include "roost/core/error.h"
#include "roost/core/log.h"
#include "roost/model/pretrained.h"
#include "roost/train/graph_step.h"
#include "roost/train/run_parts.h"
#include "roost/train/shared_update.h"

namespace roost::train {

namespace {

int default_threads(const TrainContext& ctx) {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, ctx.local_size));
}

model::ResNet build_model(const TrainConfig& config, const std::vector<std::string>& classes) {
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
  return net;
}

// The rank's GPU when roost and libtorch both have CUDA, else the CPU; the model moves there.
void place_on_device(RunParts& run, const TrainContext& ctx) {
  const TrainConfig& config = run.config;
  run.on_gpu = ctx.device.device >= 0 && torch::cuda::is_available();
  if (ctx.device.device >= 0 && !run.on_gpu) log_info("libtorch has no CUDA support: training on CPU");
  run.device = run.on_gpu ? torch::Device(torch::kCUDA, ctx.device.device) : torch::Device(torch::kCPU);
  run.device_name = run.on_gpu ? ctx.device.name : "cpu";
  ROOST_USAGE_CHECK(run.on_gpu || config.preprocess != "gpu", "--preprocess gpu needs a CUDA device");
  ROOST_USAGE_CHECK(run.on_gpu || config.amp == "off", "--amp ", config.amp, " needs a CUDA device");
  run.gpu_preprocess = run.on_gpu && config.preprocess != "cpu" && kernels::GpuPreprocessor::available();
  run.amp_dtype = config.amp == "fp16" ? torch::kFloat16 : torch::kBFloat16;
  run.net->to(run.device);
  if (config.channels_last) {
    for (auto& p : run.net->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  if (run.on_gpu)
    at::globalContext().setBenchmarkCuDNN(true);  // fixed input shapes: pick the fastest convolutions once
}

// The optimizer step: on the host, where the ranks of a node map memory together (one node,
// or each node on the hierarchical allreduce), each rank steps its share of the parameters
// in that memory (shared_update.h); else every rank steps every parameter. Decided the same way on every rank; the
// reason when off.
std::string choose_update(RunParts& run) {
  if (run.config.shared_update == "off") return "--shared-update off";
  if (run.backend->on_device() || run.on_gpu) return "the gradients are on a GPU";
  if (run.config.amp == "fp16") return "fp16 loss scaling must see every gradient before a step";
  return enable_shared_update(run.params, *run.optimizer, *run.synchronizer, *run.backend->host_ring());
}

// Gradients travel on communicators of their own (sync/backend.h), driven by the
// synchronizer's background thread while this thread runs backward; synchronized BatchNorm's
// statistics over the host communicator.
void wire_transport(RunParts& run, const TrainContext& ctx) {
  run.bn_sync = std::make_unique<HostBatchNormSync>(*run.comm);
  if (run.config.sync_bn && run.world > 1) model::set_batch_norm_sync(*run.net, run.bn_sync.get());
  sync::Placement placement;
  placement.on_gpu = run.on_gpu;
  placement.gpu = ctx.device.device;
  placement.local_size = ctx.local_size;
  placement.gpu_count = ctx.device.device_count;
  run.backend = std::make_unique<sync::GradientBackend>(ctx.mpi_comm, *run.comm, placement, run.config.allreduce_path);
}

// The optimizer (with the resumed momentum), its schedule, the synchronizer that feeds it,
// and the loss scaler.
void wire_update(RunParts& run) {
  const TrainConfig& config = run.config;
  SgdOptions sgd;
  sgd.lr = config.lr;
  sgd.momentum = config.momentum;
  sgd.weight_decay = config.weight_decay;
  sgd.nesterov = config.nesterov;
  run.optimizer = std::make_unique<Sgd>(run.params, sgd);
  restore_momentum(*run.optimizer, run.params, run.resume.momentum);
  run.schedule = std::make_unique<LrSchedule>(config, run.resume.batch.lr_factor);
  run.synchronizer = std::make_unique<sync::GradientSynchronizer>(
      run.trainable, run.backend->reduce(), run.backend->negotiate(), run.rank, sync_options(config, run.rank));
  if (const gpu::CommStream* stream = run.backend->device_stream()) run.synchronizer->set_device_stream(stream);
  const std::string shared_why = choose_update(run);
  run.shared_update = run.synchronizer->updates();
  if (run.rank == 0 && run.world > 1)
    log_info("optimizer step: ", run.shared_update
                                     ? "shared (each rank steps its share of the parameters)"
                                     : "every rank steps every parameter (shared update off: " + shared_why + ")");
  run.scaler = std::make_unique<LossScaler>(config.amp == "fp16");
  run.scaler->restore(run.resume.loss_scale, run.resume.loss_scale_clean_steps);
}

void wire_batches(RunParts& run) {
  const TrainConfig& config = run.config;
  const torch::ScalarType input_dtype = config.amp == "off" || !run.gpu_preprocess ? torch::kFloat32 : run.amp_dtype;
  run.source = std::make_unique<BatchSource>(run.device, run.gpu_preprocess, config.channels_last, input_dtype,
                                             config.image_size);
  const bool prefetch =
      config.workers > 0 && (config.prefetch_next_pass == "on" || (config.prefetch_next_pass == "auto" && run.on_gpu));
  run.passes = std::make_unique<PassLoaders>(run.config, run.data, run.rank, run.world, run.gpu_preprocess,
                                             run.source->pack_on_workers(), prefetch);
  if (run.rank == 0 && prefetch)
    log_info("the next pass's decoding starts while the current pass's last batches train");
  run.class_counts = std::make_unique<ClassCounts>(*run.data.train, *run.data.val);
  const bool bar = config.progress == "bar" || (config.progress == "auto" && Progress::stdout_is_terminal());
  run.progress =
      std::make_unique<Progress>(bar, run.rank == 0 && config.progress != "none", config.epochs, config.log_every);
}

void log_start(const RunParts& run) {
  const TrainConfig& config = run.config;
  const auto& classes = run.data.train->class_names();
  log_info("roost train: ", run.world, " rank(s), arch ", config.arch, ", ", classes.size(), " classes [",
           join_names(classes), "], ", run.data.train->size(), " train / ", run.data.val->size(),
           " val images, device ", run.device_name, ", gradients over ", run.backend->name(), ", preprocessing on ",
           run.gpu_preprocess ? "gpu" : "cpu", ", ", torch::get_num_threads(), " thread(s) and ", config.workers,
           " decode worker(s) per rank", config.sync_bn ? ", synchronized BatchNorm" : "",
           config.freeze_backbone ? ", backbone frozen" : "");
}

}  // namespace

RunParts::RunParts() = default;
RunParts::~RunParts() = default;

TrainConfig resolve_auto(const TrainConfig& requested, const TrainContext& ctx) {
  TrainConfig c = requested;
  if (c.workers == kAutoWorkers) c.workers = auto_workers(default_threads(ctx), ctx.device.device >= 0);
  return c;
}

std::unique_ptr<RunParts> set_up_run(const TrainConfig& config, const TrainContext& ctx, Datasets data,
                                     const std::string& expected_run_id) {
  auto run = std::make_unique<RunParts>();
  run->config = config;
  run->comm = ctx.host_comm;
  run->rank = ctx.host_comm->rank();
  run->world = ctx.host_comm->size();
  run->data = std::move(data);

  torch::set_num_threads(config.threads > 0 ? config.threads : default_threads(ctx));
  torch::manual_seed(config.seed);
  run->net = build_model(config, run->data.train->class_names());
  run->trainable = trainable_parameters(run->net, config.freeze_backbone);
  run->params = values_of(run->trainable);
  run->resume =
      resume_training(config, expected_run_id, run->data.train->class_names(), run->net, run->params, *run->comm);
  run->config.batch_size = run->resume.batch.per_rank;  // --elastic-batch global may change it
  broadcast_state(run->net, *run->comm);
  place_on_device(*run, ctx);  // moves the parameters' data: the tensors stay the same objects
  wire_transport(*run, ctx);
  log_start(*run);
  wire_update(*run);
  wire_batches(*run);
  run->graphs = make_graph_stepper(*run);
  return run;
}

}  // namespace roost::train
