// commands.h — the subcommands of the roost binary. Each takes argv after the subcommand
// name (argv[0] is the subcommand) and returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace roost::cli {

int train_main(int argc, char** argv);
int data_main(int argc, char** argv);
int pack_main(int argc, char** argv);
int predict_main(int argc, char** argv);
int launch_main(int argc, char** argv);
int export_main(int argc, char** argv);  // built with ONNX (libonnx-dev) only
int serve_main(int argc, char** argv);   // built with cpp-httplib only
int submit_main(int argc, char** argv);  // submit, runs and models: built with SQLite only
int runs_main(int argc, char** argv);
int models_main(int argc, char** argv);
int sweep_main(int argc, char** argv);   // roost sweep: a hyperparameter sweep of runs
int sweeps_main(int argc, char** argv);  // roost sweeps list|show
int ui_main(int argc, char** argv);      // built with SQLite and cpp-httplib only

// `roost train`'s arguments (without "train") checked as train_main checks them before MPI
// starts: options, ranges, the architecture and, with check_data, the dataset. --output-dir
// is refused (roost submit sets it). Returns the parsed options as JSON; UsageError otherwise.
std::string check_train_args(const std::vector<std::string>& args, bool check_data);

}  // namespace roost::cli
