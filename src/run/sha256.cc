// sha256.cc — SHA-256 through OpenSSL's EVP interface: one digest context per Sha256, fed as
// the bytes arrive, so a file of any size is hashed in fixed-size pieces.
#include "roost/run/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <vector>

#include "roost/core/error.h"

namespace roost::run {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
    ROOST_THROW("libcrypto: cannot start a SHA-256 digest");
}

void Sha256::update(const void* data, size_t size) {
  ROOST_CHECK(!finished_, "Sha256::update after hex_digest");
  if (size > 0 && EVP_DigestUpdate(ctx_.get(), data, size) != 1) ROOST_THROW("libcrypto: SHA-256 update failed");
}

std::string Sha256::hex_digest() {
  ROOST_CHECK(!finished_, "Sha256::hex_digest called twice");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1 || size != 32) ROOST_THROW("libcrypto: SHA-256 finish failed");
  finished_ = true;
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string sha256_hex(const std::string& data) {
  Sha256 h;
  h.update(data);
  return h.hex_digest();
}

std::string sha256_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!in) ROOST_THROW("cannot read ", path);
  Sha256 h;
  std::vector<char> buf(1 << 20);
  size_t got = 0;
  while ((got = std::fread(buf.data(), 1, buf.size(), in.get())) > 0) h.update(buf.data(), got);
  if (std::ferror(in.get())) ROOST_THROW("error reading ", path);
  return h.hex_digest();
}

}  // namespace roost::run
