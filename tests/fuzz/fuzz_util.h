// tests/fuzz/fuzz_util.h — what the fuzz targets share. The loaders under test take a path, so
// each input goes to one scratch file per process, rewritten for every input (in $TMPDIR,
// which run.sh points at the run's own folder), and removed when the process ends normally.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace roost::fuzz {

class ScratchFile {
 public:
  // `suffix` matters to the code under test: open_split treats a name ending in .h5 as a pack.
  explicit ScratchFile(const std::string& suffix) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/roost-fuzz-XXXXXX" + suffix;
    int fd = ::mkstemps(path_.data(), static_cast<int>(suffix.size()));
    if (fd < 0) {
      std::perror("mkstemps");
      std::abort();
    }
    ::close(fd);
  }
  ~ScratchFile() { ::unlink(path_.c_str()); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const std::string& path() const { return path_; }

  // Replaces the file's contents with data[0, size).
  const std::string& write(const uint8_t* data, size_t size) const {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
      std::perror(path_.c_str());
      std::abort();  // the harness is broken, not the code under test
    }
    return path_;
  }

 private:
  std::string path_;
};

// An expected failure of the code under test. Silent unless ROOST_FUZZ_VERBOSE is set, which
// helps to check that the seeds are accepted (run a target on them with -runs=0).
inline void expected_failure(const char* what) {
  static const bool verbose = std::getenv("ROOST_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "expected failure: %s\n", what);
}

// A finding that is not a crash by itself (a broken invariant): abort so libFuzzer keeps the
// input, with the reason on stderr.
[[noreturn]] inline void invariant_failed(const char* what) {
  std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
  std::abort();
}

}  // namespace roost::fuzz
