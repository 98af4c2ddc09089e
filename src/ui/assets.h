// assets.h — the page's files (web/ and the chart library), built into roost by
// cmake/EmbedFiles.cmake as a generated ui_assets.cc.
#pragma once

#include <cstddef>
#include <string>

namespace roost::ui {

struct Asset {
  const char* name;  // "index.html", "app.js", "uPlot.iife.min.js", ...
  const unsigned char* data;
  size_t size;
};

// The asset of that name, or nullptr.
const Asset* find_asset(const std::string& name);

}  // namespace roost::ui
