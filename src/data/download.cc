// roost/data/download.cc — HTTP(S) downloads through libcurl's easy interface, every handle
// owned by RAII, progress on stderr. Without libcurl (ROOST_WITH_CURL undefined) the same
// functions exist and say that downloads need it.
//
// The file is written to path.part and renamed only when the transfer completed, so an
// interrupted download never leaves something that looks like a finished archive.
#include "roost/data/download.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "roost/core/error.h"

#ifdef ROOST_WITH_CURL
#include <curl/curl.h>
#endif

namespace roost::data {

#ifdef ROOST_WITH_CURL

namespace {

// curl_global_init/cleanup are reference counted by libcurl, so a scope per download is safe.
class CurlGlobal {
 public:
  CurlGlobal() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) ROOST_THROW("libcurl: global init failed");
  }
  ~CurlGlobal() { curl_global_cleanup(); }
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

// Progress on stderr. A terminal gets one line rewritten in place; a log gets a line per 10%
// (or per 8 MB when the size is unknown). Nothing is printed before the first byte arrives,
// so a connection failure leaves only the error line.
class Progress {
 public:
  Progress(std::string url, bool enabled) : url_(std::move(url)), enabled_(enabled), tty_(isatty(2)) {}

  void update(curl_off_t total, curl_off_t now) {
    if (!enabled_ || now <= 0) return;
    const double mb = static_cast<double>(now) / 1e6;
    if (total > 0) {
      const int percent = static_cast<int>(100 * now / total);
      const int step = tty_ ? percent : percent / 10;
      if (printed_ && step == last_) return;
      std::fprintf(stderr, "%sdownloading %s: %3d%% (%.1f of %.1f MB)%s", tty_ ? "\r" : "", url_.c_str(), percent, mb,
                   static_cast<double>(total) / 1e6, tty_ ? "" : "\n");
      last_ = step;
    } else {
      const int step = static_cast<int>(now >> 23);  // 8 MiB steps
      if (printed_ && step == last_) return;
      std::fprintf(stderr, "%sdownloading %s: %.1f MB (size unknown)%s", tty_ ? "\r" : "", url_.c_str(), mb,
                   tty_ ? "" : "\n");
      last_ = step;
    }
    std::fflush(stderr);
    printed_ = true;
  }

  void finish() {
    if (printed_ && tty_) std::fprintf(stderr, "\n");
  }

 private:
  std::string url_;
  bool enabled_, tty_, printed_ = false;
  int last_ = -1;
};

size_t write_to_file(char* data, size_t size, size_t count, void* file) {
  return std::fwrite(data, size, count, static_cast<std::FILE*>(file)) * size;
}

int on_progress(void* progress, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  static_cast<Progress*>(progress)->update(total, now);
  return 0;
}

template <typename T>
void set(CURL* curl, CURLoption option, T value) {
  if (curl_easy_setopt(curl, option, value) != CURLE_OK)
    ROOST_THROW("libcurl: setting option ", static_cast<int>(option), " failed");
}

}  // namespace

bool download_available() { return true; }

void download(const std::string& url, const std::string& path, const DownloadOptions& options) {
  const std::string part = path + ".part";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(part.c_str(), "wb"), &std::fclose);
  if (!file) ROOST_USAGE_ERROR("cannot download ", url, ": cannot create ", part);
  // Removes the partial file on every way out but success.
  struct RemovePart {
    const std::string& path;
    bool keep = false;
    ~RemovePart() {
      if (!keep) std::remove(path.c_str());
    }
  } remove_part{part};

  CurlGlobal global;
  std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
  if (!handle) ROOST_THROW("cannot download ", url, ": libcurl could not start");
  CURL* curl = handle.get();
  char error[CURL_ERROR_SIZE] = {0};
  Progress progress(url, options.progress);
  set(curl, CURLOPT_URL, url.c_str());
  set(curl, CURLOPT_ERRORBUFFER, error);
  set(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for timeouts: safe beside other threads
  set(curl, CURLOPT_FOLLOWLOCATION, 1L);
  set(curl, CURLOPT_MAXREDIRS, 10L);
  set(curl, CURLOPT_FAILONERROR, 1L);  // HTTP status >= 400 is an error, not a file
  set(curl, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  set(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  set(curl, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
  set(curl, CURLOPT_USERAGENT, "roost");
  // Dataset mirrors are web servers or local copies (file://); nothing else is followed.
#if LIBCURL_VERSION_NUM >= 0x075500
  set(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
  set(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  set(curl, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
  set(curl, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  set(curl, CURLOPT_WRITEFUNCTION, write_to_file);
  set(curl, CURLOPT_WRITEDATA, static_cast<void*>(file.get()));
  set(curl, CURLOPT_NOPROGRESS, 0L);
  set(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  set(curl, CURLOPT_XFERINFODATA, static_cast<void*>(&progress));

  const CURLcode rc = curl_easy_perform(curl);
  progress.finish();
  const std::string reason = error[0] ? error : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_OK: break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      ROOST_USAGE_ERROR("cannot download ", url, ": ", reason, " (expected an http://, https:// or file:// URL)");
    case CURLE_WRITE_ERROR: ROOST_USAGE_ERROR("cannot download ", url, ": cannot write ", part, " (disk full?)");
    default: ROOST_THROW("cannot download ", url, ": ", reason);
  }
  if (std::fclose(file.release()) != 0) ROOST_USAGE_ERROR("cannot download ", url, ": cannot write ", part);
  std::error_code ec;
  std::filesystem::rename(part, path, ec);
  if (ec) ROOST_USAGE_ERROR("cannot rename ", part, " to ", path, ": ", ec.message());
  remove_part.keep = true;
}

#else  // no libcurl

bool download_available() { return false; }

void download(const std::string& url, const std::string&, const DownloadOptions&) {
  ROOST_USAGE_ERROR("cannot download ", url,
                    ": this roost was built without libcurl (Debian: "
                    "libcurl4-openssl-dev); download the file by hand, or rebuild roost with libcurl");
}

#endif

}  // namespace roost::data
