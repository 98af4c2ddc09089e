// roost/model/pretrained.cc — .pth / .h5 weights into a ResNet, with a precise key report.
#include "roost/model/pretrained.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "roost/core/error.h"

namespace roost::model {

namespace {
std::string shape_str(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

std::string list(const std::vector<std::string>& keys) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < 8; ++i) out += (i ? ", " : "") + keys[i];
  if (keys.size() > 8) out += ", … (" + std::to_string(keys.size()) + " in all)";
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

NamedTensors load_pth(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::is_regular_file(path)) ROOST_USAGE_ERROR("weights file ", path, " does not exist");
  if (fs::file_size(path) == 0) ROOST_USAGE_ERROR("weights file ", path, " is empty");
  char magic[2] = {0, 0};
  std::ifstream(path, std::ios::binary).read(magic, 2);
  if (magic[0] != 'P' || magic[1] != 'K')
    ROOST_USAGE_ERROR(path,
                      " is not a zip-format torch.save file (truncated, or saved with "
                      "_use_new_zipfile_serialization=False?)");
  try {
    return read_pth_state_dict(path);
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    std::string what = e.what();
    ROOST_USAGE_ERROR("cannot read ", path, ": ", what.substr(0, what.find('\n')));
  }
}

namespace {
// Copies `source` into `net` after checking that every key fits; with allow_new_classifier,
// an fc of another output size is left out and fc re-initialised for the model's classes.
PretrainedReport copy_into(ResNet& net, const NamedTensors& source, const std::string& origin,
                           bool allow_new_classifier) {
  std::map<std::string, torch::Tensor> given(source.begin(), source.end());
  NamedTensors target = state_dict(*net);
  PretrainedReport report;

  // fc with another output size: a new classifier for this dataset's classes.
  auto fc = given.find("fc.weight");
  if (allow_new_classifier && fc != given.end() && fc->second.dim() == 2 && fc->second.size(1) == net->feature_dim() &&
      fc->second.size(0) != net->options().num_classes) {
    report.classifier_replaced = true;
    given.erase("fc.weight");
    given.erase("fc.bias");
  }
  std::vector<std::string> missing, mismatched;
  for (const auto& [name, tensor] : target) {
    if (report.classifier_replaced && (name == "fc.weight" || name == "fc.bias")) continue;
    auto it = given.find(name);
    if (it == given.end()) {
      if (!ends_with(name, "num_batches_tracked")) missing.push_back(name);
      continue;
    }
    if (it->second.sizes() != tensor.sizes())
      mismatched.push_back(name + " (file " + shape_str(it->second) + ", model " + shape_str(tensor) + ")");
  }
  std::vector<std::string> unexpected;
  std::set<std::string> expected;
  for (const auto& t : target) expected.insert(t.first);
  for (const auto& [name, tensor] : given)
    if (!expected.count(name)) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string msg = "weights in " + origin + " do not fit " + net->options().arch + ":";
    if (!missing.empty()) msg += " missing keys: " + list(missing) + ";";
    if (!unexpected.empty()) msg += " unexpected keys: " + list(unexpected) + ";";
    if (!mismatched.empty()) msg += " shape mismatches: " + list(mismatched) + ";";
    msg.pop_back();
    ROOST_USAGE_ERROR(msg);
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : target) {
    auto it = given.find(name);
    if (it == given.end()) continue;
    tensor.copy_(it->second.to(tensor.scalar_type()));
    ++report.loaded;
  }
  return report;
}
}  // namespace

PretrainedReport load_pretrained(ResNet& net, const std::string& path) {
  NamedTensors source;
  if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) {
    source = load_weights_h5(path).tensors;
  } else {
    source = load_pth(path);
  }
  return copy_into(net, source, path, /*allow_new_classifier=*/true);
}

void load_state_dict_strict(ResNet& net, const NamedTensors& tensors, const std::string& origin) {
  copy_into(net, tensors, origin, /*allow_new_classifier=*/false);
}

}  // namespace roost::model
