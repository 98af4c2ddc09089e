// synthetic_bench.cc — data-parallel training throughput on a synthetic batch, measured the
// way Horovod's pytorch_synthetic_benchmark.py measures it, so the numbers compare directly:
//
//   mpirun -np N synthetic_bench [--arch resnet50] [--batch-size 32] [--image-size 224]
//       [--num-warmup-batches 10] [--num-iters 10] [--num-batches-per-iter 10] [--threads T]
//       [--no-allreduce] [--fp16-allreduce] [--no-shared-update] [--mpi-yield auto|on|off]
//       [--allreduce-path auto|ring|shm|hier]
//       [--json FILE] [--help]
//
// Each rank keeps one fixed random batch resident (no data loading), runs the warm-up steps,
// then --num-iters rounds of --num-batches-per-iter steps. A step is what `roost train` does:
// forward, backward with every gradient handed to roost's GradientSynchronizer as backward
// produces it (fused ring allreduce over MPI in the background, or NCCL on a GPU), then the
// SGD step (on the host, where the ranks share a node, the shared update: each rank sums and
// steps its share of the parameters in memory all of them map; --no-shared-update steps every
// parameter on every rank as its averaged gradients arrive). --no-allreduce leaves the synchronizer out: the
// compute-only ceiling, against which the cost of gradient synchronization shows. A round's rate is batch × steps /
// time on each rank, averaged over the ranks; the summary is the mean over rounds ± 1.96 × their standard deviation,
// per rank and (× ranks) in total, as Horovod prints it.
#include <mpi.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.h"
#include "roost/comm/mpi_communicator.h"
#include "roost/comm/ring_mpi_communicator.h"
#include "roost/core/error.h"
#include "roost/core/mpi_yield.h"
#include "roost/core/host_memory.h"
#include "roost/core/gpu.h"
#include "roost/comm/mpi_scope.h"
#include "roost/model/resnet.h"
#include "roost/sync/backend.h"
#include "roost/sync/grad_sync.h"
#include "roost/train/sgd.h"
#include "roost/train/shared_update.h"

namespace {
using Clock = std::chrono::steady_clock;

struct Options {
  std::string arch = "resnet50", json, mpi_yield = "auto";
  int batch = 32, image = 224, warmup = 10, iters = 10, per_iter = 10, threads = 0;
  bool allreduce = true, fp16_allreduce = false, shared_update = true;
  std::string allreduce_path = "auto";  // RingMpiOptions::Path, as roost train --allreduce-path
};

// Options from argv (read before MPI starts: --mpi-yield must act before MPI_Init); empty
// after --help.
std::optional<Options> parse(int argc, char** argv) {
  Options o;
  cxxopts::Options spec("synthetic_bench",
                        "data-parallel training img/s on a resident random batch (Horovod's "
                        "synthetic benchmark); run as mpirun -np N synthetic_bench [options]");
  // clang-format off
  spec.add_options()
      ("arch", "resnet18|resnet34|resnet50|resnet101|resnet152", cxxopts::value<std::string>()->default_value(o.arch))
      ("batch-size", "images per rank per step", cxxopts::value<std::string>()->default_value("32"))
      ("image-size", "side of the square input images in pixels", cxxopts::value<std::string>()->default_value("224"))
      ("num-warmup-batches", "untimed steps before the first round", cxxopts::value<std::string>()->default_value("10"))
      ("num-iters", "timed rounds", cxxopts::value<std::string>()->default_value("10"))
      ("num-batches-per-iter", "steps per round", cxxopts::value<std::string>()->default_value("10"))
      ("threads", "intra-op threads per rank (0 = cores / ranks on the node)",
       cxxopts::value<std::string>()->default_value("0"))
      ("no-allreduce", "no gradient synchronization: the compute-only ceiling")
      ("fp16-allreduce", "send gradients as float16")
      ("no-shared-update", "every rank steps every parameter (not its share)")
      ("allreduce-path", "auto|ring|shm|hier: the host allreduce's path, as roost train --allreduce-path",
       cxxopts::value<std::string>()->default_value(o.allreduce_path))
      ("mpi-yield", "auto|on|off: Open MPI yields the CPU while a rank waits, as roost train --mpi-yield decides it",
       cxxopts::value<std::string>()->default_value(o.mpi_yield))
      ("json", "also write the results as JSON to FILE (rank 0)", cxxopts::value<std::string>());
  // clang-format on
  const auto r = roost::bench::parse_args(spec, argc, argv);
  if (!r) return std::nullopt;
  // Bounded above so that a slip of the finger (an extra digit or two) is caught, not run.
  auto count = [&](const std::string& name, int min) {
    const int v = roost::bench::get_int_at_least(*r, name, min);
    ROOST_USAGE_CHECK(v <= 1000000, "--", name, " must be at most 1000000, got ", v);
    return v;
  };
  o.arch = (*r)["arch"].as<std::string>();
  o.batch = count("batch-size", 1);
  o.image = count("image-size", 32);
  o.warmup = count("num-warmup-batches", 0);
  o.iters = count("num-iters", 1);
  o.per_iter = count("num-batches-per-iter", 1);
  o.threads = count("threads", 0);
  o.allreduce = r->count("no-allreduce") == 0;
  o.fp16_allreduce = r->count("fp16-allreduce") > 0;
  o.shared_update = r->count("no-shared-update") == 0;
  o.mpi_yield = (*r)["mpi-yield"].as<std::string>();
  o.allreduce_path = (*r)["allreduce-path"].as<std::string>();
  roost::comm::parse_allreduce_path(o.allreduce_path);  // a usage error when unknown
  if (r->count("json")) o.json = (*r)["json"].as<std::string>();
  bool known = false;
  for (const auto& name : roost::model::resnet_archs()) known = known || name == o.arch;
  ROOST_USAGE_CHECK(known, "--arch: unknown architecture '", o.arch,
                    "' (resnet18, resnet34, resnet50, resnet101 or resnet152)");
  ROOST_USAGE_CHECK(o.mpi_yield == "auto" || o.mpi_yield == "on" || o.mpi_yield == "off",
                    "--mpi-yield must be auto, on or off (got '", o.mpi_yield, "')");
  ROOST_USAGE_CHECK(o.allreduce || !o.fp16_allreduce, "--fp16-allreduce and --no-allreduce contradict each other");
  return o;
}

// Mean and population standard deviation (numpy's np.std, which Horovod's summary uses).
std::pair<double, double> mean_std(const std::vector<double>& v) {
  double mean = 0, var = 0;
  for (double x : v) mean += x;
  mean /= v.size();
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, std::sqrt(var / v.size())};
}

void write_json(const std::string& path, const Options& o, int ranks, int threads, const std::string& device,
                const std::vector<double>& per_rank, double mean, double conf, bool shared_update) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  ROOST_CHECK(f, "cannot write ", path);
  std::fprintf(f,
               "{\"model\": \"%s\", \"batch_size\": %d, \"image_size\": %d, \"ranks\": %d, "
               "\"threads_per_rank\": %d, \"device\": \"%s\", \"allreduce\": %s, \"fp16_allreduce\": %s, "
               "\"shared_update\": %s, \"allreduce_path\": \"%s\", \"num_warmup_batches\": %d, \"num_iters\": %d, "
               "\"num_batches_per_iter\": %d,\n"
               " \"iter_img_sec_per_rank\": [",
               o.arch.c_str(), o.batch, o.image, ranks, threads, device.c_str(), o.allreduce ? "true" : "false",
               o.fp16_allreduce ? "true" : "false", shared_update ? "true" : "false", o.allreduce_path.c_str(),
               o.warmup, o.iters, o.per_iter);
  for (size_t i = 0; i < per_rank.size(); ++i) std::fprintf(f, "%s%.3f", i ? ", " : "", per_rank[i]);
  std::fprintf(f,
               "],\n \"img_sec_per_rank\": %.3f, \"img_sec_per_rank_conf\": %.3f, "
               "\"total_img_sec\": %.3f, \"total_img_sec_conf\": %.3f}\n",
               mean, conf, mean * ranks, conf * ranks);
  ROOST_CHECK(std::fclose(f) == 0, "cannot write ", path);
}

int run(roost::MpiScope& mpi, const Options& o, const std::string& yield) {
  const bool root = mpi.rank() == 0;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int threads = o.threads > 0 ? o.threads : std::max(1, cores / std::max(1, mpi.local_size()));
  torch::set_num_threads(threads);

  // The rank's GPU when roost and libtorch both have CUDA, else the CPU (as `roost train`).
  const roost::DeviceChoice choice = roost::choose_device(mpi.local_rank());
  const bool on_gpu = choice.device >= 0 && torch::cuda::is_available();
  const torch::Device device = on_gpu ? torch::Device(torch::kCUDA, choice.device) : torch::Device(torch::kCPU);
  if (on_gpu) at::globalContext().setBenchmarkCuDNN(true);

  // The same seed everywhere gives every rank the same initial weights (what the trainer's
  // broadcast achieves); the batch differs per rank, as real shards would.
  torch::manual_seed(42);
  roost::model::ResNetOptions mo;
  mo.arch = o.arch;
  mo.num_classes = 1000;
  roost::model::ResNet net = roost::model::make_resnet(mo);
  net->to(device);
  net->train();
  torch::manual_seed(1000 + mpi.rank());
  const torch::Tensor x = torch::randn({o.batch, 3, o.image, o.image}, torch::TensorOptions().device(device));
  const torch::Tensor y =
      torch::randint(0, 1000, {o.batch}, torch::TensorOptions().device(device).dtype(torch::kInt64));

  // Momentum 0.9 as `roost train` defaults to, so the step costs what a training step costs.
  roost::train::SgdOptions so;
  so.lr = 0.01;
  so.momentum = 0.9;
  roost::train::Sgd opt(net->parameters(), so);

  // Wired as the trainer wires it (sync/backend.h): the fused allreduces and the negotiation
  // each on a communicator of their own, driven by the synchronizer's thread while backward runs.
  roost::comm::MpiCommunicator host(mpi.comm());
  std::unique_ptr<roost::sync::GradientBackend> transport;
  std::unique_ptr<roost::sync::GradientSynchronizer> sync;
  std::string backend = "ring allreduce over MPI";
  std::string shared_why = o.shared_update ? "" : "--no-shared-update";  // why it is not on
  if (o.allreduce) {
    roost::sync::Placement placement;
    placement.on_gpu = on_gpu;
    placement.gpu = choice.device;
    placement.local_size = mpi.local_size();
    placement.gpu_count = choice.device_count;
    transport = std::make_unique<roost::sync::GradientBackend>(mpi.comm(), host, placement, o.allreduce_path);
    if (transport->on_device()) backend = "NCCL";
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& p : net->named_parameters()) named.emplace_back(p.key(), p.value());
    roost::sync::SyncOptions sopts;
    sopts.fp16_allreduce = o.fp16_allreduce;
    sync = std::make_unique<roost::sync::GradientSynchronizer>(named, transport->reduce(), transport->negotiate(),
                                                               mpi.rank(), sopts);
    if (o.shared_update && !on_gpu)
      shared_why = roost::train::enable_shared_update(net->parameters(), opt, *sync, *transport->host_ring());
  }
  const bool shared = sync && sync->updates();

  opt.zero_grad();
  auto step = [&] {
    if (sync) sync->begin_backward();
    torch::cross_entropy_loss(net->forward(x), y).backward();
    // As roost train does on the host: each group stepped as its averaged gradients arrive.
    if (shared) {
      sync->synchronize();  // every rank's share stepped
      opt.end_sliced_step();
    } else if (sync && !on_gpu) {
      sync->synchronize([&](const std::vector<torch::Tensor>& ready) { opt.step(ready); });
    } else {
      if (sync) sync->synchronize();
      opt.step();
    }
    opt.zero_grad();
  };
  auto wait_device = [&] {
    if (on_gpu) torch::cuda::synchronize();
  };

  const std::string device_name = on_gpu ? choice.name : "cpu";
  if (root) {
    std::printf("Model: %s\nBatch size: %d\nNumber of ranks: %d\n", o.arch.c_str(), o.batch, mpi.size());
    std::printf("Image size: %d\nDevice: %s, %d intra-op thread(s) per rank\n", o.image, device_name.c_str(), threads);
    std::printf("Open MPI yield when idle: %s (--mpi-yield %s)\n", yield.c_str(), o.mpi_yield.c_str());
    if (o.allreduce) {
      std::printf("Gradient allreduce: %s%s (--allreduce-path %s), overlapped with backward\n", backend.c_str(),
                  o.fp16_allreduce ? " (float16 on the wire)" : "", o.allreduce_path.c_str());
      if (!on_gpu)
        std::printf("Shared update: %s\n",
                    shared ? "on (each rank steps its share)" : ("off (" + shared_why + ")").c_str());
    } else {
      std::printf("Gradient allreduce: none (--no-allreduce: compute-only ceiling)\n");
    }
    std::printf("Running warmup...\n");
    std::fflush(stdout);
  }
  for (int i = 0; i < o.warmup; ++i) step();
  wait_device();
  if (root) {
    std::printf("Running benchmark...\n");
    std::fflush(stdout);
  }

  std::vector<double> per_rank;
  for (int it = 0; it < o.iters; ++it) {
    // Rounds start together, so ranks running without allreduce still compete for the
    // machine the whole round, as they would while training.
    MPI_CHECK(MPI_Barrier(mpi.comm()));
    const auto t0 = Clock::now();
    for (int i = 0; i < o.per_iter; ++i) step();
    wait_device();
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    double rate = o.batch * o.per_iter / seconds, sum = 0;
    MPI_CHECK(MPI_Allreduce(&rate, &sum, 1, MPI_DOUBLE, MPI_SUM, mpi.comm()));
    per_rank.push_back(sum / mpi.size());
    if (root) {
      std::printf("Iter #%d: %.1f img/sec per rank\n", it, per_rank.back());
      std::fflush(stdout);
    }
  }
  const auto [mean, sd] = mean_std(per_rank);
  const double conf = 1.96 * sd;
  if (root) {
    std::printf("Img/sec per rank: %.1f +-%.1f\n", mean, conf);
    std::printf("Total img/sec on %d rank(s): %.1f +-%.1f\n", mpi.size(), mean * mpi.size(), conf * mpi.size());
    if (!o.json.empty()) write_json(o.json, o, mpi.size(), threads, device_name, per_rank, mean, conf, shared);
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  roost::keep_freed_host_memory();  // as roost itself does
  std::unique_ptr<roost::MpiScope> mpi;
  try {
    const std::optional<Options> parsed = parse(argc, argv);
    if (!parsed) return 0;
    const Options& o = *parsed;
    // As roost train does, before MPI_Init.
    const std::string yield = roost::apply_mpi_yield(o.mpi_yield, o.threads);
    mpi = std::make_unique<roost::MpiScope>(&argc, &argv);
    return run(*mpi, o, yield);
  } catch (const std::exception& e) {
    const int status = roost::bench::report_error("synthetic_bench", e);
    // The other ranks may be waiting in a collective for this one: end the job.
    if (status != 2 && mpi && mpi->size() > 1) mpi->abort(1);
    return status;
  }
}
