// roost/run/sha256.h — SHA-256 (FIPS 180-4), for the model registry's checksums: a file is
// hashed when it is registered and again when it is downloaded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace roost::run {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  // The digest as 64 lowercase hex digits. The object may not be updated afterwards.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string sha256_hex(const std::string& data);
// Hashes a file in 1 MiB pieces; Error naming the file if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace roost::run
