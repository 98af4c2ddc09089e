// http.h — what the ui's handlers share: the options, one-line JSON errors, and a guard that
// turns exceptions into them.
#pragma once

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "roost/ui/server.h"

namespace roost::ui {

// Thrown by a handler: the status and the one-line message of the answer.
struct HttpError {
  int status;
  std::string message;
};

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// Text that may hold bytes that are not UTF-8 (a log) is sent with those replaced.
inline std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
inline void send_json(httplib::Response& res, const std::string& body) {
  res.status = 200;
  res.set_content(body + "\n", "application/json");
}
inline void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(dump(nlohmann::json{{"error", message}}) + "\n", "application/json");
}

// HttpError → its status; a UsageError → 404 when it says "no such", else 400; other → 500.
Handler guarded(Handler h);

// The run id of /api/runs/ID routes (matches[1]); 404 when it is too long to be one.
int64_t run_id_of(const httplib::Request& req);

void add_read_routes(httplib::Server& svr, const UiOptions& o);    // GET /api/...
void add_sweep_routes(httplib::Server& svr, const UiOptions& o);   // GET /api/sweeps...
void add_action_routes(httplib::Server& svr, const UiOptions& o);  // POST /api/...
void add_static_routes(httplib::Server& svr, const UiOptions& o);  // the page, /files/...

}  // namespace roost::ui
