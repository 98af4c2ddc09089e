// roost/data/zip.h — a small reader for the zip archives datasets are published in: stored
// and deflated entries (zlib's raw inflate), read through the central directory, each one
// checked against its CRC-32 and size. No zip64, encryption or other methods: such an
// archive is refused with a message saying what it uses.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace roost::data {

struct ZipEntry {
  std::string name;               // as stored, '/'-separated; a trailing '/' marks a folder
  uint16_t method = 0;            // 0 stored, 8 deflated
  uint16_t flags = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;              // uncompressed
  uint64_t local_header_offset = 0;
  bool is_directory() const { return !name.empty() && name.back() == '/'; }
};

// Errors (roost::Error, a runtime failure: the archive's content is at fault, not the
// command line) name the archive and, where it applies, the entry.
class ZipReader {
 public:
  explicit ZipReader(const std::string& path);  // reads the central directory
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // The entry's uncompressed bytes, after checking the CRC-32 and size.
  std::vector<uint8_t> read(const ZipEntry& entry) const;

 private:
  void read_at(uint64_t offset, void* out, size_t size) const;

  std::string path_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  uint64_t file_size_ = 0;
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
