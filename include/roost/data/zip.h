// roost/data/zip.h — reading the zip archives datasets are published in, through libzip:
// every method libzip was built with (stored and deflated at least), zip64 included, each
// entry checked against its CRC-32 and size as it is read. Encrypted entries are refused.
// Extraction adds what libzip leaves to its caller: names that would land outside the
// destination are refused before anything is written.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct zip;  // libzip's archive handle (zip_t), kept out of this header

namespace roost::data {

struct ZipEntry {
  std::string name;     // '/'-separated; a trailing '/' marks a folder
  uint64_t index = 0;   // position in the central directory
  uint16_t method = 0;  // 0 stored, 8 deflated, ... (the zip format's numbers)
  bool encrypted = false;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;  // uncompressed
  bool is_directory() const { return !name.empty() && name.back() == '/'; }
};

// Errors (roost::Error, a runtime failure: the archive's content is at fault, not the
// command line) name the archive and, where it applies, the entry. One reader is not to be
// used from several threads at once.
class ZipReader {
 public:
  explicit ZipReader(const std::string& path);  // reads the central directory
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // The entry's uncompressed bytes, after checking the CRC-32 and size.
  std::vector<uint8_t> read(const ZipEntry& entry) const;

 private:
  std::string path_;
  std::unique_ptr<zip, void (*)(zip*)> archive_;
  std::vector<ZipEntry> entries_;
};

// The relative path an entry may be extracted to: backslashes read as '/', "." parts
// dropped. Throws for names that would land outside the destination: absolute paths
// ("/x", "C:x"), any ".." part, or an empty name.
std::string safe_entry_path(const std::string& name);

// Extracts every entry of `zip_path` under `dest_dir` (created if needed); entries for which
// skip(name) is true are left out. Every name is checked with safe_entry_path before anything
// is written. Returns the number of files written.
size_t extract_zip(const std::string& zip_path, const std::string& dest_dir,
                   const std::function<bool(const std::string&)>& skip = nullptr);

}  // namespace roost::data
