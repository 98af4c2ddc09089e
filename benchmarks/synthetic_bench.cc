// synthetic_bench.cc — data-parallel training throughput on a synthetic batch, measured the
// way Horovod's pytorch_synthetic_benchmark.py measures it, so the numbers compare directly:
//
//   mpirun -np N synthetic_bench [--arch resnet50] [--batch-size 32] [--image-size 224]
//       [--num-warmup-batches 10] [--num-iters 10] [--num-batches-per-iter 10] [--threads T]
//       [--no-allreduce] [--fp16-allreduce] [--no-shared-update] [--mpi-yield auto|on|off]
//       [--json FILE]
//
// Each rank keeps one fixed random batch resident (no data loading), runs the warm-up steps,
// then --num-iters rounds of --num-batches-per-iter steps. A step is what `roost train` does:
// forward, backward with every gradient handed to roost's GradientSynchronizer as backward
// produces it (fused ring allreduce over MPI in the background, or NCCL on a GPU), then the
// SGD step (on the host, where the ranks share a node, the shared update: each rank sums and
// steps its share of the parameters in memory all of them map; --no-shared-update steps every
// parameter on every rank as its averaged gradients arrive). --no-allreduce leaves the synchronizer out: the compute-only ceiling, against
// which the cost of gradient synchronization shows. A round's rate is batch × steps / time
// on each rank, averaged over the ranks; the summary is the mean over rounds ± 1.96 × their
// standard deviation, per rank and (× ranks) in total, as Horovod prints it.
#include <mpi.h>
#include <torch/torch.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "roost/comm/mpi_communicator.h"
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

const char* kUsage =
    "usage: mpirun -np N synthetic_bench [options]\n"
    "  --arch NAME                 resnet18|resnet34|resnet50|resnet101|resnet152 (resnet50)\n"
    "  --batch-size N              images per rank per step (32)\n"
    "  --image-size N              side of the square input images in pixels (224)\n"
    "  --num-warmup-batches N      untimed steps before the first round (10)\n"
    "  --num-iters N               timed rounds (10)\n"
    "  --num-batches-per-iter N    steps per round (10)\n"
    "  --threads N                 intra-op threads per rank (0 = cores / ranks on the node)\n"
    "  --no-allreduce              no gradient synchronization: the compute-only ceiling\n"
    "  --fp16-allreduce            send gradients as float16\n"
    "  --no-shared-update          every rank steps every parameter (not its share)\n"
    "  --mpi-yield MODE            auto|on|off: Open MPI yields the CPU while a rank waits, as\n"
    "                              roost train --mpi-yield decides it (auto)\n"
    "  --json FILE                 also write the results as JSON (rank 0)\n"
    "  -h, --help                  show this help\n";

struct Options {
  std::string arch = "resnet50", json, mpi_yield = "auto";
  int batch = 32, image = 224, warmup = 10, iters = 10, per_iter = 10, threads = 0;
  bool allreduce = true, fp16_allreduce = false, shared_update = true, help = false;
};

// Whole-string integer parse: "32x", "" and "-1" for a count must not pass silently.
int parse_int(const std::string& name, const std::string& value, int min) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE || v < min || v > 1000000)
    ROOST_USAGE_ERROR(name, " needs an integer >= ", min, ", got '", value, "'");
  return static_cast<int>(v);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      ROOST_USAGE_CHECK(i + 1 < argc, a, " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") o.help = true;
    else if (a == "--arch") o.arch = value();
    else if (a == "--batch-size") o.batch = parse_int(a, value(), 1);
    else if (a == "--image-size") o.image = parse_int(a, value(), 32);
    else if (a == "--num-warmup-batches") o.warmup = parse_int(a, value(), 0);
    else if (a == "--num-iters") o.iters = parse_int(a, value(), 1);
    else if (a == "--num-batches-per-iter") o.per_iter = parse_int(a, value(), 1);
    else if (a == "--threads") o.threads = parse_int(a, value(), 0);
    else if (a == "--no-allreduce") o.allreduce = false;
    else if (a == "--fp16-allreduce") o.fp16_allreduce = true;
    else if (a == "--no-shared-update") o.shared_update = false;
    else if (a == "--mpi-yield") o.mpi_yield = value();
    else if (a == "--json") o.json = value();
    else ROOST_USAGE_ERROR("unknown option ", a, " (try --help)");
  }
  bool known = false;
  for (const auto& name : roost::model::resnet_archs()) known = known || name == o.arch;
  ROOST_USAGE_CHECK(known, "--arch: unknown architecture '", o.arch,
                    "' (resnet18, resnet34, resnet50, resnet101 or resnet152)");
  ROOST_USAGE_CHECK(o.mpi_yield == "auto" || o.mpi_yield == "on" || o.mpi_yield == "off",
                    "--mpi-yield must be auto, on or off (got '", o.mpi_yield, "')");
  ROOST_USAGE_CHECK(o.allreduce || !o.fp16_allreduce,
                    "--fp16-allreduce and --no-allreduce contradict each other");
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
               "\"shared_update\": %s, \"num_warmup_batches\": %d, \"num_iters\": %d, \"num_batches_per_iter\": %d,\n"
               " \"iter_img_sec_per_rank\": [",
               o.arch.c_str(), o.batch, o.image, ranks, threads, device.c_str(), o.allreduce ? "true" : "false",
               o.fp16_allreduce ? "true" : "false", shared_update ? "true" : "false", o.warmup, o.iters, o.per_iter);
  for (size_t i = 0; i < per_rank.size(); ++i) std::fprintf(f, "%s%.3f", i ? ", " : "", per_rank[i]);
  std::fprintf(f,
               "],\n \"img_sec_per_rank\": %.3f, \"img_sec_per_rank_conf\": %.3f, "
               "\"total_img_sec\": %.3f, \"total_img_sec_conf\": %.3f}\n",
               mean, conf, mean * ranks, conf * ranks);
  ROOST_CHECK(std::fclose(f) == 0, "cannot write ", path);
}

// The value of `name` in argv, read before MPI starts (parse() checks it properly later).
std::string early_value(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
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
    transport = std::make_unique<roost::sync::GradientBackend>(mpi.comm(), host, placement);
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
    std::printf("Image size: %d\nDevice: %s, %d intra-op thread(s) per rank\n", o.image, device_name.c_str(),
                threads);
    std::printf("Open MPI yield when idle: %s (--mpi-yield %s)\n", yield.c_str(), o.mpi_yield.c_str());
    if (o.allreduce) {
      std::printf("Gradient allreduce: %s%s, overlapped with backward\n", backend.c_str(),
                  o.fp16_allreduce ? " (float16 on the wire)" : "");
      if (!on_gpu)
        std::printf("Shared update: %s\n", shared ? "on (each rank steps its share)" : ("off (" + shared_why + ")").c_str());
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
    // As roost train does, before MPI_Init; a bad mode is left to parse() to report.
    std::string yield = "default";
    const std::string mode = early_value(argc, argv, "--mpi-yield", "auto");
    if (mode == "auto" || mode == "on" || mode == "off")
      yield = roost::apply_mpi_yield(mode, std::atoi(early_value(argc, argv, "--threads", "0").c_str()));
    mpi = std::make_unique<roost::MpiScope>(&argc, &argv);
    const Options o = parse(argc, argv);
    if (o.help) {
      if (mpi->rank() == 0) std::printf("%s", kUsage);
      return 0;
    }
    return run(*mpi, o, yield);
  } catch (const roost::UsageError& e) {
    // Every rank parsed the same arguments and failed alike: one line, a clean exit.
    if (!mpi || mpi->rank() == 0) std::fprintf(stderr, "synthetic_bench: error: %s\n", e.message().c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "synthetic_bench: error: %s\n", e.what());
    // The other ranks may be waiting in a collective for this one: end the job.
    if (mpi && mpi->size() > 1) mpi->abort(1);
    return 1;
  }
}
