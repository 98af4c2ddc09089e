// models_cmd.cc — `roost models register|list|show|download`: the model registry.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <vector>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/run/registry.h"
#ifdef ROOST_WITH_EXPORT
#include "roost/export/onnx.h"
#endif

namespace roost::cli {

namespace {
constexpr const char* kModelsUsage =
    "Usage: roost models <register|list|show|download> [options]\n"
    "  register --run ID --name NAME [--path outputs/model.h5] [--export onnx,pth]\n"
    "                                                            the next version of NAME, with\n"
    "                                                            exported formats kept beside it\n"
    "  list     [--name NAME]                                    models and versions\n"
    "  show     --name NAME [--version V]                        a version (default: newest)\n"
    "  download --name NAME [--version V] --to DIR [--format h5|onnx|pth]   a verified copy in DIR\n"
    "Every command takes --workspace DIR (default roost-workspace).\n";

cxxopts::Options models_options(const std::string& verb) {
  cxxopts::Options o("roost models " + verb, kModelsUsage);
  // clang-format off
  o.add_options()
      ("workspace", "run store folder", cxxopts::value<std::string>()->default_value("roost-workspace"))
      ("run", "the run whose file is registered", cxxopts::value<std::string>())
      ("name", "model name", cxxopts::value<std::string>()->default_value(""))
      ("path", "file inside the run's folder", cxxopts::value<std::string>()->default_value("outputs/model.h5"))
      ("version", "version (0 = newest)", cxxopts::value<std::string>()->default_value("0"))
      ("to", "download folder", cxxopts::value<std::string>())
      ("export", "register: also export these formats (onnx, pth; comma-separated; ONNX at opset 13)",
       cxxopts::value<std::string>()->default_value(""))
      ("format", "download: h5 (the weight file), onnx or pth", cxxopts::value<std::string>()->default_value("h5"))
      ("h,help", "show this help");
  // clang-format on
  return o;
}

std::vector<std::string> split_formats(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    const size_t comma = list.find(',', start);
    const std::string f = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    ROOST_USAGE_CHECK(f == "onnx" || f == "pth", "--export: unknown format '", f, "' (use onnx, pth)");
    out.push_back(f);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The exported files of `source`, made in a staging folder of the workspace before the
// version is registered, so that a failed export registers nothing. Removed when done.
struct StagedExports {
  std::string dir;
  std::vector<std::pair<std::string, std::string>> files;  // format, path
  StagedExports(const std::string& workspace, const std::string& source, const std::vector<std::string>& formats) {
    if (formats.empty()) return;
#ifdef ROOST_WITH_EXPORT
    dir = workspace + "/models/.staging-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    for (const auto& f : formats) {
      const std::string path = dir + "/model." + f;
      if (f == "onnx") exporting::export_onnx(source, exporting::OnnxOptions{}, path);
      else exporting::export_pth(source, path);
      files.emplace_back(f, path);
    }
#else
    (void)workspace, (void)source;
    ROOST_USAGE_ERROR("this roost was built without ONNX (libonnx-dev, libprotobuf-dev): no --export");
#endif
  }
  ~StagedExports() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

void print_version(const run::ModelVersion& m, bool full) {
  std::cout << "name:       " << m.name << "\nversion:    " << m.version << "\nrun:        " << m.run_id
            << "\nsha256:     " << m.sha256 << "\nsize:       " << m.size << " bytes\nfile:       " << m.path
            << "\nsource:     " << m.source_path << "\ncreated:    " << run::format_time(m.created_at) << " UTC\n";
  if (full) std::cout << "metrics:    " << m.metrics << "\n";
}

void print_files(const std::vector<run::ModelFile>& files) {
  for (const auto& f : files)
    std::cout << "file (" << f.format << "): " << f.path << "  sha256 " << f.sha256 << ", " << f.size << " bytes\n";
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
    const int64_t run_id = static_cast<int64_t>(get_uint64(r, "run"));
    const std::vector<std::string> formats = split_formats(r["export"].as<std::string>());
    const std::string source = store.get_run(run_id).run_dir + "/" + r["path"].as<std::string>();
    std::error_code ec;
    // A missing file is register_model's error to report (it names the run and the path).
    const StagedExports staged(store.workspace(), source,
                               std::filesystem::is_regular_file(source, ec) ? formats : std::vector<std::string>{});
    const run::ModelVersion m = registry.register_model(run_id, name, r["path"].as<std::string>());
    for (const auto& [format, path] : staged.files) registry.attach_file(name, m.version, format, path);
    std::cerr << "roost: registered " << m.name << " version " << m.version << " from run " << m.run_id << "\n";
    print_version(m, false);
    print_files(registry.files(name, m.version));
  } else if (verb == "show") {
    const run::ModelVersion m = registry.get(name, get_int(r, "version"));
    print_version(m, true);
    print_files(registry.files(name, m.version));
  } else {
    const std::string format = r["format"].as<std::string>();
    ROOST_USAGE_CHECK(format == "h5" || format == "onnx" || format == "pth", "--format must be h5, onnx or pth");
    const std::string path = registry.download(name, get_int(r, "version"), get_required(r, "to"), format);
    std::cerr << "roost: checksum verified\n";
    std::cout << path << "\n";
  }
  return 0;
}

}  // namespace roost::cli
