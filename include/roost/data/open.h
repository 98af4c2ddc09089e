// roost/data/open.h — one entry point for a split of the training data, whatever its form:
// an HDF5 pack written by `roost pack`, or an ImageFolder tree (data_dir/<split>/<class>/...).
#pragma once

#include <memory>
#include <string>

#include "roost/data/dataset.h"

namespace roost::data {

// True when `path` is a file that should be read as a pack: an HDF5 file (by its signature)
// or, when it cannot be checked, a name ending in .h5/.hdf5.
bool is_pack_path(const std::string& path);

// open_pack(data_dir, split) when data_dir is a pack, otherwise
// open_image_folder(data_dir + "/" + split). Throws UsageError when neither works: a missing
// data dir or split folder, or a pack given to a roost built without HDF5.
std::shared_ptr<Dataset> open_split(const std::string& data_dir, const std::string& split);

}  // namespace roost::data
