// tests/unit/python_peer.h — runs tests/unit/pil_resize_fixture.py (Pillow + torchvision
// through Debian's /usr/bin/python3) for the preprocessing parity tests, and the small file
// helpers those tests share. Header-only: each test file includes it.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../random_image.h"
#include "roost/data/image.h"

namespace roost::testing {

inline std::string fixture_script() { return std::string(ROOST_SOURCE_DIR) + "/tests/unit/pil_resize_fixture.py"; }

// Empty when the peer can run; otherwise why not (the test then skips with that reason).
inline std::string python_peer_missing() {
  const std::string python = ROOST_PYTHON;
  if (!std::filesystem::exists(python)) return python + " is not installed";
  const std::string probe = python + " -c 'import PIL, torch, torchvision' >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0)
    return python + " lacks PIL or torchvision (Debian: python3-pil python3-torchvision)";
  return {};
}

// A fresh directory under the system's temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = std::filesystem::temp_directory_path() /
            ("roost-test-" + std::to_string(::getpid()) + "-" + std::to_string(seed()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs the fixture with `args`; returns its stdout, or throws with the exit status.
inline std::string run_fixture(const std::string& args, const TempDir& dir) {
  const std::string out = dir.file("fixture-stdout.txt");
  const std::string command = std::string(ROOST_PYTHON) + " " + fixture_script() + " " + args + " >" + out;
  const int rc = std::system(command.c_str());
  if (rc != 0) throw std::runtime_error("fixture failed (" + std::to_string(rc) + "): " + command);
  std::ifstream in(out);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Saves `source_png` through Pillow as the JPEG kinds the decoders must handle, in `dir`:
// s444.jpg, s422.jpg, s420.jpg (chroma subsampling), progressive.jpg, grey.jpg, cmyk.jpg and
// odd.jpg (333x251, optimized Huffman tables). Throws when Python fails.
inline void write_pil_jpeg_variants(const std::string& source_png, const TempDir& dir) {
  const std::string script =
      "import sys\n"
      "from PIL import Image\n"
      "src = Image.open(sys.argv[1]).convert('RGB')\n"
      "d = sys.argv[2]\n"
      "src.save(d + '/s444.jpg', quality=92, subsampling=0)\n"
      "src.save(d + '/s422.jpg', quality=92, subsampling=1)\n"
      "src.save(d + '/s420.jpg', quality=75, subsampling=2)\n"
      "src.save(d + '/progressive.jpg', quality=90, progressive=True)\n"
      "src.convert('L').save(d + '/grey.jpg', quality=90)\n"
      "src.convert('CMYK').save(d + '/cmyk.jpg', quality=90)\n"
      "src.resize((333, 251)).save(d + '/odd.jpg', quality=85, optimize=True)\n";
  write_bytes(dir.file("variants.py"), std::vector<uint8_t>(script.begin(), script.end()));
  const std::string command =
      std::string(ROOST_PYTHON) + " " + dir.file("variants.py") + " " + source_png + " " + dir.file("");
  const int rc = std::system(command.c_str());
  if (rc != 0) throw std::runtime_error("PIL variants failed (" + std::to_string(rc) + "): " + command);
}

}  // namespace roost::testing
