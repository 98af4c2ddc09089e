// roost/data/open.cc — chooses between an HDF5 pack and an ImageFolder tree for a data dir.
// Compiled with or without HDF5: without it, a pack is recognised by its name or its
// signature bytes and refused with a message that says why.
#include "roost/data/open.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "roost/core/error.h"

#ifdef ROOST_WITH_HDF5
#include <mutex>

#include "roost/data/h5_pack.h"
#include "roost/io/h5.h"
#endif

namespace roost::data {

namespace {

namespace fs = std::filesystem;

bool has_pack_suffix(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".h5" || ext == ".hdf5";
}

#ifndef ROOST_WITH_HDF5
// HDF5's superblock signature, at offset 0 for every file roost writes (HDF5 also allows it
// at 512, 1024, ... after a user block; H5Fis_hdf5 covers that when HDF5 is available).
bool has_hdf5_signature(const std::string& path) {
  static constexpr unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1A, '\n'};
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  unsigned char head[8] = {0};
  return file && std::fread(head, 1, sizeof head, file.get()) == sizeof head &&
         std::memcmp(head, kSignature, sizeof head) == 0;
}
#endif

}  // namespace

bool is_pack_path(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return false;
  if (has_pack_suffix(path)) return true;
  if (!fs::is_regular_file(path, ec)) return false;
#ifdef ROOST_WITH_HDF5
  std::lock_guard<std::mutex> lock(io::h5_library_mutex());
  io::silence_h5_errors();
  return H5Fis_hdf5(path.c_str()) > 0;
#else
  return has_hdf5_signature(path);
#endif
}

std::shared_ptr<Dataset> open_split(const std::string& data_dir, const std::string& split) {
  if (is_pack_path(data_dir)) {
#ifdef ROOST_WITH_HDF5
    return open_pack(data_dir, split);
#else
    ROOST_USAGE_ERROR("data dir ", data_dir,
                      " is an HDF5 pack, but this roost was built without "
                      "HDF5 (Debian: libhdf5-dev); unpack it or rebuild roost with HDF5");
#endif
  }
  std::error_code ec;
  if (!fs::exists(data_dir, ec)) ROOST_USAGE_ERROR("data dir ", data_dir, " does not exist");
  if (!fs::is_directory(data_dir, ec))
    ROOST_USAGE_ERROR("data dir ", data_dir, " is neither a directory nor an HDF5 pack");
  const fs::path root = fs::path(data_dir) / split;
  if (!fs::is_directory(root, ec))
    ROOST_USAGE_ERROR("data dir ", data_dir, " has no ", split, "/ folder (expected ", data_dir, "/", split,
                      "/<class>/*.jpg)");
  return open_image_folder(root.string());
}

}  // namespace roost::data
