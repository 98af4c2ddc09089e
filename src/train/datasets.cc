// roost/train/datasets.cc — opening the splits and the start-up checks of `roost train`
// (datasets.h, preflight in trainer.h): every problem found here is one line and exit 2
// before any rank starts training.
#include "roost/train/datasets.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "roost/core/error.h"
#include "roost/data/open.h"
#include "roost/model/pretrained.h"
#include "roost/train/trainer.h"

namespace roost::train {

std::string join_names(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

Datasets open_datasets(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;  // the non-throwing forms: a symlink loop or a permission is the user's to fix
  const fs::file_status status = fs::status(root, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) ROOST_USAGE_ERROR("data dir ", root, ": ", ec.message());
  if (!fs::exists(status)) ROOST_USAGE_ERROR("data dir ", root, " does not exist");
  if (!data::is_pack_path(root)) {
    if (!fs::is_directory(status)) ROOST_USAGE_ERROR("data dir ", root, " is not a directory");
    for (const char* split : {"train", "val"})
      if (!fs::is_directory(fs::path(root) / split, ec))
        ROOST_USAGE_ERROR("data dir ", root, " has no ", split, "/ folder (expected ", root, "/", split,
                          "/<class>/*.jpg)");
  }
  Datasets d{data::open_split(root, "train"), data::open_split(root, "val")};
  if (d.train->class_names() != d.val->class_names())
    ROOST_USAGE_ERROR("train/val class mismatch: train has [", join_names(d.train->class_names()), "], val has [",
                      join_names(d.val->class_names()), "]");
  if (d.train->class_names().size() < 2)
    ROOST_USAGE_ERROR("need at least two classes, found ", d.train->class_names().size());
  return d;
}

void preflight(const TrainConfig& config) {
  open_datasets(config.data_dir);
  if (!config.pretrained.empty() && !std::filesystem::is_regular_file(config.pretrained))
    ROOST_USAGE_ERROR("--pretrained ", config.pretrained, " is not a file");
  if (!config.pretrained.empty()) {
    // Read once here, so a truncated or foreign file is one line and exit 2 before any rank
    // starts (not a runtime error after the model is built).
    try {
      const std::string& p = config.pretrained;
      auto ends = [&](const std::string& tail) {
        return p.size() >= tail.size() && p.compare(p.size() - tail.size(), tail.size(), tail) == 0;
      };
      if (ends(".h5") || ends(".hdf5")) model::load_weights_h5(p);  // as load_pretrained picks
      else model::load_pth(p);
    } catch (const UsageError& e) {
      ROOST_USAGE_ERROR("--pretrained: ", e.message());
    } catch (const Error& e) {
      ROOST_USAGE_ERROR("--pretrained ", config.pretrained, ": ", e.message());
    }
  }
  if (!config.timeline.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path parent =
        fs::path(config.timeline).parent_path().empty() ? fs::path(".") : fs::path(config.timeline).parent_path();
    if (fs::is_directory(config.timeline, ec))
      ROOST_USAGE_ERROR("--timeline ", config.timeline, " is a directory (give a file name)");
    // Proved by creating a file there (permission bits say nothing for root, or on /proc).
    const fs::path probe = parent / (".roost-timeline-check-" + std::to_string(::getpid()));
    const bool writable = fs::is_directory(parent, ec) && static_cast<bool>(std::ofstream(probe));
    fs::remove(probe, ec);
    if (!writable) ROOST_USAGE_ERROR("--timeline ", config.timeline, ": cannot write into ", parent.string());
  }
  if (!config.resume.empty() && config.resume != "auto" && !std::filesystem::is_regular_file(config.resume))
    ROOST_USAGE_ERROR("--resume ", config.resume, " is not a file (give a checkpoint file or 'auto')");
}

}  // namespace roost::train
