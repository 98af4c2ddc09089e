// roost/train/checkpoint.cc — checkpoint files: every piece of training state stored as a
// tensor dataset, so one CRC-32 over all datasets (in name order) covers the whole file.
#include "roost/train/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/io/h5.h"
#include "roost/model/h5_tensors.h"

namespace roost::train {

namespace fs = std::filesystem;
using io::h5_check;
using io::H5Id;

namespace {
constexpr const char* kFormat = "roost-checkpoint-1";
constexpr int kStateValues = 6;  // epochs_done, step, world_size, best_val_acc, loss_scale, clean steps

torch::Tensor doubles(const std::vector<double>& v) {
  return torch::tensor(v, torch::TensorOptions().dtype(torch::kFloat64));
}

torch::Tensor bytes_of(const std::string& s) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(s.size())}, torch::kUInt8);
  std::copy(s.begin(), s.end(), t.data_ptr<uint8_t>());
  return t;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

// All datasets of a checkpoint, sorted by name (the order HDF5 lists them in).
model::NamedTensors to_datasets(const Checkpoint& c) {
  model::NamedTensors out;
  for (const auto& [name, t] : c.model) out.emplace_back("model." + name, t);
  for (size_t i = 0; i < c.momentum.size(); ++i) {
    if (!c.momentum[i].defined()) continue;  // parameter not stepped yet
    char name[32];
    std::snprintf(name, sizeof name, "momentum.%06zu", i);
    out.emplace_back(name, c.momentum[i]);
  }
  if (c.rng.defined()) out.emplace_back("rng.cpu", c.rng);
  std::vector<double> state = {static_cast<double>(c.epochs_done),
                               static_cast<double>(c.step),
                               static_cast<double>(c.world_size),
                               c.best_val_acc,
                               c.loss_scale,
                               static_cast<double>(c.loss_scale_clean_steps)};
  std::vector<double> partial = c.partial.to_values();
  state.insert(state.end(), partial.begin(), partial.end());
  out.emplace_back("state", doubles(state));
  if (c.positions_done >= 0) out.emplace_back("position", doubles({static_cast<double>(c.positions_done)}));
  std::vector<double> history;
  for (const auto& r : c.history) {
    std::vector<double> v = r.to_values();
    history.insert(history.end(), v.begin(), v.end());
  }
  out.emplace_back("history",
                   doubles(history).reshape({static_cast<int64_t>(c.history.size()), EpochRecord::kFieldCount}));
  out.emplace_back("config", bytes_of(c.config_json));
  if (!c.run_id.empty()) {
    const nlohmann::json identity = {{"run_id", c.run_id}, {"arch", c.arch}, {"class_names", c.class_names}};
    out.emplace_back("identity", bytes_of(identity.dump()));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

const torch::Tensor& find(const model::NamedTensors& sets, const std::string& name, const std::string& path) {
  for (const auto& [n, t] : sets)
    if (n == name) return t;
  ROOST_THROW("checkpoint ", path, " has no '", name, "' entry");
}

// (epochs_done, step) from a checkpoint file name; false for other files.
bool parse_name(const std::string& file, int* epochs, int* step) {
  static const std::regex re(R"(epoch-(\d+)(?:-step-(\d+))?\.h5)");
  std::smatch m;
  if (!std::regex_match(file, m, re)) return false;
  *epochs = std::stoi(m[1].str());
  *step = m[2].matched ? std::stoi(m[2].str()) : 0;
  return true;
}

// Checkpoint files of `dir`, newest first.
std::vector<std::string> list_checkpoints(const std::string& dir) {
  std::vector<std::tuple<int, int, std::string>> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    int e = 0, s = 0;
    if (entry.is_regular_file() && parse_name(entry.path().filename().string(), &e, &s))
      found.emplace_back(e, s, entry.path().string());
  }
  std::sort(found.rbegin(), found.rend());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::get<2>(f));
  return out;
}
}  // namespace

std::string checkpoint_path(const std::string& dir, int epochs_done, int step) {
  return dir + "/epoch-" + std::to_string(epochs_done) + (step > 0 ? "-step-" + std::to_string(step) : "") + ".h5";
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  model::NamedTensors sets = to_datasets(c);
  for (auto& [name, t] : sets) t = t.detach().to(torch::kCPU).contiguous();
  const uint32_t crc = model::tensors_crc32(sets);
  model::write_h5_file_atomically(path, [&](hid_t file) {
    io::write_string_attr(file, "format", kFormat);
    std::vector<std::string> keys;
    for (const auto& [name, t] : c.model) keys.push_back(name);
    io::write_string_list_attr(file, "model_keys", keys);
    for (const auto& [name, t] : sets) model::write_h5_tensor(file, name, t);
    io::write_string_attr(file, "crc32", hex32(crc));
  });
}

Checkpoint load_checkpoint(const std::string& path) {
  model::NamedTensors sets;
  std::vector<std::string> keys;
  std::string stored_crc;
  {
    std::lock_guard<std::mutex> lock(io::h5_library_mutex());
    io::silence_h5_errors();
    if (!fs::is_regular_file(path)) ROOST_THROW("checkpoint ", path, " does not exist");
    if (H5Fis_hdf5(path.c_str()) <= 0) ROOST_THROW("checkpoint ", path, " is not an HDF5 file (truncated or corrupt)");
    H5Id file = h5_check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open " + path);
    if (!io::has_attr(file.get(), "format") || io::read_string_attr(file.get(), "format") != kFormat)
      ROOST_THROW(path, " is not a roost checkpoint");
    if (!io::has_attr(file.get(), "crc32")) ROOST_THROW("checkpoint ", path, " has no checksum (incomplete write)");
    stored_crc = io::read_string_attr(file.get(), "crc32");
    keys = io::read_string_list_attr(file.get(), "model_keys");
    sets = model::read_h5_tensors(file.get(), path);
  }
  const std::string crc = hex32(model::tensors_crc32(sets));
  if (crc != stored_crc) ROOST_THROW("checkpoint ", path, " is corrupt: checksum ", crc, " != stored ", stored_crc);

  Checkpoint c;
  for (const auto& key : keys) c.model.emplace_back(key, find(sets, "model." + key, path));
  for (const auto& [name, t] : sets) {
    if (name.rfind("momentum.", 0) != 0) continue;
    const std::string digits = name.substr(9);
    if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos)
      ROOST_THROW("checkpoint ", path, " has a malformed entry ", name);
    const size_t index = std::stoul(digits);
    if (c.momentum.size() <= index) c.momentum.resize(index + 1);
    c.momentum[index] = t;
  }
  for (const auto& [name, t] : sets)
    if (name == "rng.cpu") c.rng = t;
  for (const auto& [name, t] : sets) {
    if (name != "position") continue;
    if (t.numel() != 1 || t.scalar_type() != torch::kFloat64 || !(t.item<double>() >= 0))
      ROOST_THROW("checkpoint ", path, " has a malformed position");
    c.positions_done = static_cast<int64_t>(t.item<double>());
  }
  torch::Tensor state = find(sets, "state", path);
  if (state.numel() != kStateValues + EpochSums::kCount) ROOST_THROW("checkpoint ", path, " has a malformed state");
  const double* s = state.data_ptr<double>();
  c.epochs_done = static_cast<int>(s[0]);
  c.step = static_cast<int>(s[1]);
  c.world_size = static_cast<int>(s[2]);
  c.best_val_acc = s[3];
  c.loss_scale = s[4];
  c.loss_scale_clean_steps = static_cast<int>(s[5]);
  c.partial = EpochSums::from_values(std::vector<double>(s + kStateValues, s + kStateValues + EpochSums::kCount));
  torch::Tensor history = find(sets, "history", path);
  if (history.dim() != 2 || history.size(1) != EpochRecord::kFieldCount)
    ROOST_THROW("checkpoint ", path, " has a malformed history");
  for (int64_t i = 0; i < history.size(0); ++i)
    c.history.push_back(EpochRecord::from_values(history.data_ptr<double>() + i * EpochRecord::kFieldCount));
  torch::Tensor config = find(sets, "config", path);
  c.config_json.assign(reinterpret_cast<const char*>(config.data_ptr<uint8_t>()), config.numel());
  for (const auto& [name, t] : sets) {
    if (name != "identity") continue;
    const std::string text(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), t.numel());
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("run_id") || !j["run_id"].is_string())
      ROOST_THROW("checkpoint ", path, " has a malformed identity");
    c.run_id = j["run_id"].get<std::string>();
    c.arch = j.value("arch", "");
    if (j.contains("class_names") && j["class_names"].is_array())
      for (const auto& name : j["class_names"])
        if (name.is_string()) c.class_names.push_back(name.get<std::string>());
  }
  return c;
}

std::string find_latest_checkpoint(const std::string& dir, std::vector<std::string>* skipped) {
  for (const auto& path : list_checkpoints(dir)) {
    try {
      load_checkpoint(path);
      return path;
    } catch (const Error& e) {
      if (skipped) skipped->push_back(e.message());
    }
  }
  return {};
}

void prune_checkpoints(const std::string& dir, int keep) {
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("epoch-", 0) == 0 && name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0)
        fs::remove(entry.path(), ec);
    }
  std::vector<std::string> files = list_checkpoints(dir);
  for (size_t i = static_cast<size_t>(std::max(keep, 0)); i < files.size(); ++i) {
    std::error_code ec;
    fs::remove(files[i], ec);
  }
}

}  // namespace roost::train
