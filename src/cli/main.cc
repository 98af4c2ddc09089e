// main.cc — the roost binary: dispatches to a subcommand and turns errors into exit codes
// (2 for usage errors and bad input, 1 for runtime failures). The only place that exits.
#include <cstring>
#include <iostream>
#include <string>

#include "commands.h"
#include "roost/core/error.h"
#include "roost/core/host_memory.h"

namespace {
const char* kUsage =
    "roost — data-parallel training of image classifiers\n"
    "\n"
    "Usage: roost <command> [options]      (roost <command> --help for its options)\n"
    "\n"
    "Commands:\n"
    "  train   train or fine-tune a ResNet; run one process per GPU or CPU slot:\n"
    "          mpirun -np N roost train --data-dir D --output-dir OUT\n"
    "  launch  run roost train under mpirun so that SIGTERM/SIGINT to the job checkpoint and stop it:\n"
    "          roost launch -np N [mpirun options] -- train --data-dir D --output-dir OUT\n"
    "  data    make datasets: roost data fashion-mnist|fowl --out DIR\n"
    "  pack    store an ImageFolder tree in one HDF5 file: roost pack --data-dir D --out D.h5\n"
    "  predict classify images with a trained model (no mpirun): roost predict --model M IMAGE...\n"
    "  serve   serve models over HTTP (KServe v2 / Open Inference Protocol), with dynamic batching:\n"
    "          roost serve --model M [--port 8000]\n"
    "  export  write a trained model as ONNX or a torchvision state dict:\n"
    "          roost export --model M --format onnx|pth --out FILE\n"
    "  submit  record a run in a workspace and launch it (mpirun here, on hosts, or via Slurm):\n"
    "          roost submit --experiment E --target local|hosts|slurm [--np N] [--wait] -- <train options>\n"
    "  runs    the recorded runs: roost runs list|show|logs|cancel\n"
    "  models  the model registry: roost models register|list|show|download\n"
    "  sweep   a hyperparameter sweep of runs with early termination:\n"
    "          roost sweep --experiment E --param lr=loguniform(1e-4,1e-1) --max-runs N -- <train options>\n"
    "  sweeps  the recorded sweeps: roost sweeps list|show\n"
    "  ui      a web page over the workspace: runs, live curves and logs, models:\n"
    "          roost ui [--workspace W] [--port 8080] [--allow-actions]\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "  --version      print the version\n";
}  // namespace

int main(int argc, char** argv) {
  roost::keep_freed_host_memory();
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = argv[1];
  try {
    if (command == "-h" || command == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (command == "--version") {
      std::cout << "roost " << ROOST_VERSION << "\n";
      return 0;
    }
    if (command == "train") return roost::cli::train_main(argc - 1, argv + 1);
    if (command == "data") return roost::cli::data_main(argc - 1, argv + 1);
    if (command == "pack") return roost::cli::pack_main(argc - 1, argv + 1);
    if (command == "predict") return roost::cli::predict_main(argc - 1, argv + 1);
    if (command == "launch") return roost::cli::launch_main(argc - 1, argv + 1);
    if (command == "serve") {
#ifdef ROOST_WITH_SERVE
      return roost::cli::serve_main(argc - 1, argv + 1);
#else
      ROOST_USAGE_ERROR("this roost was built without cpp-httplib (libcpp-httplib-dev): no roost serve");
#endif
    }
    if (command == "ui") {
#ifdef ROOST_WITH_UI
      return roost::cli::ui_main(argc - 1, argv + 1);
#else
      ROOST_USAGE_ERROR("this roost was built without cpp-httplib (libcpp-httplib-dev): no roost ui");
#endif
    }
    if (command == "export") {
#ifdef ROOST_WITH_EXPORT
      return roost::cli::export_main(argc - 1, argv + 1);
#else
      ROOST_USAGE_ERROR("this roost was built without ONNX (libonnx-dev, libprotobuf-dev): no roost export");
#endif
    }
    if (command == "submit" || command == "runs" || command == "models" || command == "sweep" || command == "sweeps") {
#ifdef ROOST_WITH_RUN
      if (command == "submit") return roost::cli::submit_main(argc - 1, argv + 1);
      if (command == "sweep") return roost::cli::sweep_main(argc - 1, argv + 1);
      if (command == "sweeps") return roost::cli::sweeps_main(argc - 1, argv + 1);
      if (command == "runs") return roost::cli::runs_main(argc - 1, argv + 1);
      return roost::cli::models_main(argc - 1, argv + 1);
#else
      ROOST_USAGE_ERROR("this roost was built without SQLite (libsqlite3-dev): no run store");
#endif
    }
    std::cerr << "roost: error: unknown command '" << command << "' (try roost --help)\n";
    return 2;
  } catch (const roost::UsageError& e) {
    std::cerr << "roost " << command << ": error: " << e.message() << "\n";
    return 2;
  } catch (const roost::Error& e) {
    // One line for the user; the source location is for whoever debugs (train logs it).
    std::cerr << "roost " << command << ": error: " << e.message() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "roost " << command << ": error: " << e.what() << "\n";
    return 1;
  }
}
