// roost/train/datasets.h — the training run's two splits, opened and checked (both splits
// present, the same classes in the same order, at least two classes), and the checks a
// `roost train` start makes before any rank trains.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "roost/data/dataset.h"

namespace roost::train {

struct Datasets {
  std::shared_ptr<data::Dataset> train, val;
};

// An ImageFolder root (root/train, root/val) or an HDF5 pack made by `roost pack`; every
// problem is a UsageError naming it.
Datasets open_datasets(const std::string& root);

// "a,b,c"
std::string join_names(const std::vector<std::string>& names);

}  // namespace roost::train
