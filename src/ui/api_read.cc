// api_read.cc — the read-only JSON API: runs, one run, its log (tailed by offset), its files,
// and the registered models. The run documents are the ones `roost runs list|show --json` print.
#include <filesystem>
#include <fstream>

#include "http.h"
#include "paths.h"
#include "roost/core/error.h"
#include "roost/run/documents.h"
#include "roost/run/store.h"

namespace roost::ui {

namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMaxLogChunk = 256 * 1024;  // one answer's bytes of a log at most
constexpr int kMaxFiles = 1000;               // files listed per run at most

int64_t param_int(const httplib::Request& req, const char* name, int64_t fallback, int64_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  if (v.empty() || v.size() > 15 || v.find_first_not_of("0123456789") != std::string::npos)
    throw HttpError{400, std::string(name) + " must be a non-negative integer"};
  const int64_t n = std::stoll(v);
  if (n > max) throw HttpError{400, std::string(name) + " must be at most " + std::to_string(max)};
  return n;
}

// stream=rank (the rank's stdout/stderr), train (roost train's own log) or driver (mpirun's).
std::string log_path(const run::RunRecord& run, const httplib::Request& req) {
  const std::string stream = req.has_param("stream") ? req.get_param_value("stream") : "rank";
  const int64_t rank = param_int(req, "rank", 0, 1 << 20);
  if (stream != "driver" && rank >= run.np)
    throw HttpError{404, "run " + std::to_string(run.id) + " has ranks 0.." + std::to_string(run.np - 1)};
  if (stream == "driver") return run.run_dir + "/logs/driver.log";
  if (stream == "train") return run.run_dir + "/outputs/logs/rank-" + std::to_string(rank) + ".log";
  if (stream == "rank") return run.run_dir + "/logs/rank-" + std::to_string(rank) + ".log";
  throw HttpError{400, "stream must be rank, train or driver"};
}

// From `offset` (default: the last 64 KiB) up to kMaxLogChunk bytes; "next" is where to go on.
json read_log(const std::string& path, const httplib::Request& req) {
  std::error_code ec;
  const int64_t size = fs::exists(path, ec) ? static_cast<int64_t>(fs::file_size(path, ec)) : 0;
  const int64_t from = std::min(param_int(req, "offset", std::max<int64_t>(0, size - 65536), INT64_MAX / 2), size);
  const int64_t n = std::min(kMaxLogChunk, size - from);
  std::string text(static_cast<size_t>(n), '\0');
  if (n > 0) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(from);
    in.read(text.data(), n);
    text.resize(static_cast<size_t>(in.gcount()));
  }
  return {{"offset", from}, {"next", from + static_cast<int64_t>(text.size())}, {"size", size}, {"text", text}};
}

json list_files(const UiOptions& o, const run::RunRecord& run) {
  json files = json::array();
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(run.run_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || files.size() >= kMaxFiles) continue;
    files.push_back({{"path", relative_to(o.workspace, it->path().string())},
                     {"name", fs::relative(it->path(), run.run_dir, ec).string()},
                     {"size", static_cast<int64_t>(it->file_size(ec))}});
  }
  return {{"run_id", run.id}, {"files", files}};
}
}  // namespace

int64_t run_id_of(const httplib::Request& req) {
  const std::string v = req.matches[1];
  if (v.size() > 15) throw HttpError{404, "no run " + v};
  return std::stoll(v);
}

void add_read_routes(httplib::Server& svr, const UiOptions& o) {
  svr.Get("/api/config", guarded([o](const httplib::Request&, httplib::Response& res) {
            send_json(res, dump({{"workspace", o.workspace}, {"actions", o.allow_actions}}));
          }));
  svr.Get("/api/runs", guarded([o](const httplib::Request& req, httplib::Response& res) {
            run::RunStore store(o.workspace);
            send_json(res,
                      run::runs_document(store, req.has_param("experiment") ? req.get_param_value("experiment") : ""));
          }));
  svr.Get(R"(/api/runs/(\d+))", guarded([o](const httplib::Request& req, httplib::Response& res) {
            run::RunStore store(o.workspace);
            send_json(res, run::run_document(store, run_id_of(req)));
          }));
  svr.Get(R"(/api/runs/(\d+)/log)", guarded([o](const httplib::Request& req, httplib::Response& res) {
            run::RunStore store(o.workspace);
            const run::RunRecord run = store.get_run(run_id_of(req));
            const std::string path = log_path(run, req);
            json j = read_log(path, req);
            j["path"] = relative_to(o.workspace, path);
            send_json(res, dump(j));
          }));
  svr.Get(R"(/api/runs/(\d+)/files)", guarded([o](const httplib::Request& req, httplib::Response& res) {
            run::RunStore store(o.workspace);
            send_json(res, dump(list_files(o, store.get_run(run_id_of(req)))));
          }));
  svr.Get("/api/models", guarded([o](const httplib::Request& req, httplib::Response& res) {
            run::RunStore store(o.workspace);
            send_json(res, run::models_document(store, req.has_param("name") ? req.get_param_value("name") : ""));
          }));
}

}  // namespace roost::ui
