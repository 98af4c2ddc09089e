// train_cmd.cc — `roost train`: options → TrainConfig → MPI scope, logging, device → trainer.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "train_options.h"
#include "roost/comm/mpi_communicator.h"
#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/core/gpu.h"
#include "roost/core/log.h"
#include "roost/comm/mpi_scope.h"
#include "roost/core/mpi_yield.h"
#include "roost/model/resnet.h"
#include "roost/train/trainer.h"

namespace roost::cli {

namespace {
void check_arch(const std::string& arch) {
  for (const auto& a : model::resnet_archs())
    if (a == arch) return;
  ROOST_USAGE_ERROR("--arch: unknown architecture '", arch, "'");
}

std::string host_name() {
  char name[256] = {};
  return gethostname(name, sizeof name - 1) == 0 ? name : "(unknown host)";
}
}  // namespace

std::string check_train_args(const std::vector<std::string>& args, bool check_data) {
  std::vector<std::string> words = {"train"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  cxxopts::Options options = train_options();
  cxxopts::ParseResult parsed = parse_or_usage(options, static_cast<int>(words.size()), argv.data());
  if (parsed.count("output-dir"))
    ROOST_USAGE_ERROR("--output-dir is set by roost submit (the run's outputs/ folder): leave it out");
  if (parsed.count("help")) ROOST_USAGE_ERROR("--help is not a training option (see roost train --help)");
  train::TrainConfig config = to_config(parsed);
  train::validate(config);
  check_arch(config.arch);
  if (check_data) train::preflight(config);
  return train::to_json(config);
}

namespace {
// The rank the launcher gave this process, before MPI starts (-1 when not under a launcher).
int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return -1;
}

// A usage error every rank finds alike is reported once, by rank 0; the others exit 2 quietly.
struct QuietExit {
  int code;
};

// A start refused before MPI (bad options or data) leaves its reason in rank 0's log too,
// when the outputs directory already has one (a rerun): the log then tells the whole story.
// Nothing is created for it.
void note_in_existing_log(const std::string& output_dir, const std::string& message) {
  if (output_dir.empty()) return;
  const std::string path = output_dir + "/logs/rank-0.log";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return;
  std::ofstream(path, std::ios::app) << "error " << message << "\n";
}

// RANK / WORLD_SIZE are how torchrun starts processes. roost's ranks come from MPI: processes
// started that way would each train alone, into one outputs directory, without a word.
void check_not_torchrun_style(int mpi_world) {
  const char* world = std::getenv("WORLD_SIZE");
  if (mpi_world != 1 || !world || std::atoi(world) <= 1) return;
  const char* rank = std::getenv("RANK");
  if (rank && std::atoi(rank) > 0) throw QuietExit{2};  // RANK 0 says it for all
  ROOST_USAGE_ERROR("WORLD_SIZE=", world,
                    " is set (torchrun's way to start ranks) but this process is a single "
                    "MPI rank: start roost's ranks with mpirun -np ",
                    world, " roost train ... (or roost launch)");
}

}  // namespace

int train_with_args(int argc, char** argv);

int train_main(int argc, char** argv) {
  try {
    return train_with_args(argc, argv);
  } catch (const QuietExit& q) {
    return q.code;
  }
}

int train_with_args(int argc, char** argv) {
  cxxopts::Options options = train_options();
  train::TrainConfig config;
  try {
    cxxopts::ParseResult parsed = parse_or_usage(options, argc, argv);
    if (print_help_if_asked(options, parsed)) return 0;
    config = to_config(parsed);
    train::validate(config);
    check_arch(config.arch);
    train::preflight(config);
    ensure_writable_dir(config.output_dir);
    ensure_writable_dir(config.output_dir + "/logs");
  } catch (const UsageError& e) {
    if (launcher_rank() > 0) throw QuietExit{2};
    note_in_existing_log(config.output_dir, e.message());
    throw;
  }

  const std::string yield = apply_mpi_yield(config.mpi_yield, config.threads);
  MpiScope mpi(&argc, &argv);
  check_not_torchrun_style(mpi.size());
  Logger logger(mpi.rank(), mpi.size());
  LoggerScope logger_scope(logger);
  logger.attach_file(config.output_dir + "/logs/rank-" + std::to_string(mpi.rank()) + ".log");
  DeviceChoice device = choose_device(mpi.local_rank());
  if (device.device < 0)
    log_info(device.cuda_built ? "no CUDA device found: running on CPU" : "built without CUDA: running on CPU");
  else log_info("rank ", mpi.rank(), " uses GPU ", device.device, " (", device.name, ")");
  log_info("Open MPI yield when idle: ", yield, " (--mpi-yield ", config.mpi_yield, ")");
  // Every rank's own log says where it runs: which node, and how many ranks share it.
  log_info("rank ", mpi.rank(), " of ", mpi.size(), " on host ", host_name(), ", ", mpi.local_size(),
           " rank(s) on this node");

  comm::MpiCommunicator comm(mpi.comm());
  train::TrainContext context;
  context.host_comm = &comm;
  context.mpi_comm = mpi.comm();
  context.local_rank = mpi.local_rank();
  context.local_size = mpi.local_size();
  context.device = device;
  // Set by `roost launch` and the submit layer's mpirun line (documented in docs/checkpoints.md).
  const char* relay = std::getenv("ROOST_SIGNAL_RELAY");
  context.signals_relayed = relay != nullptr && std::string(relay) == "1";
  try {
    train::TrainResult result = train::run_training(config, context);
    if (result.stopped_by_signal) return 128 + result.stopped_by_signal;  // 143 for SIGTERM, 130 for SIGINT
    log_info("done: ", result.epochs, " epoch(s), best val acc ", result.best_val_acc, "; outputs in ",
             config.output_dir);
  } catch (const UsageError& e) {
    // Raised identically on every rank before any rank diverged: a clean exit 2, in the
    // log file of every rank and once on the console.
    logger.log_to_file(LogLevel::kError, e.message());
    if (mpi.rank() != 0) throw QuietExit{2};
    throw;
  } catch (const std::exception& e) {
    // Said once, without the source location (that goes to the log file for whoever
    // debugs it). A failure on one rank would leave the others blocked in a collective:
    // end the job.
    const auto* error = dynamic_cast<const Error*>(&e);
    const std::string what = error ? error->message() : e.what();
    logger.log_to_file(LogLevel::kError, error ? what + " [" + error->where() + "]" : what);
    std::cerr << (mpi.size() > 1 ? "[rank " + std::to_string(mpi.rank()) + "] " : std::string())
              << "roost train: error: " << what << std::endl;
    if (mpi.size() > 1) mpi.abort(1);
    throw QuietExit{1};
  }
  return 0;
}

}  // namespace roost::cli
