// ui_cmd.cc — `roost ui`: options → UiOptions → roost::ui. SIGTERM and SIGINT stop it.
#include <signal.h>

#include <atomic>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/ui/server.h"

namespace roost::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_ui_stop_signal(int) { g_stop = true; }

cxxopts::Options ui_options() {
  cxxopts::Options o("roost ui",
                     "A web page over a workspace: runs by experiment, each run's curves and logs (live while it\n"
                     "trains), compare runs, registered models; and its JSON API under /api/:\n"
                     "  roost ui [--workspace W] [--host 127.0.0.1] [--port 8080] [--allow-actions]\n"
                     "Read-only unless --allow-actions (cancel a run, register a model), which asks for the token\n"
                     "printed at start. SIGTERM or Ctrl-C stops it.");
  // clang-format off
  o.add_options()
      ("workspace", "run store folder", cxxopts::value<std::string>()->default_value("roost-workspace"))
      ("host", "address to listen on (loopback unless given)", cxxopts::value<std::string>()->default_value("127.0.0.1"))
      ("port", "port (0: any free one, printed at start)", cxxopts::value<std::string>()->default_value("8080"))
      ("allow-actions", "let the page cancel runs and register models (with a token printed at start)")
      ("h,help", "show this help");
  // clang-format on
  return o;
}
}  // namespace

int ui_main(int argc, char** argv) {
  cxxopts::Options options = ui_options();
  cxxopts::ParseResult r = parse_or_usage(options, argc, argv);
  if (print_help_if_asked(options, r)) return 0;
  ui::UiOptions o;
  o.workspace = r["workspace"].as<std::string>();
  o.host = r["host"].as<std::string>();
  ROOST_USAGE_CHECK(!o.host.empty(), "--host must not be empty");
  o.port = get_int(r, "port");
  ROOST_USAGE_CHECK(o.port >= 0 && o.port <= 65535, "--port must be in 0..65535");
  o.allow_actions = r.count("allow-actions") > 0;
  if (o.allow_actions) o.token = ui::new_token();
  struct sigaction sa {};
  sa.sa_handler = on_ui_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a browser that hangs up must not end the server
  return ui::run_ui(o, g_stop);
}

}  // namespace roost::cli
