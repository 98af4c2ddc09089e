// models_cmd.cc — `roost models register|list|show|download`: the model registry.
#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/run/registry.h"

namespace roost::cli {

namespace {
constexpr const char* kModelsUsage =
    "Usage: roost models <register|list|show|download> [options]\n"
    "  register --run ID --name NAME [--path outputs/model.h5]   the next version of NAME\n"
    "  list     [--name NAME]                                    models and versions\n"
    "  show     --name NAME [--version V]                        a version (default: newest)\n"
    "  download --name NAME [--version V] --to DIR               a verified copy in DIR\n"
    "Every command takes --workspace DIR (default roost-workspace).\n";

cxxopts::Options models_options(const std::string& verb) {
  cxxopts::Options o("roost models " + verb, kModelsUsage);
  o.add_options()
      ("workspace", "run store folder", cxxopts::value<std::string>()->default_value("roost-workspace"))
      ("run", "the run whose file is registered", cxxopts::value<std::string>())
      ("name", "model name", cxxopts::value<std::string>()->default_value(""))
      ("path", "file inside the run's folder", cxxopts::value<std::string>()->default_value("outputs/model.h5"))
      ("version", "version (0 = newest)", cxxopts::value<std::string>()->default_value("0"))
      ("to", "download folder", cxxopts::value<std::string>())
      ("h,help", "show this help");
  return o;
}

void print_version(const run::ModelVersion& m, bool full) {
  std::cout << "name:       " << m.name << "\nversion:    " << m.version << "\nrun:        " << m.run_id
            << "\nsha256:     " << m.sha256 << "\nsize:       " << m.size << " bytes\nfile:       " << m.path
            << "\nsource:     " << m.source_path << "\ncreated:    " << run::format_time(m.created_at) << " UTC\n";
  if (full) std::cout << "metrics:    " << m.metrics << "\n";
}
}  // namespace

int models_main(int argc, char** argv) {
  const std::string verb = argc > 1 ? argv[1] : "";
  if (verb.empty() || verb == "-h" || verb == "--help") {
    (verb.empty() ? std::cerr : std::cout) << kModelsUsage;
    return verb.empty() ? 2 : 0;
  }
  cxxopts::Options options = models_options(verb);
  cxxopts::ParseResult r = parse_or_usage(options, argc - 1, argv + 1);
  if (print_help_if_asked(options, r)) return 0;
  if (verb != "register" && verb != "list" && verb != "show" && verb != "download")
    ROOST_USAGE_ERROR("unknown models command '", verb, "' (use register, list, show or download)");
  run::require_existing_workspace(r["workspace"].as<std::string>());
  run::RunStore store(r["workspace"].as<std::string>());
  run::ModelRegistry registry(store);
  const std::string name = r["name"].as<std::string>();
  if (verb == "list") {
    std::printf("%-24s %-7s %-5s %-12s %s\n", "NAME", "VERSION", "RUN", "SIZE", "SHA256");
    for (const auto& m : registry.list(name))
      std::printf("%-24s %-7d %-5lld %-12lld %s\n", m.name.c_str(), m.version, static_cast<long long>(m.run_id),
                  static_cast<long long>(m.size), m.sha256.c_str());
    return 0;
  }
  if (name.empty()) ROOST_USAGE_ERROR("--name is required");
  if (verb == "register") {
    if (!r.count("run")) ROOST_USAGE_ERROR("--run is required");
    const run::ModelVersion m = registry.register_model(static_cast<int64_t>(get_uint64(r, "run")), name,
                                                        r["path"].as<std::string>());
    std::cerr << "roost: registered " << m.name << " version " << m.version << " from run " << m.run_id << "\n";
    print_version(m, false);
  } else if (verb == "show") {
    print_version(registry.get(name, get_int(r, "version")), true);
  } else {
    const std::string path = registry.download(name, get_int(r, "version"), get_required(r, "to"));
    std::cerr << "roost: checksum verified\n";
    std::cout << path << "\n";
  }
  return 0;
}

}  // namespace roost::cli
