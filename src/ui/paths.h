// paths.h — file names that a request names, checked to lie inside the workspace.
#pragma once

#include <optional>
#include <string>

namespace roost::ui {

// The canonical path of `relative` (relative to `workspace`, or absolute, as the run documents
// give them), or nothing when it is empty or resolves (through "..", or a symbolic link) outside.
std::optional<std::string> resolve_inside(const std::string& workspace, const std::string& relative);

// `path` relative to the canonical workspace, or "" when it lies outside.
std::string relative_to(const std::string& workspace, const std::string& path);

// A Content-Type for a file served from a run folder (text for logs and JSON lines).
std::string content_type_of(const std::string& path);

}  // namespace roost::ui
