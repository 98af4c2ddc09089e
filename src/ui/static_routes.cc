// static_routes.cc — the page (index.html and /assets/ from the built-in files) and /files?path=,
// which serves a file of the workspace and nothing outside it.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "assets.h"
#include "http.h"
#include "paths.h"
#include "roost/core/error.h"

namespace roost::ui {

namespace {
std::string asset_type(const std::string& name) {
  const auto ends = [&](const char* ext) {
    return name.size() >= strlen(ext) && name.rfind(ext) == name.size() - strlen(ext);
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

void send_asset(httplib::Response& res, const std::string& name) {
  const Asset* a = find_asset(name);
  if (!a) throw HttpError{404, "no asset " + name};
  res.set_content(reinterpret_cast<const char*>(a->data), a->size, asset_type(name).c_str());
}
}  // namespace

void add_static_routes(httplib::Server& svr, const UiOptions& o) {
  svr.Get("/", guarded([](const httplib::Request&, httplib::Response& res) { send_asset(res, "index.html"); }));
  svr.Get(R"(/assets/([A-Za-z0-9_.-]+))",
          guarded([](const httplib::Request& req, httplib::Response& res) { send_asset(res, req.matches[1]); }));
  svr.Get("/files", guarded([o](const httplib::Request& req, httplib::Response& res) {
            if (!req.has_param("path")) throw HttpError{400, "which file? give ?path="};
            const std::string asked = req.get_param_value("path");
            const auto path = resolve_inside(o.workspace, asked);
            if (!path) throw HttpError{403, "not a file of the workspace: " + asked};
            std::error_code ec;
            if (!std::filesystem::is_regular_file(*path, ec)) throw HttpError{404, "no such file: " + asked};
            std::ifstream in(*path, std::ios::binary);
            std::ostringstream body;
            body << in.rdbuf();
            res.set_content(body.str(), content_type_of(*path).c_str());
            if (req.has_param("download"))
              res.set_header("Content-Disposition",
                             "attachment; filename=\"" + std::filesystem::path(*path).filename().string() + "\"");
          }));
}

}  // namespace roost::ui
