// roost/train/run_identity.cc — run.json, the files of a run, and whether a start may use
// an outputs directory (see run_identity.h).
#include "roost/train/run_identity.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/train/config.h"

namespace roost::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// The files a run writes at the top of its outputs directory.
const char* const kRunFiles[] = {"run.json",    "model.h5",           "last.h5", "summary.json", "metrics.jsonl",
                                 "metrics.csv", "training_curves.png"};

bool is_checkpoint_name(const std::string& name) {
  return name.rfind("epoch-", 0) == 0 && (name.size() > 3 && name.compare(name.size() - 3, 3, ".h5") == 0);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string describe(const RunIdentity& id) {
  return "run " + id.run_id + (id.started_at.empty() ? "" : " (started " + id.started_at + ")");
}
}  // namespace

namespace {
std::string utc_now(const char* format) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string utc_now_iso8601() { return utc_now("%Y-%m-%dT%H:%M:%SZ"); }

std::string new_run_id() {
  std::random_device rd;
  char tail[16];
  std::snprintf(tail, sizeof tail, "%06x", static_cast<unsigned>(rd() & 0xffffffu));
  return utc_now("%Y%m%d-%H%M%S") + "-" + tail;
}

std::string run_identity_json(const RunIdentity& id) {
  json j;
  j["run_id"] = id.run_id;
  j["started_at"] = id.started_at;
  j["arch"] = id.arch;
  j["class_names"] = id.class_names;
  j["dataset"] = {{"path", id.dataset.path},
                  {"train_images", id.dataset.train_images},
                  {"val_images", id.dataset.val_images},
                  {"fingerprint", id.dataset.fingerprint}};
  j["world_size"] = id.world_size;
  j["config"] = id.config_json.empty() ? json::object() : json::parse(id.config_json, nullptr, false);
  return j.dump(2) + "\n";
}

RunIdentity parse_run_identity(const std::string& text, const std::string& where) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("run_id") || !j["run_id"].is_string() || j["run_id"].get<std::string>().empty())
    ROOST_USAGE_ERROR(where, " is not a roost run identity (no run_id): move it away or pass --overwrite");
  RunIdentity id;
  id.run_id = j["run_id"].get<std::string>();
  id.started_at = j.value("started_at", "");
  id.arch = j.value("arch", "");
  if (j.contains("class_names") && j["class_names"].is_array())
    for (const auto& c : j["class_names"])
      if (c.is_string()) id.class_names.push_back(c.get<std::string>());
  if (j.contains("dataset") && j["dataset"].is_object()) {
    const json& d = j["dataset"];
    id.dataset.path = d.value("path", "");
    id.dataset.train_images = d.value("train_images", int64_t{0});
    id.dataset.val_images = d.value("val_images", int64_t{0});
    id.dataset.fingerprint = d.value("fingerprint", "");
  }
  id.world_size = j.value("world_size", 1);
  if (j.contains("config")) id.config_json = j["config"].dump();
  return id;
}

std::optional<RunIdentity> read_run_identity(const std::string& output_dir) {
  const std::string path = output_dir + "/run.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) ROOST_USAGE_ERROR("cannot read ", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_run_identity(text.str(), path);
}

void write_run_identity(const std::string& output_dir, const RunIdentity& id) {
  write_file_atomic(output_dir + "/run.json", run_identity_json(id));
}

std::vector<std::string> run_files(const std::string& output_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const char* name : kRunFiles) {
    if (fs::exists(fs::path(output_dir) / name, ec)) out.push_back(name);
    if (fs::exists(fs::path(output_dir) / (std::string(name) + ".tmp"), ec)) out.push_back(std::string(name) + ".tmp");
  }
  const fs::path dir = fs::path(output_dir) / "checkpoints";
  if (fs::is_directory(dir, ec)) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (is_checkpoint_name(name) || (ends_with(name, ".tmp") && name.rfind("epoch-", 0) == 0))
        found.push_back("checkpoints/" + name);
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::vector<std::string> remove_run_files(const std::string& output_dir) {
  std::vector<std::string> removed;
  for (const auto& name : run_files(output_dir)) {
    std::error_code ec;
    if (fs::remove(fs::path(output_dir) / name, ec)) removed.push_back(name);
    else if (ec) ROOST_USAGE_ERROR("--overwrite: cannot remove ", output_dir, "/", name, ": ", ec.message());
  }
  return removed;
}

int remove_stale_temporaries(const std::string& output_dir) {
  int n = 0;
  for (const auto& name : run_files(output_dir)) {
    if (!ends_with(name, ".tmp")) continue;
    std::error_code ec;
    if (fs::remove(fs::path(output_dir) / name, ec)) ++n;
  }
  return n;
}

OutputsDecision decide_outputs(const TrainConfig& config, const std::optional<RunIdentity>& existing,
                               const std::vector<std::string>& files) {
  OutputsDecision d;
  const bool used = existing.has_value() ||
                    std::any_of(files.begin(), files.end(), [](const std::string& f) { return !ends_with(f, ".tmp"); });
  const std::string what = existing ? describe(*existing) : "an earlier run (written before runs had ids)";
  if (!config.resume.empty()) {
    d.action = OutputsAction::kContinue;
    return d;
  }
  if (!used) return d;
  if (config.overwrite) {
    d.action = OutputsAction::kOverwrite;
    std::string list;
    for (const auto& f : files) list += (list.empty() ? "" : ", ") + f;
    d.message = "--overwrite: replacing " + what + " in " + config.output_dir + ": removing " + list;
    return d;
  }
  d.error = config.output_dir + " holds the outputs of " + what +
            ": pass --resume auto to continue it, --overwrite to replace it, or choose another --output-dir";
  return d;
}

std::string checkpoint_mismatch(const std::string& path, const std::string& checkpoint_run_id,
                                const std::string& checkpoint_arch, const std::vector<std::string>& checkpoint_classes,
                                const std::string& expected_run_id, const std::string& arch,
                                const std::vector<std::string>& classes) {
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
  };
  if (!expected_run_id.empty() && checkpoint_run_id != expected_run_id)
    return "checkpoint " + path + " belongs to run " +
           (checkpoint_run_id.empty() ? std::string("(none: written before runs had ids)") : checkpoint_run_id) +
           ", not to run " + expected_run_id + " whose outputs these are";
  if (!checkpoint_arch.empty() && checkpoint_arch != arch)
    return "checkpoint " + path + " is of --arch " + checkpoint_arch + ", this run trains " + arch;
  if (!checkpoint_classes.empty() && checkpoint_classes != classes)
    return "checkpoint " + path + " was trained on classes [" + join(checkpoint_classes) + "], the data has [" +
           join(classes) + "] (renamed, added or reordered class folders change what each output means)";
  return {};
}

}  // namespace roost::train
