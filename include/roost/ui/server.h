// roost/ui/server.h — `roost ui`: a web page and its JSON API (/api/) over a workspace's run store,
// run folders and model registry. Read-only unless actions (cancel, register) are enabled.
#pragma once

#include <atomic>
#include <string>

namespace roost::ui {

struct UiOptions {
  std::string workspace;  // an existing workspace (roost.db inside)
  std::string host = "127.0.0.1";
  int port = 8080;             // 0: any free port, printed at start
  bool allow_actions = false;  // POST /api/runs/ID/cancel and POST /api/models
  std::string token;           // required on POST requests when actions are on
};

// Serves until `stop` turns true; prints the address (and the token) on stderr at start.
// UsageError when the address cannot be bound.
int run_ui(const UiOptions& options, const std::atomic<bool>& stop);

// A random token of 32 hex digits (from /dev/urandom).
std::string new_token();

}  // namespace roost::ui
