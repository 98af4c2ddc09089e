// server.cc — `roost ui`'s HTTP server: the routes, one-line JSON errors for whatever fails, a
// limit on the request line, and the start and stop of the listener.
#include "roost/ui/server.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "http.h"
#include "roost/core/error.h"
#include "roost/run/store.h"

namespace roost::ui {

namespace {
constexpr size_t kMaxTarget = 4096;  // longer request targets (path and query) are refused: 414

void configure(httplib::Server& svr) {
  svr.set_read_timeout(std::chrono::seconds(10));
  svr.set_write_timeout(std::chrono::seconds(10));
  svr.set_payload_max_length(64 * 1024);  // actions carry a few fields
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "no route " + req.method + " " + req.path);
    else if (res.status == 414) send_error(res, 414, "the request target is too long");
    else send_error(res, res.status, "bad request");
  });
  svr.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.target.size() <= kMaxTarget) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, 414, "the request target is longer than " + std::to_string(kMaxTarget) + " bytes");
    return httplib::Server::HandlerResponse::Handled;
  });
  // The page and its data never come from anywhere but this server.
  svr.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-store");
  });
}
}  // namespace

Handler guarded(Handler h) {
  return [h](const httplib::Request& req, httplib::Response& res) {
    try {
      h(req, res);
    } catch (const HttpError& e) {
      send_error(res, e.status, e.message);
    } catch (const UsageError& e) {
      send_error(res, e.message().rfind("no ", 0) == 0 ? 404 : 400, e.message());
    } catch (const std::exception& e) {
      send_error(res, 500, e.what());
    }
  };
}

std::string new_token() {
  unsigned char bytes[16];
  std::ifstream in("/dev/urandom", std::ios::binary);
  ROOST_CHECK(in.read(reinterpret_cast<char*>(bytes), sizeof bytes), "cannot read /dev/urandom for the token");
  std::string hex;
  char buf[3];
  for (unsigned char b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  return hex;
}

int run_ui(const UiOptions& options, const std::atomic<bool>& stop) {
  run::require_existing_workspace(options.workspace);
  UiOptions o = options;
  o.workspace = std::filesystem::canonical(options.workspace).string();
  run::RunStore check(o.workspace);  // a newer schema is refused now, not on the first request
  httplib::Server svr;
  configure(svr);
  add_static_routes(svr, o);
  add_read_routes(svr, o);
  add_sweep_routes(svr, o);
  add_action_routes(svr, o);
  const int port = o.port == 0 ? svr.bind_to_any_port(o.host) : (svr.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0)
    ROOST_USAGE_ERROR("cannot listen on ", o.host, ":", o.port, " (in use, or not an address of this machine?)");
  std::thread listener([&svr] { svr.listen_after_bind(); });
  std::cerr << "roost ui: " << o.workspace << " on http://" << o.host << ":" << port << "/" << std::endl;
  if (o.allow_actions)
    std::cerr << "roost ui: actions are on; token " << o.token << " (open http://" << o.host << ":" << port
              << "/#token=" << o.token << ")" << std::endl;
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  svr.stop();
  listener.join();
  std::cerr << "roost ui: stopped" << std::endl;
  return 0;
}

}  // namespace roost::ui
