// roost/data/download.h — fetching a dataset archive over HTTP(S) with libcurl, progress on
// stderr. roost builds without libcurl too; download() then says it needs libcurl.
#pragma once

#include <string>

namespace roost::data {

struct DownloadOptions {
  bool progress = true;         // progress lines on stderr
  long connect_timeout_s = 30;  // giving up on an unreachable host
  long stall_timeout_s = 60;    // giving up when no byte arrives for this long
};

// False when roost was built without libcurl.
bool download_available();

// Downloads `url` to `path` (written to path.part, renamed when complete).
// Errors: UsageError (exit 2) for what the command line can fix — a URL curl cannot use, a
// path that cannot be written, a roost without libcurl; roost::Error (exit 1) for network
// and server failures (unreachable host, timeouts, HTTP errors). Both name the URL and the
// reason in one line.
void download(const std::string& url, const std::string& path, const DownloadOptions& options = {});

}  // namespace roost::data
