// roost/core/fs.cc — small filesystem helpers shared by the CLI and the trainer.
#include "roost/core/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "roost/core/error.h"

namespace roost {

namespace fs = std::filesystem;

void ensure_writable_dir(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec || !fs::is_directory(path))
    ROOST_USAGE_ERROR("output dir ", path, " cannot be created: ", ec ? ec.message() : std::string("not a directory"));
  std::string probe = (fs::path(path) / ".roost-write-test").string();
  int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) ROOST_USAGE_ERROR("output dir ", path, " is not writable");
  ::close(fd);
  ::unlink(probe.c_str());
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) ROOST_THROW("cannot write ", tmp);
    out << contents;
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());  // no partial file (or its space) left behind
      ROOST_THROW("write failed for ", tmp, " (disk full?)");
    }
  }
  fsync_file(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    ROOST_THROW("cannot rename ", tmp, " to ", path);
  }
}

void fsync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) ROOST_THROW("cannot open ", path, " to sync it");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) ROOST_THROW("fsync failed for ", path);
}

}  // namespace roost
