// export_bench.cc — is the exported ONNX model as fast to run as roost's own forward pass?
// Times one eval-mode forward pass of a ResNet at batch 1 and 8 (224 px by default) in roost
// (libtorch, roost predict's forward) and in ONNX Runtime's CPU provider (npm onnxruntime-node,
// run by this program through node) on the file `roost export` writes from the same weights,
// in the same invocation on the same machine. Both use every core (roost predict's default,
// ONNX Runtime's); the
// median of --runs timed passes after --warmup untimed ones.
//
//   export_bench [--arch resnet18] [--size 224] [--batches 1,8] [--runs 20] [--warmup 3]
//                [--npm-dir build/npm] [--fold-bn] [--json]
//
// --npm-dir holds node_modules/onnxruntime-node (tests/e2e/export_test.sh installs it into
// build/npm: npm install --ignore-scripts onnxruntime-node@1.31.1).
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.h"
#include "roost/export/onnx.h"
#include "roost/model/resnet.h"
#include "roost/model/state_dict.h"

namespace {
namespace fs = std::filesystem;

const char* kNodeTimer = R"JS(
const [npm, model, n, size, runs, warmup] = process.argv.slice(2);
const ort = require(npm + "/node_modules/onnxruntime-node");
(async () => {
  const session = await ort.InferenceSession.create(model);
  const data = new Float32Array(Number(n) * 3 * Number(size) * Number(size)).map(() => Math.random() - 0.5);
  const feeds = { input: new ort.Tensor("float32", data, [Number(n), 3, Number(size), Number(size)]) };
  for (let i = 0; i < Number(warmup); ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(times[Math.floor(times.length / 2)]);
})().catch((e) => { console.error(String(e)); process.exit(1); });
)JS";

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double roost_forward_ms(roost::model::ResNet& net, int batch, int size, int runs, int warmup) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::rand({batch, 3, size, size}) - 0.5;
  for (int i = 0; i < warmup; ++i) net->forward(x);
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    net->forward(x);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(ms);
}

double ort_ms(const std::string& npm, const std::string& script, const std::string& model, int batch, int size,
              int runs, int warmup) {
  std::ostringstream cmd;
  cmd << "node " << script << " '" << npm << "' '" << model << "' " << batch << " " << size << " " << runs << " "
      << warmup;
  FILE* p = popen(cmd.str().c_str(), "r");
  if (!p) throw std::runtime_error("cannot run node");
  char line[128] = {0};
  const bool got = fgets(line, sizeof line, p) != nullptr;
  if (pclose(p) != 0 || !got)
    throw std::runtime_error("ONNX Runtime run failed (is " + npm + "/node_modules/onnxruntime-node there?)");
  return std::atof(line);
}
}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options o("export_bench", "roost's forward pass vs ONNX Runtime on the exported model");
  // clang-format off
  o.add_options()
      ("arch", "ResNet depth", cxxopts::value<std::string>()->default_value("resnet18"))
      ("size", "image size", cxxopts::value<std::string>()->default_value("224"))
      ("batches", "batch sizes", cxxopts::value<std::string>()->default_value("1,8"))
      ("runs", "timed passes", cxxopts::value<std::string>()->default_value("20"))
      ("warmup", "untimed passes first", cxxopts::value<std::string>()->default_value("3"))
      ("npm-dir", "folder with node_modules/onnxruntime-node", cxxopts::value<std::string>()->default_value("build/npm"))
      ("fold-bn", "export with BatchNorm folded into the convolutions")
      ("json", "also print JSON");
  // clang-format on
  try {
    const auto r = roost::bench::parse_args(o, argc, argv);
    if (!r) return 0;
    const std::string arch = (*r)["arch"].as<std::string>();
    const int size = roost::bench::get_int_at_least(*r, "size", 1);
    const int runs = roost::bench::get_int_at_least(*r, "runs", 1);
    const int warmup = roost::bench::get_int_at_least(*r, "warmup", 0);
    const std::vector<int> batches = roost::cli::get_int_list(*r, "batches");
    for (int b : batches) ROOST_USAGE_CHECK(b >= 1, "--batches: a batch size must be at least 1, got ", b);
    const std::string npm = fs::absolute((*r)["npm-dir"].as<std::string>()).string();
    const fs::path dir = fs::temp_directory_path() / ("roost-export-bench-" + std::to_string(::getpid()));
    fs::create_directories(dir);

    // As roost predict runs it: every core (libtorch's default can be one).
    torch::set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
    torch::manual_seed(0);
    roost::model::ResNetOptions mo;
    mo.arch = arch;
    mo.num_classes = 1000;
    roost::model::ResNet net = roost::model::make_resnet(mo);
    net->eval();
    std::vector<std::string> classes;
    for (int i = 0; i < 1000; ++i) classes.push_back("c" + std::to_string(i));
    const std::string h5 = (dir / "model.h5").string(), onnx = (dir / "model.onnx").string();
    roost::model::save_weights_h5(h5, roost::model::state_dict(*net), arch, classes, size, (size * 256 + 112) / 224);
    roost::exporting::OnnxOptions eo;
    eo.fold_bn = r->count("fold-bn") > 0;
    roost::exporting::export_onnx(h5, eo, onnx);
    const std::string script = (dir / "ort_timer.js").string();
    std::ofstream(script) << kNodeTimer;

    std::printf("%s at %d px, %d thread(s) for libtorch, ONNX Runtime's default (all cores); median of %d passes%s\n",
                arch.c_str(), size, torch::get_num_threads(), runs, eo.fold_bn ? ", BatchNorm folded" : "");
    std::printf("%-6s %-16s %-20s %s\n", "batch", "roost ms", "ONNX Runtime ms", "ONNX Runtime / roost (speed)");
    std::string json = "[";
    for (int b : batches) {
      const double t_roost = roost_forward_ms(net, b, size, runs, warmup);
      const double t_ort = ort_ms(npm, script, onnx, b, size, runs, warmup);
      std::printf("%-6d %-16.2f %-20.2f %.2fx\n", b, t_roost, t_ort, t_roost / t_ort);
      char row[160];
      std::snprintf(row, sizeof row, "%s{\"batch\": %d, \"roost_ms\": %.3f, \"onnxruntime_ms\": %.3f}",
                    json.size() > 1 ? ", " : "", b, t_roost, t_ort);
      json += row;
    }
    if (r->count("json")) std::printf("%s]\n", json.c_str());
    fs::remove_all(dir);
  } catch (const std::exception& e) {
    return roost::bench::report_error("export_bench", e);
  }
  return 0;
}
