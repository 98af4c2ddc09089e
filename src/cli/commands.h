// commands.h — the subcommands of the roost binary. Each takes argv after the subcommand
// name (argv[0] is the subcommand) and returns the process exit code.
#pragma once

namespace roost::cli {

int train_main(int argc, char** argv);
int data_main(int argc, char** argv);
int pack_main(int argc, char** argv);
int predict_main(int argc, char** argv);

}  // namespace roost::cli
