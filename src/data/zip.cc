// roost/data/zip.cc — zip archives through libzip: the central directory is read when the
// archive is opened, and each entry is read out of libzip in steps of at most 64 MiB, so
// memory follows the bytes that really come out, not the size a damaged directory claims.
// libzip checks each entry's CRC-32 and size when its end is reached; names are checked
// here, before anything is written, since libzip hands them over as stored.
#include "roost/data/zip.h"

#include <zip.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "roost/core/error.h"

namespace roost::data {

namespace {

namespace fs = std::filesystem;

// libzip's error, worded for someone holding a damaged download.
std::string describe(zip_error_t* error) {
  switch (zip_error_code_zip(error)) {
    case ZIP_ER_NOZIP: return "not a zip archive (no end-of-central-directory record: truncated, or not a zip)";
    case ZIP_ER_INCONS: return "the archive is inconsistent (truncated or corrupt)";
    case ZIP_ER_CRC: return "CRC-32 mismatch (corrupt archive)";
    case ZIP_ER_COMPRESSED_DATA: return "corrupt compressed data";
    case ZIP_ER_ZLIB: return std::string("corrupt compressed data (") + zip_error_strerror(error) + ")";
    case ZIP_ER_EOF: return "data past the end of the file (truncated?)";
    case ZIP_ER_MULTIDISK: return "multi-part archives are not supported";
    default: return zip_error_strerror(error);
  }
}

std::string describe_code(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = describe(&error);
  zip_error_fini(&error);
  return text;
}

void close_archive(zip* archive) { zip_discard(archive); }  // read-only: nothing to write back

}  // namespace

ZipReader::ZipReader(const std::string& path) : path_(path), archive_(nullptr, &close_archive) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) ROOST_THROW("zip ", path, ": cannot open it (", ec.message(), ")");
  // libzip takes an empty file for an empty archive; a download that came back empty is not.
  if (size == 0) ROOST_THROW("zip ", path, ": not a zip archive (empty file)");
  int code = 0;
  archive_.reset(zip_open(path.c_str(), ZIP_RDONLY, &code));
  if (!archive_) ROOST_THROW("zip ", path, ": ", describe_code(code));

  const zip_int64_t count = zip_get_num_entries(archive_.get(), 0);
  if (count < 0) ROOST_THROW("zip ", path, ": cannot list its entries");
  entries_.reserve(static_cast<size_t>(count));
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive_.get(), i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
      ROOST_THROW("zip ", path, ": central directory entry ", i, " is damaged (",
                  describe(zip_get_error(archive_.get())), ")");
    ZipEntry entry;
    entry.name = st.name;
    entry.index = i;
    entry.method = static_cast<uint16_t>(st.comp_method);
    entry.encrypted = (st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE;
    entry.crc32 = st.crc;
    entry.compressed_size = st.comp_size;
    entry.size = st.size;
    entries_.push_back(std::move(entry));
  }
}

std::vector<uint8_t> ZipReader::read(const ZipEntry& entry) const {
  const std::string where = "zip " + path_ + ": entry " + entry.name;
  if (entry.encrypted) ROOST_THROW(where, " is encrypted, which is not supported");
  if (zip_compression_method_supported(entry.method, 0) == 0)
    ROOST_THROW(where, " uses compression method ", entry.method, ", which this libzip cannot read");
  std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file(zip_fopen_index(archive_.get(), entry.index, 0), &zip_fclose);
  if (!file) ROOST_THROW(where, ": ", describe(zip_get_error(archive_.get())));

  // Read into room for the size the directory gives, grown in steps of at most 64 MiB so
  // that memory follows the bytes that really come out; then one more read, which must
  // find the end (that read is where libzip compares the CRC-32 and the size).
  constexpr uint64_t kStep = uint64_t{64} << 20;
  std::vector<uint8_t> out;
  size_t have = 0;
  for (;;) {
    if (have == out.size()) {
      if (have == entry.size) break;
      out.resize(static_cast<size_t>(std::min<uint64_t>(entry.size, have + kStep)));
    }
    const zip_int64_t got = zip_fread(file.get(), out.data() + have, out.size() - have);
    if (got < 0) ROOST_THROW(where, ": ", describe(zip_file_get_error(file.get())));
    if (got == 0) ROOST_THROW(where, ": holds ", have, " bytes, the directory says ", entry.size);
    have += static_cast<size_t>(got);
  }
  uint8_t extra;
  const zip_int64_t past = zip_fread(file.get(), &extra, 1);
  if (past < 0) ROOST_THROW(where, ": ", describe(zip_file_get_error(file.get())));
  if (past > 0) ROOST_THROW(where, ": holds more than the ", entry.size, " bytes the directory says");
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
    if (part == "..") ROOST_THROW("zip entry '", name, "' points outside the destination (..); refusing to extract it");
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
