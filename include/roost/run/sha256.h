// roost/run/sha256.h — SHA-256 (FIPS 180-4), for the model registry's checksums: a file is
// hashed when it is registered and again when it is downloaded. OpenSSL's libcrypto does the
// hashing (EVP), which uses the CPU's SHA instructions where it has them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace roost::run {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  // The digest as 64 lowercase hex digits. The object may not be updated afterwards.
  std::string hex_digest();

 private:
  std::unique_ptr<evp_md_ctx_st, void (*)(evp_md_ctx_st*)> ctx_;
  bool finished_ = false;
};

std::string sha256_hex(const std::string& data);
// Hashes a file in 1 MiB pieces; Error naming the file if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace roost::run
