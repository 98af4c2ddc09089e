// roost/data/decode.cc — JPEG (TurboJPEG API of libjpeg-turbo) and PNG (libpng) decoding to
// RGB uint8 HWC, plus the matching encoders.
//
// The decoders reproduce what the reference job sees through PIL's Image.open(f).convert('RGB'):
// grayscale is replicated, palettes are looked up, alpha (and tRNS transparency) is dropped
// without compositing, and CMYK JPEGs are read with Adobe's inverted polarity and converted
// with PIL's cmyk2rgb formula. Any failure becomes a DecodeError, so the loader can skip the file.
#include "roost/data/decode.h"

#include <png.h>
#include <turbojpeg.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "decode_checks.h"
#include "roost/core/error.h"

namespace roost::data {

namespace {

// ---------------------------------------------------------------------------------------
// JPEG

struct TjDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;

struct TjFree {
  void operator()(unsigned char* p) const { tjFree(p); }
};

// PIL's Convert.c cmyk2rgb on Adobe-polarity values: out = nk - c * nk / 255 (rounded as
// PIL's MULDIV255), nk = 255 - k. The file stores inverted ink amounts, hence 255 - stored.
inline uint8_t muldiv255(int a, int b) {
  int t = a * b + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

void cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb, size_t pixels) {
  for (size_t i = 0; i < pixels; ++i, cmyk += 4, rgb += 3) {
    int nk = cmyk[3];  // 255 - (255 - stored k)
    for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>(nk - muldiv255(255 - cmyk[c], nk));
  }
}

Image decode_jpeg(const uint8_t* bytes, size_t size) {
  TjHandle handle(tjInitDecompress());
  if (!handle) throw DecodeError(std::string("jpeg: cannot start decoder: ") + tjGetErrorStr2(nullptr));
  auto* data = const_cast<unsigned char*>(bytes);  // TurboJPEG 2.x takes non-const input
  auto length = static_cast<unsigned long>(size);
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), data, length, &width, &height, &subsamp, &colorspace) != 0)
    throw DecodeError(std::string("jpeg: ") + tjGetErrorStr2(handle.get()));
  check_dimensions(width, height, "jpeg");

  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int pixel_format = cmyk ? TJPF_CMYK : TJPF_RGB;
  const size_t channels = cmyk ? 4 : 3;
  std::vector<uint8_t> decoded(static_cast<size_t>(width) * height * channels);
  // Default flags = accurate islow IDCT and fancy upsampling: what PIL's libjpeg uses, so the
  // pixels match PIL exactly when both link the same libjpeg-turbo.
  int rc = tjDecompress2(handle.get(), data, length, decoded.data(), width, 0, height, pixel_format, 0);
  if (rc != 0) {
    // Warnings ("corrupt data: extraneous bytes") leave a usable image, as PIL accepts it;
    // a fatal error or data that ran out do not.
    std::string message = tjGetErrorStr2(handle.get());
    if (tjGetErrorCode(handle.get()) == TJERR_FATAL) throw DecodeError("jpeg: " + message);
    if (message.find("Premature end") != std::string::npos || jpeg_is_truncated(bytes, size))
      throw DecodeError("jpeg: truncated file (" + message + ")");
  }

  Image image;
  image.height = height;
  image.width = width;
  if (cmyk) {
    image.pixels.resize(static_cast<size_t>(width) * height * 3);
    cmyk_to_rgb(decoded.data(), image.pixels.data(), static_cast<size_t>(width) * height);
  } else {
    image.pixels = std::move(decoded);
  }
  return image;
}

// ---------------------------------------------------------------------------------------
// PNG (classic libpng API: the simplified png_image API composites alpha onto a background
// and applies gamma, which PIL does not)

struct PngSource {
  const uint8_t* bytes;
  size_t size;
  size_t offset;
  char message[200];
};

void png_read_memory(png_structp png, png_bytep out, png_size_t count) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (count > src->size - src->offset) png_error(png, "file is truncated");
  std::memcpy(out, src->bytes + src->offset, count);
  src->offset += count;
}

void png_on_error(png_structp png, png_const_charp message) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->message, sizeof src->message, "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // benign: bad ancillary chunks etc.

struct PngReadStruct {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReadStruct() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

// Everything between setjmp and a possible longjmp lives in this function and touches only
// objects owned by the caller, so a libpng error skips no destructor. Returns false on error.
bool png_decode_rows(PngReadStruct& rs, Image& image, std::vector<png_bytep>& rows) {
  if (setjmp(png_jmpbuf(rs.png))) return false;
  png_read_info(rs.png, rs.info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(rs.png, rs.info, &width, &height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  if (width == 0 || height == 0 || static_cast<uint64_t>(width) * height > kMaxPixels)
    png_error(rs.png, "image is empty or too large");

  // Palette -> RGB and 1/2/4-bit grey -> 8 bit, but not png_set_expand, which would also turn
  // tRNS into an alpha channel; PIL's convert('RGB') ignores transparency.
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(rs.png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(rs.png);
  // 16-bit samples keep their high byte: PIL does the same for RGB(A) and LA ("RGB;16B"),
  // while it clips 16-bit greyscale ("I;16") to 255; that rare case is not reproduced.
  if (bit_depth == 16) png_set_strip_16(rs.png);
  // Palette expansion also turns tRNS into alpha (libpng couples the two); strip it again.
  if ((color_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(rs.png, rs.info, PNG_INFO_tRNS)) png_set_strip_alpha(rs.png);
  if (!(color_type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(rs.png);
  png_set_interlace_handling(rs.png);
  png_read_update_info(rs.png, rs.info);
  if (png_get_rowbytes(rs.png, rs.info) != static_cast<size_t>(width) * 3)
    png_error(rs.png, "unexpected row layout after conversion");

  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = image.row(static_cast<int>(y));
  png_read_image(rs.png, rows.data());
  // No png_read_end: the pixels (and the zlib checksum) are complete here, and PIL also
  // accepts files whose chunks after the image data are missing or damaged.
  return true;
}

Image decode_png(const uint8_t* bytes, size_t size) {
  PngSource src{bytes, size, 0, {0}};
  PngReadStruct rs;
  rs.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
  if (!rs.png) throw DecodeError("png: cannot start decoder");
  rs.info = png_create_info_struct(rs.png);
  if (!rs.info) throw DecodeError("png: cannot start decoder");
  png_set_read_fn(rs.png, &src, png_read_memory);

  Image image;
  std::vector<png_bytep> rows;
  if (!png_decode_rows(rs, image, rows)) throw DecodeError(std::string("png: ") + src.message);
  return image;
}

bool starts_with(const uint8_t* bytes, size_t size, const uint8_t* magic, size_t n) {
  return size >= n && std::memcmp(bytes, magic, n) == 0;
}

void check_encodable(const Image& image) {
  if (image.empty() || image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3)
    ROOST_THROW("cannot encode an image of ", image.width, "x", image.height, " with ", image.pixels.size(), " bytes");
}

}  // namespace

Image decode_image(const uint8_t* bytes, size_t size) {
  static constexpr uint8_t kJpegMagic[] = {0xFF, 0xD8, 0xFF};
  static constexpr uint8_t kPngMagic[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes == nullptr || size == 0) throw DecodeError("empty file");
  if (starts_with(bytes, size, kJpegMagic, sizeof kJpegMagic)) return decode_jpeg(bytes, size);
  if (starts_with(bytes, size, kPngMagic, sizeof kPngMagic)) return decode_png(bytes, size);
  throw DecodeError("not a JPEG or PNG file");
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw DecodeError("cannot open: " + std::string(std::strerror(errno)));
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  if (std::ferror(file.get())) throw DecodeError("read error: " + std::string(std::strerror(errno)));
  return bytes;
}

Image decode_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  return decode_image(bytes.data(), bytes.size());
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  check_encodable(image);
  ROOST_CHECK(quality >= 1 && quality <= 100, "JPEG quality must be 1..100, got ", quality);
  TjHandle handle(tjInitCompress());
  if (!handle) ROOST_THROW("cannot start JPEG encoder: ", tjGetErrorStr2(nullptr));
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  int rc = tjCompress2(handle.get(), image.pixels.data(), image.width, 0, image.height, TJPF_RGB, &out, &out_size,
                       TJSAMP_420, quality, TJFLAG_ACCURATEDCT);
  std::unique_ptr<unsigned char, TjFree> owned(out);
  if (rc != 0) ROOST_THROW("JPEG encoding failed: ", tjGetErrorStr2(handle.get()));
  return std::vector<uint8_t>(out, out + out_size);
}

std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels) {
  ROOST_CHECK(channels == 1 || channels == 3, "PNG encoding takes 1 or 3 channels, got ", channels);
  ROOST_CHECK(pixels != nullptr && width > 0 && height > 0, "cannot encode an image of ", width, "x", height);
  // The simplified write API reports errors in png.message without longjmp; 8-bit sRGB input
  // is written as is (no gamma conversion).
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(width);
  png.height = static_cast<png_uint_32>(height);
  png.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&png, nullptr, &size, 0, pixels, 0, nullptr))
    ROOST_THROW("PNG encoding failed: ", png.message);
  std::vector<uint8_t> out(size);
  if (!png_image_write_to_memory(&png, out.data(), &size, 0, pixels, 0, nullptr))
    ROOST_THROW("PNG encoding failed: ", png.message);
  out.resize(size);
  return out;
}

std::vector<uint8_t> encode_png(const Image& image) {
  check_encodable(image);
  return encode_png(image.pixels.data(), image.width, image.height, 3);
}

}  // namespace roost::data
