// tests/fuzz/train_args_fuzz.cc — fuzzes `roost train`'s command line up to the point where
// training would start: the input, split at NUL bytes, is argv after "train"; it goes through
// cxxopts (parse_or_usage), the conversion to a TrainConfig and train::validate, as train_main
// does. Expected outcomes: a valid config or roost::UsageError (exit code 2 in main). Any
// other exception, including a roost::Error of the runtime kind (exit 1), is a finding.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "roost/core/error.h"
#include "roost/train/config.h"
#include "train_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"train"};
  std::string current;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\0') {
      args.push_back(current);
      current.clear();
    } else {
      current += static_cast<char>(data[i]);
    }
  }
  if (size > 0) args.push_back(current);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);  // as the kernel passes it

  try {
    cxxopts::Options options = roost::cli::train_options();
    cxxopts::ParseResult parsed = roost::cli::parse_or_usage(options, static_cast<int>(args.size()), argv.data());
    if (parsed.count("help")) {
      (void)options.help();
      return 0;
    }
    roost::train::TrainConfig config = roost::cli::to_config(parsed);
    roost::train::validate(config);
    (void)roost::train::to_json(config);
  } catch (const roost::UsageError& e) {
    roost::fuzz::expected_failure(e.what());
  }
  return 0;
}
