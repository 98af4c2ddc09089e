// train_options.cc — `roost train`'s option table and its conversion to a TrainConfig.
#include "train_options.h"

#include <charconv>
#include <memory>
#include <string>

namespace roost::cli {

namespace {

using Value = std::shared_ptr<cxxopts::Value>;
template <typename T>
Value s(T v) {
  return cxxopts::value<std::string>()->default_value(std::to_string(v));
}
Value str(const std::string& v) { return cxxopts::value<std::string>()->default_value(v); }
// A double default as its shortest exact decimal (0.001, not 0.0010000000000000000208).
Value num(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return cxxopts::value<std::string>()->default_value(std::string(buf, r.ptr));
}

void add_data_options(cxxopts::Options& o, const train::TrainConfig& d) {
  // clang-format off
  o.add_options("Data")
      ("data-dir", "ImageFolder root with train/ and val/, or an HDF5 pack from roost pack (required)", cxxopts::value<std::string>())
      ("output-dir", "where metrics.jsonl, model.h5 and logs/ are written", str(d.output_dir))
      ("image-size", "train crop and val crop size in pixels", s(d.image_size))
      ("resize-short", "validation Resize() of the short side before the center crop (default: "
                       "round(image-size x 256/224), torchvision's ratio: 256 at 224, 37 at 32)",
       cxxopts::value<std::string>())
      ("crop-scale-min", "RandomResizedCrop smallest area fraction", num(d.crop_scale_lo))
      ("crop-scale-max", "RandomResizedCrop largest area fraction", num(d.crop_scale_hi))
      ("crop-ratio-min", "RandomResizedCrop smallest aspect ratio (w/h)", num(d.crop_ratio_lo))
      ("crop-ratio-max", "RandomResizedCrop largest aspect ratio (w/h)", num(d.crop_ratio_hi))
      ("jpeg-dct-scale", "off|on: on decodes a JPEG at 1/2, 1/4 or 1/8 of its size (libjpeg-turbo's DCT scaling) "
                         "when the crop (train) or the image (val) still covers the resize target at that scale: "
                         "several times faster for crops that shrink 2x or more, but the pixels are no longer "
                         "PIL's; off decodes at full size, as torchvision does", str(d.jpeg_dct_scale))
      ("workers", "decode threads per rank, or auto: from the rank's share of the node's cores (a CPU rank: "
                  "a quarter of them, at least 1, as the model uses the rest; a GPU rank: all but one, at most 16)",
       str("auto"))
      ("prefetch-next-pass", "auto|on|off: once the workers have decoded a pass's last sample they start on the "
                             "next pass (validation, the next epoch) while its last batches train, which "
                             "shortens or removes the wait for the next pass's first batch; auto = on when "
                             "training on a GPU (needs --workers > 0)", str(d.prefetch_next_pass));
  // clang-format on
}

void add_model_options(cxxopts::Options& o, const train::TrainConfig& d) {
  // clang-format off
  o.add_options("Model")
      ("arch", "resnet18|resnet34|resnet50|resnet101|resnet152", str(d.arch))
      ("zero-init-residual", "zero-initialise each residual block's last BatchNorm")
      ("pretrained", "start from these weights: a torchvision .pth state dict or a roost .h5 "
                     "(fc is replaced when the class count differs)",
       cxxopts::value<std::string>()->default_value(""))
      ("freeze-backbone", "train only the classifier (fc); the backbone's BatchNorms stay in eval mode")
      ("sync-bn", "BatchNorm statistics over the global batch of all ranks (SyncBatchNorm)");
  // clang-format on
}

void add_optimisation_options(cxxopts::Options& o, const train::TrainConfig& d) {
  // clang-format off
  o.add_options("Optimisation")
      ("epochs", "training epochs", s(d.epochs))
      ("batch-size", "images per rank per step", s(d.batch_size))
      ("lr", "SGD learning rate", num(d.lr))
      ("momentum", "SGD momentum", num(d.momentum))
      ("weight-decay", "L2 weight decay", num(d.weight_decay))
      ("nesterov", "Nesterov momentum")
      ("lr-step", "StepLR: epochs between learning-rate decays", s(d.lr_step))
      ("lr-gamma", "StepLR: decay factor", num(d.lr_gamma))
      ("lr-scaling", "none|linear: linear multiplies --lr by the number of ranks", str(d.lr_scaling))
      ("elastic-batch", "per-rank|global: resumed at another number of ranks, keep each rank's batch (the global batch "
       "and a linear-scaled lr follow the ranks) or the checkpoint's global batch (each rank's becomes global / ranks)",
       str(d.elastic_batch))
      ("warmup-epochs", "ramp the learning rate up linearly over this many epochs (may be fractional)", num(d.warmup_epochs))
      ("label-smoothing", "cross-entropy label smoothing", num(d.label_smoothing))
      ("seed", "seed of initialisation, shuffling and augmentation", s(d.seed));
  // clang-format on
}

void add_execution_options(cxxopts::Options& o, const train::TrainConfig& d) {
  // clang-format off
  o.add_options("Execution")
      ("threads", "intra-op threads per rank (0 = cores / ranks on the node)", s(d.threads))
      ("mpi-yield", "auto|on|off: Open MPI yields the CPU while a rank waits instead of spinning; auto "
                    "= when ranks x threads fill the node's cores (an exported "
                    "OMPI_MCA_mpi_yield_when_idle wins)", str(d.mpi_yield))
      ("preprocess", "auto|cpu|gpu: where images are cropped, resized and normalized", str(d.preprocess))
      ("amp", "off|bf16|fp16 mixed precision (GPU only)", str(d.amp))
      ("channels-last", "NHWC memory format for the model and inputs")
      ("cuda-graphs", "auto|on|off: replay the training step as a CUDA graph (auto: on a GPU when nothing prevents "
       "it; on: an error says what prevents it)", str(d.cuda_graphs))
      ("log-every", "steps between progress lines", s(d.log_every))
      ("progress", "auto|bar|lines|none: auto draws a bar when stdout is a terminal (under mpirun a "
                   "rank's stdout is a pseudo-terminal: use lines when collecting logs)", str(d.progress))
      ("h,help", "show this help");
  // clang-format on
}

void add_checkpoint_options(cxxopts::Options& o, const train::TrainConfig& d) {
  // clang-format off
  o.add_options("Checkpoints")
      ("checkpoint-every", "epochs between checkpoints in OUT/checkpoints (0 = only when stopped by a signal)",
       s(d.checkpoint_every))
      ("keep-checkpoints", "newest checkpoints kept", s(d.keep_checkpoints))
      ("resume", "auto (newest valid checkpoint in OUT/checkpoints, else a fresh start) or a checkpoint file",
       cxxopts::value<std::string>()->default_value(""))
      ("overwrite", "replace the run whose outputs are in --output-dir (its checkpoints, metrics, model "
                    "and summary are deleted); without it or --resume, a used --output-dir is refused");
  // clang-format on
}

void add_synchronization_options(cxxopts::Options& o, const train::TrainConfig& d) {
  // clang-format off
  o.add_options("Gradient synchronization")
      ("fusion-threshold-mb", "largest fused allreduce buffer in MiB", num(d.fusion_threshold_mb))
      ("cycle-time-ms", "period of the background negotiation thread", num(d.cycle_time_ms))
      ("fp16-allreduce", "send gradients as float16 (halves the bytes on the wire)")
      ("allreduce-path", "auto|ring|shm|hier: the host allreduce; auto: on one node shm up to 64 MiB and "
                         "ring above, on several nodes hier when some node runs more than one rank, else ring",
       str(d.allreduce_path))
      ("shared-update", "auto|off: on the host, the parameters live in memory the ranks of a node "
                        "all map (one node, or several on the hier path) and each rank sums and steps only its share of every gradient group "
                        "(auto); off: every rank averages and steps every parameter", str(d.shared_update))
      ("backward-passes-per-step", "micro-batches accumulated before each allreduce", s(d.backward_passes_per_step))
      ("stall-warning-s", "warn when some ranks submitted a gradient and others did not for this long", num(d.stall_warning_s))
      ("stall-shutdown-s", "stop the job after a stall this long (0 = never)", num(d.stall_shutdown_s))
      ("timeline", "write a Chrome-trace timeline of gradient synchronization to this file",
       cxxopts::value<std::string>()->default_value(""));
  // clang-format on
}

}  // namespace

cxxopts::Options train_options() {
  cxxopts::Options o("roost train",
                     "Fine-tune a ResNet on an ImageFolder tree, one process per GPU (or CPU slot):\n"
                     "  mpirun -np N roost train --data-dir D --output-dir OUT [options]\n"
                     "D holds train/<class>/*.{jpg,jpeg,png} and val/<class>/..., or is a pack (D.h5).");
  const train::TrainConfig d;  // every default shown comes from here
  add_data_options(o, d);
  add_model_options(o, d);
  add_optimisation_options(o, d);
  add_execution_options(o, d);
  add_checkpoint_options(o, d);
  add_synchronization_options(o, d);
  return o;
}

train::TrainConfig to_config(const cxxopts::ParseResult& r) {
  train::TrainConfig c;
  if (r.count("data-dir")) c.data_dir = r["data-dir"].as<std::string>();
  c.output_dir = r["output-dir"].as<std::string>();
  c.image_size = get_int(r, "image-size");
  c.resize_short = r.count("resize-short") ? get_int(r, "resize-short") : train::default_resize_short(c.image_size);
  c.crop_scale_lo = get_double(r, "crop-scale-min");
  c.crop_scale_hi = get_double(r, "crop-scale-max");
  c.crop_ratio_lo = get_double(r, "crop-ratio-min");
  c.crop_ratio_hi = get_double(r, "crop-ratio-max");
  c.jpeg_dct_scale = r["jpeg-dct-scale"].as<std::string>();
  c.workers = r["workers"].as<std::string>() == "auto" ? train::kAutoWorkers : get_int(r, "workers");
  c.prefetch_next_pass = r["prefetch-next-pass"].as<std::string>();
  c.arch = r["arch"].as<std::string>();
  c.zero_init_residual = r.count("zero-init-residual") > 0;
  c.pretrained = r["pretrained"].as<std::string>();
  c.freeze_backbone = r.count("freeze-backbone") > 0;
  c.sync_bn = r.count("sync-bn") > 0;
  c.epochs = get_int(r, "epochs");
  c.batch_size = get_int(r, "batch-size");
  c.lr = get_double(r, "lr");
  c.momentum = get_double(r, "momentum");
  c.weight_decay = get_double(r, "weight-decay");
  c.nesterov = r.count("nesterov") > 0;
  c.lr_step = get_int(r, "lr-step");
  c.lr_gamma = get_double(r, "lr-gamma");
  c.lr_scaling = r["lr-scaling"].as<std::string>();
  c.elastic_batch = r["elastic-batch"].as<std::string>();
  c.warmup_epochs = get_double(r, "warmup-epochs");
  c.label_smoothing = get_double(r, "label-smoothing");
  c.seed = get_uint64(r, "seed");
  c.threads = get_int(r, "threads");
  c.mpi_yield = r["mpi-yield"].as<std::string>();
  c.preprocess = r["preprocess"].as<std::string>();
  c.amp = r["amp"].as<std::string>();
  c.channels_last = r.count("channels-last") > 0;
  c.cuda_graphs = r["cuda-graphs"].as<std::string>();
  c.log_every = get_int(r, "log-every");
  c.progress = r["progress"].as<std::string>();
  c.fusion_threshold_mb = get_double(r, "fusion-threshold-mb");
  c.cycle_time_ms = get_double(r, "cycle-time-ms");
  c.fp16_allreduce = r.count("fp16-allreduce") > 0;
  c.allreduce_path = r["allreduce-path"].as<std::string>();
  c.shared_update = r["shared-update"].as<std::string>();
  c.backward_passes_per_step = get_int(r, "backward-passes-per-step");
  c.stall_warning_s = get_double(r, "stall-warning-s");
  c.stall_shutdown_s = get_double(r, "stall-shutdown-s");
  c.timeline = r["timeline"].as<std::string>();
  c.checkpoint_every = get_int(r, "checkpoint-every");
  c.keep_checkpoints = get_int(r, "keep-checkpoints");
  c.resume = r["resume"].as<std::string>();
  c.overwrite = r.count("overwrite") > 0;
  return c;
}

}  // namespace roost::cli
