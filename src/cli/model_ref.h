// model_ref.h — a registered model named on the command line as NAME[:VERSION] (export,
// serve). Built with the run store only.
#pragma once

#include <optional>
#include <string>

#include "roost/run/registry.h"

namespace roost::cli {

// The version `ref` names in `workspace`'s registry (the newest without ":VERSION"), or
// nullopt when `workspace` holds no run store. UsageError for a malformed version or a model
// or version that is not registered.
std::optional<run::ModelVersion> find_registered(const std::string& ref, const std::string& workspace);

}  // namespace roost::cli
