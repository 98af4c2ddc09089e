// src/data/decode_checks.h — checks shared by the whole-image decoders (decode.cc) and the
// region decoder (decode_region.cc), so both accept and refuse exactly the same files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "roost/data/decode.h"

namespace roost::data {

// PIL refuses images above twice its decompression-bomb threshold; the same cap keeps a
// corrupt header from asking for gigabytes before the pixel data is even looked at.
inline constexpr uint64_t kMaxPixels = 2ull * 89478485ull;

inline void check_dimensions(uint64_t width, uint64_t height, const char* format) {
  if (width == 0 || height == 0) throw DecodeError(std::string(format) + ": image has zero width or height");
  if (width * height > kMaxPixels)
    throw DecodeError(std::string(format) + ": image of " + std::to_string(width) + "x" + std::to_string(height) +
                      " pixels is too large");
}

// A JPEG whose data ran out before its end: libjpeg then pads the image with grey and only
// warns ("Premature end of JPEG file"). PIL refuses such files, so do we. libjpeg reports
// only its first warning, so the message alone can miss it; the structure cannot: the
// entropy-coded data after the last start-of-scan marker (FF DA) cannot contain FF D9 except
// as the end-of-image marker, because FF bytes inside it are always stuffed.
// The scans visit the FF bytes only, found with memchr (they are rare in entropy-coded data):
// a byte-at-a-time loop over the file cost the region decoder ~7% of its time.
inline size_t next_ff(const uint8_t* bytes, size_t size, size_t from) {
  if (from >= size) return size;
  const void* at = std::memchr(bytes + from, 0xFF, size - from);
  return at ? static_cast<size_t>(static_cast<const uint8_t*>(at) - bytes) : size;
}

inline bool jpeg_is_truncated(const uint8_t* bytes, size_t size) {
  size_t last_sos = 0;
  for (size_t i = next_ff(bytes, size, 0); i + 1 < size; i = next_ff(bytes, size, i + 1))
    if (bytes[i + 1] == 0xDA) last_sos = i;
  if (last_sos == 0) return true;
  for (size_t i = next_ff(bytes, size, last_sos + 2); i + 1 < size; i = next_ff(bytes, size, i + 1))
    if (bytes[i + 1] == 0xD9) return false;
  return true;
}

}  // namespace roost::data
