// args.h — small helpers shared by the subcommands: numbers parsed with messages that name
// the option, and the usage-error exit path.
#pragma once

// cxxopts' own argument scanner instead of its std::regex one: libstdc++'s regex matcher
// recurses once per character, so one long argument (`--data-dir=` and about 30 KB, well
// within the kernel's 128 KiB per argument) overflowed the 8 MiB stack. The scanner accepts
// the option syntax roost uses (--name, --name=value, -h). Every file that includes cxxopts.hpp
// must see the same choice, so it is only ever included through this header.
#define CXXOPTS_NO_REGEX
#include <cxxopts.hpp>

#include <string>
#include <vector>

namespace roost::cli {

// Parses cxxopts' string value of --name as a number; UsageError naming the option otherwise.
int get_int(const cxxopts::ParseResult& r, const std::string& name);
double get_double(const cxxopts::ParseResult& r, const std::string& name);
uint64_t get_uint64(const cxxopts::ParseResult& r, const std::string& name);
std::vector<int> get_int_list(const cxxopts::ParseResult& r, const std::string& name);

// Prints the options' help to stdout when --help was given; the caller then returns 0.
bool print_help_if_asked(cxxopts::Options& options, const cxxopts::ParseResult& r);

// The value of a string option that has no default; UsageError "--name is required" if absent.
std::string get_required(const cxxopts::ParseResult& r, const std::string& name);

// Runs options.parse and turns cxxopts' errors (unknown option, missing value) and stray
// positional arguments into UsageError.
cxxopts::ParseResult parse_or_usage(cxxopts::Options& options, int argc, char** argv);

}  // namespace roost::cli
