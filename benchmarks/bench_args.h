// bench_args.h — the benchmarks' command lines, read with cxxopts as the roost CLI reads its
// own (src/cli/args.h): -h/--help prints the options, and an unknown option, a missing value
// or a value that is not a number is a UsageError, which main reports as one line with exit
// status 2. Header-only: each benchmark is one executable.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>

#include "args.h"  // cxxopts without std::regex, and roost::cli::get_int & co.
#include "roost/core/error.h"

namespace roost::bench {

using cli::get_double;
using cli::get_int;

// The rank the launcher gave this process (0 when not under one), known before MPI starts.
// Under mpirun every rank reads the same options and fails alike: rank 0 speaks for all.
inline int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}

// Parses argv with `options`, to which it adds -h/--help. Empty after printing the help to
// stdout (rank 0 only; main then returns 0); UsageError for an unknown option, a missing
// value or a stray argument.
inline std::optional<cxxopts::ParseResult> parse_args(cxxopts::Options& options, int argc, char** argv) {
  options.add_options()("h,help", "show this help");
  cxxopts::ParseResult result = cli::parse_or_usage(options, argc, argv);
  if (result.count("help")) {
    if (launcher_rank() == 0) cli::print_help_if_asked(options, result);
    return std::nullopt;
  }
  return result;
}

// An integer option that must be at least `min`; UsageError naming the option otherwise.
inline int get_int_at_least(const cxxopts::ParseResult& r, const std::string& name, int min) {
  const int v = get_int(r, name);
  ROOST_USAGE_CHECK(v >= min, "--", name, " must be at least ", min, ", got ", v);
  return v;
}

// What main's catch prints for an error that ends a benchmark, as one line
// "program: error: message", and the exit status: 2 for a UsageError (a bad option), 1 for
// anything else. A usage error is printed by rank 0 only (see launcher_rank).
inline int report_error(const char* program, const std::exception& e) {
  const auto* error = dynamic_cast<const Error*>(&e);
  const bool usage = error && error->kind() == ErrorKind::kUsage;
  if (!usage || launcher_rank() == 0)
    std::fprintf(stderr, "%s: error: %s\n", program, error ? error->message().c_str() : e.what());
  return usage ? 2 : 1;
}

}  // namespace roost::bench
