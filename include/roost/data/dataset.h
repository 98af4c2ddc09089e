// roost/data/dataset.h — a labelled image set: the interface the loader reads from, and the
// ImageFolder implementation (root/<class>/*.{jpg,jpeg,png}).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "roost/data/decode.h"
#include "roost/data/image.h"

namespace roost::data {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int64_t label(int64_t index) const = 0;
  virtual const std::vector<std::string>& class_names() const = 0;
  // Decodes sample `index` to RGB. Throws DecodeError for an unreadable or corrupt file.
  virtual Image load(int64_t index) const = 0;
  // Decodes sample `index` for the plan make_plan(height, width) returns, which is stored in
  // *plan rebased onto the returned image; that image may hold only the region the plan
  // reads (see decode_for_plan). The pixels the plan reads equal load()'s unless `options`
  // lets a JPEG be decoded at a reduced scale.
  virtual Image load_for_plan(int64_t index, const PlanFn& make_plan, ResizePlan* plan,
                              const DecodeOptions& options = {}) const {
    (void)options;  // a dataset that decodes whole images has no use for it
    Image image = load(index);
    *plan = make_plan(image.height, image.width);
    return image;
  }
  // A name for messages (the file path, or pack:index).
  virtual std::string describe(int64_t index) const = 0;
};

// Scans root/<class>/ (classes = sorted folder names; class index = position) for files
// ending in .jpg/.jpeg/.png (any case), sorted by name within each class.
// Throws UsageError if root is missing, has no class folders, or a class folder is empty.
std::shared_ptr<Dataset> open_image_folder(const std::string& root);

}  // namespace roost::data
