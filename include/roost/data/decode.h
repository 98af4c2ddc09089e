// roost/data/decode.h — JPEG (libjpeg-turbo) and PNG (libpng) decoding to RGB uint8 HWC.
// Grayscale, palette, alpha and CMYK inputs are converted as PIL's convert('RGB') does.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "roost/data/image.h"

namespace roost::data {

// Raised for any file that is not a decodable JPEG/PNG (empty, truncated, corrupt, other).
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Image decode_image(const uint8_t* bytes, size_t size);       // sniffs the format
Image decode_file(const std::string& path);                  // reads then decodes

// Encoders, for tests, the dataset generator and packs.
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 90);
std::vector<uint8_t> encode_png(const Image& image);

}  // namespace roost::data
