// roost/core/fs.h — filesystem helpers: writable-directory check and atomic replace.
#pragma once

#include <string>

namespace roost {

// Creates `path` if needed and proves it is writable; UsageError (exit 2) otherwise.
void ensure_writable_dir(const std::string& path);

// Writes `contents` to path.tmp, fsyncs it and renames it over `path`, so readers see the
// old file or the new one, never a partial one.
void write_file_atomic(const std::string& path, const std::string& contents);

void fsync_file(const std::string& path);

}  // namespace roost
