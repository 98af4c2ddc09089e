// roost/data/image_folder.cc — torchvision's ImageFolder layout: root/<class>/<image>, with
// class indices given by the sorted class folder names and files sorted by name, so that every
// rank (and the Python reference) numbers the samples the same way.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "roost/core/error.h"
#include "roost/data/dataset.h"
#include "roost/data/decode.h"

namespace roost::data {

namespace fs = std::filesystem;

namespace {

bool is_hidden(const fs::path& path) {
  std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

bool has_image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// Sorted (by byte value, like Python's sorted() on ASCII names) entries of `dir` that satisfy
// `keep`. Errors while listing are usage errors: the data directory is the user's input.
template <typename Keep>
std::vector<fs::path> sorted_entries(const fs::path& dir, Keep keep) {
  std::error_code ec;
  std::vector<fs::path> out;
  fs::directory_iterator it(dir, ec), end;
  if (ec) ROOST_USAGE_ERROR("cannot list ", dir.string(), ": ", ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) ROOST_USAGE_ERROR("cannot list ", dir.string(), ": ", ec.message());
    if (!is_hidden(it->path()) && keep(*it)) out.push_back(it->path());
  }
  if (ec) ROOST_USAGE_ERROR("cannot list ", dir.string(), ": ", ec.message());
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return out;
}

class ImageFolder : public Dataset {
 public:
  ImageFolder(std::vector<std::string> classes, std::vector<std::string> files, std::vector<int64_t> labels)
      : classes_(std::move(classes)), files_(std::move(files)), labels_(std::move(labels)) {}

  int64_t size() const override { return static_cast<int64_t>(files_.size()); }

  int64_t label(int64_t index) const override { return labels_.at(checked(index)); }

  const std::vector<std::string>& class_names() const override { return classes_; }

  Image load(int64_t index) const override { return decode_file(files_.at(checked(index))); }

  Image load_for_plan(int64_t index, const PlanFn& make_plan, ResizePlan* plan,
                      const DecodeOptions& options = {}) const override {
    const std::vector<uint8_t> bytes = read_file(files_.at(checked(index)));
    return decode_for_plan(bytes.data(), bytes.size(), make_plan, plan, options);
  }

  std::string describe(int64_t index) const override { return files_.at(checked(index)); }

 private:
  size_t checked(int64_t index) const {
    ROOST_CHECK(index >= 0 && index < size(), "sample index ", index, " outside dataset of ", size());
    return static_cast<size_t>(index);
  }

  std::vector<std::string> classes_;
  std::vector<std::string> files_;
  std::vector<int64_t> labels_;
};

}  // namespace

std::shared_ptr<Dataset> open_image_folder(const std::string& root) {
  std::error_code ec;
  fs::file_status status = fs::status(root, ec);
  if (!fs::exists(status)) ROOST_USAGE_ERROR("data dir ", root, " does not exist");
  if (!fs::is_directory(status)) ROOST_USAGE_ERROR("data dir ", root, " is not a directory");

  auto class_dirs = sorted_entries(root, [](const fs::directory_entry& e) {
    std::error_code ignored;
    return e.is_directory(ignored);
  });
  if (class_dirs.empty())
    ROOST_USAGE_ERROR("data dir ", root, " has no class folders (expected ", root, "/<class>/<image>.jpg)");

  std::vector<std::string> classes;
  std::vector<std::string> files;
  std::vector<int64_t> labels;
  for (const fs::path& dir : class_dirs) {
    auto images = sorted_entries(dir, [](const fs::directory_entry& e) {
      std::error_code ignored;
      return e.is_regular_file(ignored) && has_image_extension(e.path());
    });
    if (images.empty()) ROOST_USAGE_ERROR("class folder ", dir.string(), " has no .jpg, .jpeg or .png files");
    const auto label = static_cast<int64_t>(classes.size());
    classes.push_back(dir.filename().string());
    for (const fs::path& image : images) {
      files.push_back(image.string());
      labels.push_back(label);
    }
  }
  return std::make_shared<ImageFolder>(std::move(classes), std::move(files), std::move(labels));
}

}  // namespace roost::data
