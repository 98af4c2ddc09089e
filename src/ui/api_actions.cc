// api_actions.cc — the two actions of the page, cancel a run and register a model; answered
// only when roost ui runs with --allow-actions, and only with the token it printed at start.
#include "http.h"
#include "roost/core/error.h"
#include "roost/run/documents.h"
#include "roost/run/monitor.h"
#include "roost/run/registry.h"
#include "roost/run/store.h"

namespace roost::ui {

namespace {
using nlohmann::json;

void check_allowed(const UiOptions& o, const httplib::Request& req) {
  if (!o.allow_actions) throw HttpError{403, "actions are off: start roost ui with --allow-actions"};
  if (req.get_header_value("X-Roost-Token") != o.token)
    throw HttpError{401, "missing or wrong X-Roost-Token (roost ui printed the token at start)"};
}

std::string field(const json& body, const char* name, const std::string& fallback) {
  if (!body.contains(name)) {
    if (fallback.empty()) throw HttpError{400, std::string("the body needs \"") + name + "\""};
    return fallback;
  }
  if (!body[name].is_string()) throw HttpError{400, std::string("\"") + name + "\" must be a string"};
  return body[name].get<std::string>();
}
}  // namespace

void add_action_routes(httplib::Server& svr, const UiOptions& o) {
  svr.Post(R"(/api/runs/(\d+)/cancel)", guarded([o](const httplib::Request& req, httplib::Response& res) {
             check_allowed(o, req);
             run::RunStore store(o.workspace);
             const int64_t id = run_id_of(req);
             store.get_run(id);  // 404 when absent
             try {
               run::cancel_run(store, id, run::MonitorConfig{});
             } catch (const UsageError& e) {
               throw HttpError{409, e.message()};  // it has already ended
             }
             send_json(res, run::run_document(store, id));
           }));
  // Body: {"run_id": N, "name": "NAME", "path": "outputs/model.h5" (default)}.
  svr.Post("/api/models", guarded([o](const httplib::Request& req, httplib::Response& res) {
             check_allowed(o, req);
             const json body = json::parse(req.body, nullptr, false);
             if (!body.is_object()) throw HttpError{400, "the body must be a JSON object"};
             if (!body.contains("run_id") || !body["run_id"].is_number_unsigned())
               throw HttpError{400, "the body needs \"run_id\": a run id"};
             run::RunStore store(o.workspace);
             const int64_t id = body["run_id"].get<int64_t>();
             store.get_run(id);
             run::ModelRegistry registry(store);
             const run::ModelVersion m =
                 registry.register_model(id, field(body, "name", ""), field(body, "path", "outputs/model.h5"));
             send_json(res, dump({{"name", m.name}, {"version", m.version}, {"sha256", m.sha256}}));
           }));
}

}  // namespace roost::ui
