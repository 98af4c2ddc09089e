// model_ref.cc — NAME[:VERSION] in the model registry (model_ref.h).
#include "model_ref.h"

#include <filesystem>

#include "roost/core/error.h"

namespace roost::cli {

std::optional<run::ModelVersion> find_registered(const std::string& ref, const std::string& workspace) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::path(workspace) / "roost.db", ec)) return std::nullopt;
  const size_t colon = ref.rfind(':');
  const std::string name = colon == std::string::npos ? ref : ref.substr(0, colon);
  int version = 0;
  if (colon != std::string::npos) {
    const std::string v = ref.substr(colon + 1);
    ROOST_USAGE_CHECK(!v.empty() && v.size() <= 9 && v.find_first_not_of("0123456789") == std::string::npos, "--model ",
                      ref, ": the version after ':' must be a number");
    version = std::stoi(v);
  }
  run::RunStore store(workspace);
  return run::ModelRegistry(store).get(name, version);
}

}  // namespace roost::cli
