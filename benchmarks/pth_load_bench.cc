// pth_load_bench.cc — how long does `--pretrained resnet50.pth` take, and how much memory does
// it need on top of the model? Times load_pth (the .pth read into tensors) and load_pretrained
// (read + key check + copy into a roost resnet50), and reports the peak resident memory each
// adds, against the file's size. Target: under 2 s and under 2× the file size.
//
//   pth_load_bench [--file resnet50.pth] [--runs 3] [--json]
//
// Without --file, a randomly initialised torchvision resnet50 state dict is written with
// /usr/bin/python3 (torch + torchvision) into a temporary folder. Each run is a fresh process
// (this program re-executed with --once), so the peak memory of one run is not hidden by the
// allocator keeping the previous run's pages. The file is in the page cache (just written or
// read by the previous run): the times are warm-cache times.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_args.h"
#include "roost/model/pretrained.h"

namespace {

namespace fs = std::filesystem;

// A field of /proc/self/status in bytes (VmRSS, VmHWM), -1 if absent.
long long status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::atoll(line.c_str() + field.size() + 1) * 1024;
  return -1;
}

// One measurement in this process: seconds and peak RSS added by `mode`.
int run_once(const std::string& mode, const std::string& file) {
  roost::model::ResNet net{nullptr};
  if (mode == "pretrained") {  // the model exists before the load, as in training
    roost::model::ResNetOptions o;
    o.arch = "resnet50";
    net = roost::model::make_resnet(o);
  }
  const long long rss0 = status_bytes("VmRSS");
  // Resets VmHWM to the current RSS (Linux ≥ 4.0), so the peak is this load's alone.
  const bool reset = static_cast<bool>(std::ofstream("/proc/self/clear_refs") << "5");
  const auto t0 = std::chrono::steady_clock::now();
  size_t tensors = 0;
  if (mode == "pth") {
    tensors = roost::model::load_pth(file).size();
  } else {
    tensors = static_cast<size_t>(roost::model::load_pretrained(net, file).loaded);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const long long hwm = status_bytes("VmHWM");
  std::printf("%.6f %lld %zu %d\n", seconds, hwm - rss0, tensors, reset ? 1 : 0);
  return 0;
}

struct Result {
  std::string mode;
  double seconds = 0;   // median over runs
  double extra_mb = 0;  // largest over runs
  size_t tensors = 0;
  bool hwm_reset = true;
};

Result measure(const std::string& self, const std::string& mode, const std::string& file, int runs) {
  Result r{mode};
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const std::string cmd = "'" + self + "' --once " + mode + " --file '" + file + "'";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + cmd);
    double s = 0;
    long long extra = 0;
    size_t n = 0;
    int reset = 0;
    const int got = std::fscanf(p, "%lf %lld %zu %d", &s, &extra, &n, &reset);
    if (pclose(p) != 0 || got != 4) throw std::runtime_error("run failed: " + cmd);
    times.push_back(s);
    r.extra_mb = std::max(r.extra_mb, static_cast<double>(extra) / 1e6);
    r.tensors = n;
    r.hwm_reset = r.hwm_reset && reset;
  }
  std::sort(times.begin(), times.end());
  r.seconds = times[times.size() / 2];
  return r;
}

}  // namespace

int main(int argc, char** argv) try {
  cxxopts::Options spec("pth_load_bench", "seconds and peak extra memory of loading a ResNet-50 .pth");
  // clang-format off
  spec.add_options()
      ("file", "the .pth to load (default: a random torchvision resnet50 written with /usr/bin/python3)",
       cxxopts::value<std::string>())
      ("runs", "fresh processes per step (median reported)", cxxopts::value<std::string>()->default_value("3"))
      ("json", "print JSON instead of the table")
      ("once", "internal: one measured load (pth or pretrained) in this process, printed as numbers",
       cxxopts::value<std::string>());
  // clang-format on
  const auto r = roost::bench::parse_args(spec, argc, argv);
  if (!r) return 0;
  std::string file = r->count("file") ? (*r)["file"].as<std::string>() : "";
  const std::string once = r->count("once") ? (*r)["once"].as<std::string>() : "";
  const int runs = std::max(1, roost::bench::get_int(*r, "runs"));
  const bool json = r->count("json") > 0;
  if (!once.empty()) return run_once(once, file);

  const std::string scratch = (fs::temp_directory_path() / ("roost-pth-bench-" + std::to_string(getpid()))).string();
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } cleanup{scratch};
  if (file.empty()) {
    fs::create_directories(scratch);
    file = scratch + "/resnet50.pth";
    const std::string cmd =
        "/usr/bin/python3 -c 'import sys, torch, torchvision; torch.manual_seed(0); "
        "torch.save(torchvision.models.resnet50().state_dict(), sys.argv[1])' '" +
        file + "'";
    if (std::system(cmd.c_str()) != 0)
      throw std::runtime_error(
          "cannot write a resnet50 .pth (needs /usr/bin/python3 with torch and "
          "torchvision, or pass --file)");
  }
  const double file_mb = static_cast<double>(fs::file_size(file)) / 1e6;
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<Result> results = {measure(self, "pth", file, runs), measure(self, "pretrained", file, runs)};

  if (json) {
    std::printf("[");
    for (size_t i = 0; i < results.size(); ++i)
      std::printf(
          "%s{\"step\": \"%s\", \"file_mb\": %.1f, \"seconds\": %.3f, \"extra_mb\": %.1f, "
          "\"extra_over_file\": %.2f, \"tensors\": %zu}",
          i ? ", " : "", results[i].mode.c_str(), file_mb, results[i].seconds, results[i].extra_mb,
          results[i].extra_mb / file_mb, results[i].tensors);
    std::printf("]\n");
    return 0;
  }
  std::printf("pth_load_bench: %s (%.1f MB), median of %d fresh processes, warm page cache\n\n", file.c_str(), file_mb,
              runs);
  std::printf("%-34s %9s %14s %12s %8s\n", "step", "seconds", "peak extra MB", "extra/file", "tensors");
  for (const Result& r : results)
    std::printf("%-34s %9.3f %14.1f %12.2f %8zu\n", r.mode == "pth" ? "load_pth" : "load_pretrained into resnet50",
                r.seconds, r.extra_mb, r.extra_mb / file_mb, r.tensors);
  if (!results[0].hwm_reset)
    std::printf("\nnote: /proc/self/clear_refs unavailable: peaks include memory used before the load\n");
  std::printf("\ntarget: < 2 s and < 2x the file size (%.1f MB)\n", 2 * file_mb);
  return 0;
} catch (const std::exception& e) {
  return roost::bench::report_error("pth_load_bench", e);
}
