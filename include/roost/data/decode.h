// roost/data/decode.h — JPEG (libjpeg-turbo) and PNG (libpng) decoding to RGB uint8 HWC.
// Grayscale, palette, alpha and CMYK inputs are converted as PIL's convert('RGB') does.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "roost/data/image.h"
#include "roost/data/transforms.h"

namespace roost::data {

// Raised for any file that is not a decodable JPEG/PNG (empty, truncated, corrupt, other).
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Image decode_image(const uint8_t* bytes, size_t size);    // sniffs the format
Image decode_file(const std::string& path);               // reads then decodes
std::vector<uint8_t> read_file(const std::string& path);  // DecodeError if unreadable

// Makes the resize plan for an image of height × width (it may draw random numbers, so it is
// called exactly once per decode).
using PlanFn = std::function<ResizePlan(int height, int width)>;

// Decodes what `make_plan`'s plan reads and returns it with *plan rebased onto the returned
// image. JPEGs decode only the rows down to the box's bottom and the columns around it
// (libjpeg-turbo's scanline skipping and cropping, with a margin that keeps the upsampled
// chroma at the box's edges as a full decode computes it): the pixels the plan reads are the
// same bytes decode_image gives, at about half the cost for a RandomResizedCrop box. Other
// images, and plans that read the whole image, are decoded whole.
// How decode_for_plan may decode a JPEG.
struct DecodeOptions {
  // Decode at 1/2, 1/4 or 1/8 of the size in libjpeg-turbo's inverse DCT when the plan's box
  // still covers its resize target at that scale (dct_scale.h); the plan's box comes back in
  // the reduced image's coordinates. Several times faster for a box that shrinks a lot, but
  // the pixels are no longer PIL's. PNGs, and the JPEG layouts decoded whole (CMYK, unusual
  // sampling factors), are not scaled; without libjpeg (ROOST_WITH_LIBJPEG) nothing is.
  bool jpeg_dct_scale = false;
};

// Whether this build can decode JPEGs at a reduced scale (it has libjpeg's API).
bool jpeg_dct_scale_supported();

Image decode_for_plan(const uint8_t* bytes, size_t size, const PlanFn& make_plan, ResizePlan* plan,
                      const DecodeOptions& options = {});

// Encoders, for tests, the dataset generator and packs. encode_png is the project's one PNG
// encoder (the training curves are encoded by cairo, which draws them).
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 90);
std::vector<uint8_t> encode_png(const Image& image);
// 8-bit pixels in packed rows, `channels` 1 (grey, written as a grey PNG) or 3 (RGB).
std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels);

}  // namespace roost::data
