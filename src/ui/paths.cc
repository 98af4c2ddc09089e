// paths.cc — resolves the file links of the page inside the workspace and nowhere else.
#include "paths.h"

#include <filesystem>

namespace roost::ui {

namespace fs = std::filesystem;

namespace {
bool has_prefix(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}
}  // namespace

std::optional<std::string> resolve_inside(const std::string& workspace, const std::string& relative) {
  if (relative.empty() || relative.find('\0') != std::string::npos) return std::nullopt;
  std::error_code ec;
  const fs::path root = fs::canonical(workspace, ec);
  if (ec) return std::nullopt;
  // weakly_canonical resolves "..", "." and every symbolic link of the part that exists.
  const fs::path full =
      fs::weakly_canonical(fs::path(relative).is_absolute() ? fs::path(relative) : root / relative, ec);
  if (ec || !has_prefix(full.string(), root.string())) return std::nullopt;
  return full.string();
}

std::string relative_to(const std::string& workspace, const std::string& path) {
  std::error_code ec;
  const std::string root = fs::canonical(workspace, ec).string();
  const std::string full = fs::weakly_canonical(path, ec).string();
  if (ec || !has_prefix(full, root)) return "";
  return full.substr(root.size() + 1);
}

std::string content_type_of(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".png") return "image/png";
  if (ext == ".json") return "application/json";
  if (ext == ".csv") return "text/csv; charset=utf-8";
  if (ext == ".log" || ext == ".jsonl" || ext == ".txt" || ext == ".exit") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace roost::ui
