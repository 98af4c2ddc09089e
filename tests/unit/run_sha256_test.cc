// run_sha256_test.cc — SHA-256 against the FIPS 180-4 / NIST example vectors, fed in one piece
// and in odd-sized pieces (block boundaries), and a file of several 1 MiB read chunks against
// the same digest.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "roost/core/error.h"
#include "roost/run/sha256.h"

namespace roost::run {
namespace {

struct Vector {
  std::string message;
  std::string digest;
};

std::vector<Vector> vectors() {
  return {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrst"
       "nopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      // 55 and 56 bytes: the longest message whose padding fits in its block and the shortest
      // that needs a second block (digests from coreutils sha256sum).
      {std::string(55, 'x'), "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {std::string(56, 'x'), "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
  };
}

TEST(Sha256, KnownVectors) {
  for (const auto& v : vectors())
    EXPECT_EQ(sha256_hex(v.message), v.digest) << "message of " << v.message.size() << " bytes";
}

TEST(Sha256, PiecesGiveTheSameDigest) {
  for (const auto& v : vectors()) {
    for (size_t piece : {1u, 3u, 63u, 64u, 65u, 1000u}) {
      Sha256 h;
      for (size_t at = 0; at < v.message.size(); at += piece) h.update(v.message.substr(at, piece));
      EXPECT_EQ(h.hex_digest(), sha256_hex(v.message)) << v.message.size() << " bytes in pieces of " << piece;
    }
  }
}

TEST(Sha256, FinishedDigestTakesNoMoreInput) {
  Sha256 h;
  h.update("abc");
  EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THROW(h.update("d"), Error);
  EXPECT_THROW(h.hex_digest(), Error);
}

TEST(Sha256, FileMatchesString) {
  const std::string path = ::testing::TempDir() + "/roost_sha256_test.bin";
  std::string data;
  for (uint32_t i = 0; i < (3u << 20); ++i) data += static_cast<char>((i * 7919u) >> 3);
  std::ofstream(path, std::ios::binary) << data;
  EXPECT_EQ(sha256_file(path), sha256_hex(data));
  std::remove(path.c_str());
  EXPECT_THROW(sha256_file(path), Error);
}

}  // namespace
}  // namespace roost::run
