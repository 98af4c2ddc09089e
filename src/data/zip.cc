// roost/data/zip.cc — reading zip archives (PKWARE APPNOTE): the end-of-central-directory
// record is found by scanning the file's tail, the central directory gives each entry's
// sizes and CRC (authoritative even when a data descriptor follows the data), and each
// local header is read only to find where the entry's data starts.
//
// Every length read from the archive is checked against the file's size before it is
// used, so a truncated or corrupt archive fails with a message instead of reading garbage
// or allocating what a damaged header claims.
#include "roost/data/zip.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "roost/core/error.h"

namespace roost::data {

namespace {

namespace fs = std::filesystem;

constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr size_t kEndSize = 22, kCentralSize = 46, kLocalSize = 30;
constexpr size_t kMaxComment = 0xFFFF;
// Deflate cannot expand data by more than about 1032:1; a larger claimed size is corruption.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// zlib's inflate state for one raw deflate stream (no zlib/gzip header: -MAX_WBITS).
class Inflater {
 public:
  Inflater() {
    if (inflateInit2(&stream_, -MAX_WBITS) != Z_OK) ROOST_THROW("zlib: inflateInit2 failed");
  }
  ~Inflater() { inflateEnd(&stream_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  z_stream* get() { return &stream_; }

 private:
  z_stream stream_{};
};

}  // namespace

ZipReader::ZipReader(const std::string& path) : path_(path), file_(nullptr, &std::fclose) {
  file_.reset(std::fopen(path.c_str(), "rb"));
  if (!file_) ROOST_THROW("zip ", path, ": cannot open it");
  std::error_code ec;
  file_size_ = fs::file_size(path, ec);
  if (ec || file_size_ < kEndSize) ROOST_THROW("zip ", path, ": not a zip archive (too short)");

  // The end record sits in the last 22 + (comment length) bytes; scan back for its signature.
  const size_t tail_size = static_cast<size_t>(std::min<uint64_t>(file_size_, kEndSize + kMaxComment));
  std::vector<uint8_t> tail(tail_size);
  read_at(file_size_ - tail_size, tail.data(), tail_size);
  size_t end = tail_size;  // position of the record within tail, tail_size = not found
  for (size_t i = tail_size - kEndSize + 1; i-- > 0;)
    if (u32(&tail[i]) == kEndSignature) {
      end = i;
      break;
    }
  if (end == tail_size)
    ROOST_THROW("zip ", path, ": no end-of-central-directory record (truncated or not a zip)");
  const uint8_t* e = &tail[end];
  const uint16_t disk = u16(e + 4), count = u16(e + 10);
  const uint32_t cd_size = u32(e + 12), cd_offset = u32(e + 16);
  if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF)
    ROOST_THROW("zip ", path, ": zip64 archives are not supported");
  if (disk != 0 || u16(e + 8) != count) ROOST_THROW("zip ", path, ": multi-part archives are not supported");
  const uint64_t end_offset = file_size_ - tail_size + end;
  if (static_cast<uint64_t>(cd_offset) + cd_size > end_offset)
    ROOST_THROW("zip ", path, ": central directory lies outside the file (truncated?)");

  std::vector<uint8_t> cd(cd_size);
  read_at(cd_offset, cd.data(), cd.size());
  size_t pos = 0;
  for (uint16_t i = 0; i < count; ++i) {
    if (pos + kCentralSize > cd.size() || u32(&cd[pos]) != kCentralSignature)
      ROOST_THROW("zip ", path, ": central directory entry ", i, " is damaged");
    const uint8_t* h = &cd[pos];
    const size_t name_len = u16(h + 28), extra_len = u16(h + 30), comment_len = u16(h + 32);
    if (pos + kCentralSize + name_len + extra_len + comment_len > cd.size())
      ROOST_THROW("zip ", path, ": central directory entry ", i, " runs past the directory");
    ZipEntry entry;
    entry.flags = u16(h + 8);
    entry.method = u16(h + 10);
    entry.crc32 = u32(h + 16);
    entry.compressed_size = u32(h + 20);
    entry.size = u32(h + 24);
    entry.local_header_offset = u32(h + 42);
    entry.name.assign(reinterpret_cast<const char*>(h + kCentralSize), name_len);
    if (entry.compressed_size == 0xFFFFFFFF || entry.size == 0xFFFFFFFF ||
        entry.local_header_offset == 0xFFFFFFFF)
      ROOST_THROW("zip ", path, ": entry ", entry.name, " uses zip64, which is not supported");
    entries_.push_back(std::move(entry));
    pos += kCentralSize + name_len + extra_len + comment_len;
  }
}

void ZipReader::read_at(uint64_t offset, void* out, size_t size) const {
  if (size == 0) return;
  if (offset > file_size_ || size > file_size_ - offset)
    ROOST_THROW("zip ", path_, ": data past the end of the file (truncated?)");
  if (fseeko(file_.get(), static_cast<off_t>(offset), SEEK_SET) != 0 ||
      std::fread(out, 1, size, file_.get()) != size)
    ROOST_THROW("zip ", path_, ": read error at offset ", offset);
}

std::vector<uint8_t> ZipReader::read(const ZipEntry& entry) const {
  const std::string where = "zip " + path_ + ": entry " + entry.name;
  if (entry.flags & 0x1) ROOST_THROW(where, " is encrypted, which is not supported");
  if (entry.method != 0 && entry.method != 8)
    ROOST_THROW(where, " uses compression method ", entry.method, " (only stored and deflated are supported)");
  uint8_t local[kLocalSize];
  read_at(entry.local_header_offset, local, sizeof local);
  if (u32(local) != kLocalSignature) ROOST_THROW(where, ": local header is damaged");
  const uint64_t data_offset = entry.local_header_offset + kLocalSize + u16(local + 26) + u16(local + 28);
  if (data_offset > file_size_ || entry.compressed_size > file_size_ - data_offset)
    ROOST_THROW(where, ": data runs past the end of the file (truncated?)");
  if (entry.method == 0 && entry.compressed_size != entry.size)
    ROOST_THROW(where, ": stored entry with differing sizes");
  if (entry.method == 8 && entry.size > entry.compressed_size * kMaxDeflateRatio + 1024)
    ROOST_THROW(where, ": claimed size ", entry.size, " is impossible for its compressed size");

  std::vector<uint8_t> compressed(static_cast<size_t>(entry.compressed_size));
  read_at(data_offset, compressed.data(), compressed.size());
  std::vector<uint8_t> out;
  if (entry.method == 0) {
    out = std::move(compressed);
  } else {
    // One spare byte of output room: a stream that inflates to more than the directory says
    // fills it, which is caught below instead of being cut off silently.
    out.resize(static_cast<size_t>(entry.size) + 1);
    Inflater inflater;
    z_stream* z = inflater.get();
    z->next_in = compressed.data();
    z->avail_in = static_cast<uInt>(compressed.size());
    z->next_out = out.data();
    z->avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(z, Z_FINISH);
    if (rc != Z_STREAM_END)
      ROOST_THROW(where, ": corrupt deflate data (", z->msg ? z->msg : "stream ends early", ")");
    if (z->total_out != entry.size)
      ROOST_THROW(where, ": inflates to ", z->total_out, " bytes, the directory says ", entry.size);
    out.resize(static_cast<size_t>(entry.size));
  }
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), out.data(), static_cast<uInt>(out.size()));
  if (crc != entry.crc32) ROOST_THROW(where, ": CRC-32 mismatch (corrupt archive)");
  return out;
}

std::string safe_entry_path(const std::string& name) {
  if (name.empty()) ROOST_THROW("zip entry with an empty name");
  if (name.find('\0') != std::string::npos) ROOST_THROW("zip entry name contains a NUL byte");
  std::string n = name;
  std::replace(n.begin(), n.end(), '\\', '/');
  if (n[0] == '/' || (n.size() >= 2 && n[1] == ':'))
    ROOST_THROW("zip entry '", name, "' has an absolute path; refusing to extract it");
  std::string out;
  size_t start = 0;
  while (start <= n.size()) {
    size_t slash = n.find('/', start);
    if (slash == std::string::npos) slash = n.size();
    const std::string part = n.substr(start, slash - start);
    if (part == "..")
      ROOST_THROW("zip entry '", name, "' points outside the destination (..); refusing to extract it");
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    start = slash + 1;
  }
  return out;
}

size_t extract_zip(const std::string& zip_path, const std::string& dest_dir,
                   const std::function<bool(const std::string&)>& skip) {
  ZipReader zip(zip_path);
  // Check every name before writing anything, so a hostile archive leaves no partial tree.
  std::vector<std::string> targets;
  for (const ZipEntry& entry : zip.entries()) targets.push_back(safe_entry_path(entry.name));
  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  if (ec) ROOST_USAGE_ERROR("cannot create ", dest_dir, ": ", ec.message());
  size_t files = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const ZipEntry& entry = zip.entries()[i];
    if (targets[i].empty() || (skip && skip(entry.name))) continue;
    const fs::path target = fs::path(dest_dir) / targets[i];
    if (entry.is_directory()) {
      fs::create_directories(target, ec);
      if (ec) ROOST_USAGE_ERROR("cannot create ", target.string(), ": ", ec.message());
      continue;
    }
    fs::create_directories(target.parent_path(), ec);
    if (ec) ROOST_USAGE_ERROR("cannot create ", target.parent_path().string(), ": ", ec.message());
    const std::vector<uint8_t> bytes = zip.read(entry);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(target.c_str(), "wb"), &std::fclose);
    // An empty entry writes nothing: its data() may be null, which fwrite must not get.
    if (!out || (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), out.get()) != bytes.size()) ||
        std::fclose(out.release()) != 0)
      ROOST_USAGE_ERROR("cannot write ", target.string(), " (disk full or not writable?)");
    ++files;
  }
  return files;
}

}  // namespace roost::data
