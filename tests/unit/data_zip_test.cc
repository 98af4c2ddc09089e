// data_zip_test.cc — the zip reader against archives written by Python's zipfile (an
// independent implementation): stored and deflated entries, folders, names that would
// escape the destination, and truncated or corrupted archives.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "python_peer.h"
#include "roost/core/error.h"
#include "roost/data/zip.h"

namespace roost::data {
namespace {

namespace fs = std::filesystem;
using roost::testing::read_bytes;
using roost::testing::TempDir;
using roost::testing::write_bytes;

class DataZip : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(ROOST_PYTHON)) GTEST_SKIP() << ROOST_PYTHON << " is needed to write test archives";
    // Payloads: compressible text, incompressible random bytes, an empty file.
    std::mt19937_64 rng(5);
    random_.resize(70000);
    for (auto& b : random_) b = static_cast<uint8_t>(rng() >> 56);
    for (int i = 0; i < 3000; ++i) text_ += "line " + std::to_string(i) + " of a compressible file\n";
    write_bytes(dir_.file("random.bin"), random_);
    write_bytes(dir_.file("text.txt"), std::vector<uint8_t>(text_.begin(), text_.end()));
  }

  // Runs Python to write `zip` with entries given as "name|method|source" (source "" = empty
  // payload, method stored or deflated; a name ending in '/' is a folder).
  std::string make_zip(const std::string& zip, const std::vector<std::string>& specs) {
    std::string script =
        "import sys, zipfile\n"
        "with zipfile.ZipFile(sys.argv[1], 'w') as z:\n"
        "    for spec in sys.argv[2:]:\n"
        "        name, method, source = spec.split('|')\n"
        "        info = zipfile.ZipInfo(name)\n"
        "        info.compress_type = zipfile.ZIP_DEFLATED if method == 'deflated' else zipfile.ZIP_STORED\n"
        "        if name.endswith('/'): info.external_attr = 0o40755 << 16 | 0x10\n"
        "        z.writestr(info, open(source, 'rb').read() if source else b'')\n";
    write_bytes(dir_.file("make_zip.py"), std::vector<uint8_t>(script.begin(), script.end()));
    std::string command = std::string(ROOST_PYTHON) + " " + dir_.file("make_zip.py") + " " + dir_.file(zip);
    for (const auto& spec : specs) command += " '" + spec + "'";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return dir_.file(zip);
  }

  std::string good_zip() {
    return make_zip("good.zip", {"top/|stored|", "top/text.txt|deflated|" + dir_.file("text.txt"),
                                 "top/sub/random.bin|stored|" + dir_.file("random.bin"),
                                 "top/sub/random.z|deflated|" + dir_.file("random.bin"), "top/empty.txt|stored|"});
  }

  static std::string as_string(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

  TempDir dir_;
  std::vector<uint8_t> random_;
  std::string text_;
};

TEST_F(DataZip, ReadsStoredAndDeflatedEntries) {
  ZipReader zip(good_zip());
  ASSERT_EQ(zip.entries().size(), 5u);
  EXPECT_TRUE(zip.entries()[0].is_directory());
  const ZipEntry& text = zip.entries()[1];
  EXPECT_EQ(text.name, "top/text.txt");
  EXPECT_EQ(text.method, 8);
  EXPECT_LT(text.compressed_size, text.size / 4);  // really deflated
  EXPECT_EQ(as_string(zip.read(text)), text_);
  EXPECT_EQ(zip.entries()[2].method, 0);
  EXPECT_EQ(zip.read(zip.entries()[2]), random_);
  EXPECT_EQ(zip.read(zip.entries()[3]), random_);
  EXPECT_TRUE(zip.read(zip.entries()[4]).empty());
}

TEST_F(DataZip, ExtractsTheTreeAndHonoursSkip) {
  const std::string out = dir_.file("out");
  const size_t files =
      extract_zip(good_zip(), out, [](const std::string& name) { return name.find("random.z") != std::string::npos; });
  EXPECT_EQ(files, 3u);
  EXPECT_EQ(as_string(read_bytes(out + "/top/text.txt")), text_);
  EXPECT_EQ(read_bytes(out + "/top/sub/random.bin"), random_);
  EXPECT_TRUE(fs::is_regular_file(out + "/top/empty.txt"));
  EXPECT_FALSE(fs::exists(out + "/top/sub/random.z"));
}

TEST_F(DataZip, RejectsNamesOutsideTheDestination) {
  for (const std::string name :
       {"../evil.txt", "top/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt", "top\\..\\..\\evil.txt"}) {
    const std::string zip = make_zip(
        "bad.zip", {"top/fine.txt|stored|" + dir_.file("text.txt"), name + "|deflated|" + dir_.file("text.txt")});
    const std::string out = dir_.file("out-bad");
    try {
      extract_zip(zip, out);
      ADD_FAILURE() << "extracted " << name;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("refusing"), std::string::npos) << e.message();
    }
    // Names are checked before anything is written: not even the harmless entry is there.
    EXPECT_FALSE(fs::exists(out + "/top/fine.txt")) << name;
    EXPECT_FALSE(fs::exists(dir_.file("evil.txt"))) << name;
  }
  EXPECT_EQ(safe_entry_path("./a//b/./c.jpg"), "a/b/c.jpg");
  EXPECT_EQ(safe_entry_path("a\\b.jpg"), "a/b.jpg");
  EXPECT_EQ(safe_entry_path("..a/b..jpg"), "..a/b..jpg");  // dots inside names are fine
  EXPECT_THROW(safe_entry_path(""), Error);
}

TEST_F(DataZip, TruncatedOrCorruptArchivesAreErrors) {
  const std::vector<uint8_t> bytes = read_bytes(good_zip());
  const std::string cut = dir_.file("cut.zip");
  for (size_t keep : {bytes.size() - 10, bytes.size() / 2, size_t{100}, size_t{10}, size_t{0}}) {
    write_bytes(cut, std::vector<uint8_t>(bytes.begin(), bytes.begin() + keep));
    try {
      extract_zip(cut, dir_.file("out-cut"));
      ADD_FAILURE() << "extracted an archive cut to " << keep << " bytes";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(cut), std::string::npos) << "the error names the archive: " << e.message();
    }
  }
  // Central directory intact, but an entry's data damaged: the CRC (or inflate) catches it.
  ZipReader zip(good_zip());
  std::vector<uint8_t> damaged = bytes;
  const ZipEntry& text = zip.entries()[1];
  // The entry's local header is the first place its name appears (the directory is at the end);
  // its data starts right after the name, as Python writes no extra field here.
  const size_t name_at = std::string(bytes.begin(), bytes.end()).find(text.name);
  ASSERT_NE(name_at, std::string::npos);
  const size_t data_at = name_at + text.name.size() + 40;
  damaged[data_at] ^= 0x5A;
  write_bytes(cut, damaged);
  ZipReader bad(cut);
  EXPECT_THROW(bad.read(bad.entries()[1]), Error);
  EXPECT_EQ(bad.read(bad.entries()[2]), random_);  // the other entries still read
  // A stored entry has no compressed stream to break: only its CRC-32 tells.
  std::vector<uint8_t> flipped = bytes;
  const std::string stored_name = zip.entries()[2].name;
  const size_t stored_at = std::string(bytes.begin(), bytes.end()).find(stored_name);
  ASSERT_NE(stored_at, std::string::npos);
  flipped[stored_at + stored_name.size() + 500] ^= 0x01;
  write_bytes(cut, flipped);
  ZipReader flipped_zip(cut);
  try {
    flipped_zip.read(flipped_zip.entries()[2]);
    ADD_FAILURE() << "read a stored entry with a flipped bit";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("CRC-32"), std::string::npos) << e.message();
  }
  EXPECT_THROW(ZipReader(dir_.file("missing.zip")), Error);
  write_bytes(cut, std::vector<uint8_t>(text_.begin(), text_.end()));
  try {
    ZipReader{cut};
    ADD_FAILURE() << "read a text file as a zip";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("not a zip"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace roost::data
