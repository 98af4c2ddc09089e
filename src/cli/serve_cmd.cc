// serve_cmd.cc — `roost serve`: options → ModelSpecs and ServeOptions → roost::serve. SIGTERM
// and SIGINT stop it gracefully (it stops accepting, answers what is in flight, exits 0).
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/serve/server.h"
#ifdef ROOST_WITH_RUN
#include "model_ref.h"
#endif

namespace roost::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

cxxopts::Options serve_options() {
  cxxopts::Options o("roost serve",
                     "Serve trained models over HTTP (Open Inference Protocol / KServe v2, and POST\n"
                     "/predictions/NAME with an image body):\n"
                     "  roost serve --model OUT/model.h5 [--model fowl=other/model.h5] [--port 8000]\n"
                     "  roost serve --model NAME[:VERSION] --workspace W\n"
                     "A file is served as NAME=PATH (default name: the file's stem), version 1; a registered\n"
                     "model under its name and version. SIGTERM or Ctrl-C stops it after the requests in flight.");
  // clang-format off
  o.add_options()
      ("model", "[NAME=]FILE or a registered NAME[:VERSION]; repeatable", cxxopts::value<std::vector<std::string>>())
      ("workspace", "run store folder for registered models", cxxopts::value<std::string>()->default_value("roost-workspace"))
      ("host", "address to listen on", cxxopts::value<std::string>()->default_value("127.0.0.1"))
      ("port", "port (0: any free one, printed at start)", cxxopts::value<std::string>()->default_value("8000"))
      ("max-batch", "images per forward pass at most", cxxopts::value<std::string>()->default_value("32"))
      ("max-delay-ms", "how long the first image of a batch waits for more at most", cxxopts::value<std::string>()->default_value("5"))
      ("batch-policy", "eager: wait for batch-mates only while requests are being decoded; delay: always wait --max-delay-ms", cxxopts::value<std::string>()->default_value("eager"))
      ("max-queue", "images waiting per model at most; beyond, 503 with Retry-After", cxxopts::value<std::string>()->default_value("256"))
      ("threads", "HTTP worker threads (each request waiting for its batch holds one)", cxxopts::value<std::string>()->default_value("64"))
      ("forward-threads", "threads of each forward pass (0 = the cores / batch-workers)", cxxopts::value<std::string>()->default_value("0"))
      ("batch-workers", "forward passes that run at once, each on its own batch", cxxopts::value<std::string>()->default_value("1"))
      ("max-body-mb", "largest request body; larger is 413", cxxopts::value<std::string>()->default_value("16"))
      ("timeout-s", "read and write timeout of a connection", cxxopts::value<std::string>()->default_value("10"))
      ("access-log", "one line per request on stderr")
      ("h,help", "show this help");
  // clang-format on
  return o;
}

serve::ModelSpec resolve(const std::string& arg, const std::string& workspace) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const size_t eq = arg.find('=');
  if (eq != std::string::npos) {
    serve::ModelSpec m{arg.substr(0, eq), "1", arg.substr(eq + 1)};
    ROOST_USAGE_CHECK(!m.name.empty() && m.name.find('/') == std::string::npos, "--model ", arg, ": bad name");
    ROOST_USAGE_CHECK(fs::is_regular_file(m.path, ec), "--model ", arg, ": ", m.path, " is not a file");
    return m;
  }
  if (fs::is_regular_file(arg, ec)) return {fs::path(arg).stem().string(), "1", arg};
#ifdef ROOST_WITH_RUN
  if (const auto mv = find_registered(arg, workspace)) return {mv->name, std::to_string(mv->version), mv->path};
#endif
  ROOST_USAGE_ERROR("--model ", arg, ": no such file (and ", workspace, " is no workspace with a registry)");
}

double positive(const cxxopts::ParseResult& r, const std::string& name, double max) {
  const double v = get_double(r, name);
  ROOST_USAGE_CHECK(v > 0 && v <= max, "--", name, " must be in (0, ", max, "] (got ", v, ")");
  return v;
}
}  // namespace

int serve_main(int argc, char** argv) {
  cxxopts::Options options = serve_options();
  cxxopts::ParseResult r = parse_or_usage(options, argc, argv);
  if (print_help_if_asked(options, r)) return 0;
  if (!r.count("model")) ROOST_USAGE_ERROR("--model is required (a model.h5, or NAME[:VERSION] with --workspace)");
  serve::ServeOptions o;
  o.host = r["host"].as<std::string>();
  o.port = get_int(r, "port");
  ROOST_USAGE_CHECK(o.port >= 0 && o.port <= 65535, "--port must be in 0..65535");
  o.max_batch = static_cast<int>(positive(r, "max-batch", 1024));
  o.max_delay_ms = get_double(r, "max-delay-ms");
  ROOST_USAGE_CHECK(o.max_delay_ms >= 0 && o.max_delay_ms <= 10000, "--max-delay-ms must be in [0, 10000]");
  const std::string policy = r["batch-policy"].as<std::string>();
  ROOST_USAGE_CHECK(policy == "eager" || policy == "delay", "--batch-policy must be eager or delay (got ", policy, ")");
  o.eager_batches = policy == "eager";
  o.max_queue = static_cast<int>(positive(r, "max-queue", 1 << 20));
  o.threads = static_cast<int>(positive(r, "threads", 4096));
  o.forward_threads = get_int(r, "forward-threads");
  ROOST_USAGE_CHECK(o.forward_threads >= 0, "--forward-threads must be 0 (automatic) or more");
  o.batch_workers = static_cast<int>(positive(r, "batch-workers", 64));
  o.max_body_mb = positive(r, "max-body-mb", 4096);
  o.timeout_s = positive(r, "timeout-s", 3600);
  o.access_log = r.count("access-log") > 0;
  std::vector<serve::ModelSpec> models;
  for (const auto& m : r["model"].as<std::vector<std::string>>()) {
    models.push_back(resolve(m, r["workspace"].as<std::string>()));
    for (size_t i = 0; i + 1 < models.size(); ++i)
      ROOST_USAGE_CHECK(models[i].name != models.back().name || models[i].version != models.back().version,
                        "--model: ", models.back().name, " version ", models.back().version, " is given twice");
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server
  return serve::run_server(models, o, g_stop);
}

}  // namespace roost::cli
