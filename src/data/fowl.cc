// roost/data/fowl.cc — download, unpack and check the chicken/turkey reference dataset.
//
// The archive is unpacked into a hidden staging folder inside --out and the two split
// folders are moved into place only after the layout checks pass, so a bad archive leaves
// --out as it was, and a rerun after a failure starts clean.
#include "roost/data/fowl.h"

#include <filesystem>
#include <string>
#include <vector>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/data/dataset.h"
#include "roost/data/zip.h"

namespace roost::data {

namespace {

namespace fs = std::filesystem;

// Removes a path (file or tree) when the scope ends.
class RemoveTree {
 public:
  explicit RemoveTree(fs::path path) : path_(std::move(path)) {}
  ~RemoveTree() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  RemoveTree(const RemoveTree&) = delete;
  RemoveTree& operator=(const RemoveTree&) = delete;

 private:
  fs::path path_;
};

bool has_splits(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "train", ec) && fs::is_directory(dir / "val", ec);
}

// Archive metadata written by macOS (__MACOSX/, ._* files) and hidden files or folders are
// not part of the dataset.
bool ignored_entry(const std::string& name) {
  if (name.rfind("__MACOSX/", 0) == 0) return true;
  size_t start = 0;
  while (start < name.size()) {
    size_t slash = name.find_first_of("/\\", start);
    if (slash == std::string::npos) slash = name.size();
    if (slash > start + 1 && name[start] == '.' && name.compare(start, slash - start, "..") != 0) return true;
    start = slash + 1;
  }
  return false;
}

// The folder holding train/ and val/: the staging root or its only sub-folder.
fs::path find_root(const fs::path& staging, const std::string& url) {
  if (has_splits(staging)) return staging;
  std::vector<fs::path> dirs;
  std::string seen;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(staging, ec)) {
    seen += (seen.empty() ? "" : ", ") + entry.path().filename().string();
    if (entry.is_directory(ec)) dirs.push_back(entry.path());
  }
  if (dirs.size() == 1 && has_splits(dirs[0])) return dirs[0];
  ROOST_THROW("the archive from ", url, " has no train/ and val/ folders (top level: ", seen.empty() ? "empty" : seen,
              ")");
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

FowlSummary fetch_fowl(const FowlOptions& o) {
  ROOST_USAGE_CHECK(!o.out_dir.empty(), "--out is required");
  ROOST_USAGE_CHECK(!o.url.empty(), "--url must not be empty");
  const fs::path out(o.out_dir);
  ROOST_USAGE_CHECK(download_available(),
                    "roost data fowl needs libcurl, and this roost was built "
                    "without it (Debian: libcurl4-openssl-dev); rebuild, or fetch ",
                    o.url, " by hand");
  std::error_code ec;
  for (const char* split : {"train", "val"})
    if (fs::exists(out / split, ec))
      ROOST_USAGE_ERROR(o.out_dir, " already holds ", split, "/; remove it or choose another --out");
  // A folder this command created is gone again if it fails (an offline machine, a bad
  // archive): an empty OUT left behind would look like a dataset that is there.
  struct RemoveIfCreated {
    fs::path path;
    bool created, done = false;
    ~RemoveIfCreated() {
      std::error_code ignored;
      if (created && !done) fs::remove_all(path, ignored);
    }
  } created_out{out, !fs::exists(out, ec)};
  ensure_writable_dir(o.out_dir);

  const fs::path zip = out / ".fowl_data.zip";
  const fs::path staging = out / ".fowl_data.unpack";
  RemoveTree remove_zip(zip), remove_staging(staging);
  fs::remove_all(staging, ec);
  download(o.url, zip.string(), o.download);
  try {
    extract_zip(zip.string(), staging.string(), ignored_entry);
  } catch (const UsageError&) {
    throw;  // the destination cannot be written: the user's to fix
  } catch (const Error& e) {
    ROOST_THROW("the archive from ", o.url, " cannot be unpacked: ", e.message());
  }

  const fs::path root = find_root(staging, o.url);
  FowlSummary summary;
  try {
    auto train = open_image_folder((root / "train").string());
    auto val = open_image_folder((root / "val").string());
    if (train->class_names() != val->class_names())
      ROOST_USAGE_ERROR("train/val class mismatch: train has [", join(train->class_names()), "], val has [",
                        join(val->class_names()), "]");
    if (train->class_names().size() < 2)
      ROOST_USAGE_ERROR("need at least two classes, found ", train->class_names().size());
    summary.classes = train->class_names();
    summary.train_images = train->size();
    summary.val_images = val->size();
  } catch (const UsageError& e) {
    // The archive's content is at fault, not the command line: a runtime failure (exit 1).
    ROOST_THROW("the archive from ", o.url, " is not a fowl-shaped dataset: ", e.message());
  }
  for (const char* split : {"train", "val"}) {
    fs::rename(root / split, out / split, ec);
    if (ec)
      ROOST_USAGE_ERROR("cannot move ", (root / split).string(), " to ", (out / split).string(), ": ", ec.message());
  }
  created_out.done = true;
  return summary;
}

}  // namespace roost::data
