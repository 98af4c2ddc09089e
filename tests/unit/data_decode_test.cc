// data_decode_test.cc — JPEG/PNG decoding: round trips, the PIL-style colour conversions
// (grey, palette, alpha, 16-bit, CMYK) and DecodeError for every kind of broken input.
#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "roost/core/error.h"
#include "roost/data/decode.h"

namespace roost::data {
namespace {

// Random RGB noise, never all zeros (PNG is lossless, so noise is the hardest case).
Image noise_image(int height, int width, uint32_t seed) {
  std::mt19937 rng(seed);
  Image image{height, width, std::vector<uint8_t>(static_cast<size_t>(height) * width * 3)};
  for (auto& p : image.pixels) p = static_cast<uint8_t>(rng() % 256);
  image.pixels[0] = 200;
  return image;
}

// Smooth gradients plus mild noise: what JPEG is built for, so the error bound can be tight.
Image smooth_image(int height, int width, uint32_t seed) {
  std::mt19937 rng(seed);
  Image image{height, width, std::vector<uint8_t>(static_cast<size_t>(height) * width * 3)};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        image.row(y)[3 * x + c] = static_cast<uint8_t>(40 + y * 60 / height + x * 60 / width + 20 * c + rng() % 4);
  return image;
}

// Writes a PNG of any simplified-API format (grey, RGBA, palette, 16-bit) for the decoder tests.
std::vector<uint8_t> write_png(png_uint_32 format, int height, int width, const void* pixels,
                               const void* colormap = nullptr, int colormap_entries = 0) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = width;
  png.height = height;
  png.format = format;
  png.colormap_entries = colormap_entries;
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_to_memory(&png, nullptr, &size, 0, pixels, 0, colormap)) << png.message;
  std::vector<uint8_t> out(size);
  EXPECT_TRUE(png_image_write_to_memory(&png, out.data(), &size, 0, pixels, 0, colormap)) << png.message;
  out.resize(size);
  return out;
}

std::vector<uint8_t> tj_compress(const uint8_t* pixels, int height, int width, int pixel_format, int subsamp,
                                 int quality) {
  tjhandle handle = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  int rc = tjCompress2(handle, pixels, width, 0, height, pixel_format, &out, &size, subsamp, quality, 0);
  EXPECT_EQ(rc, 0) << tjGetErrorStr2(handle);
  std::vector<uint8_t> bytes(out, out + size);
  tjFree(out);
  tjDestroy(handle);
  return bytes;
}

Image decode(const std::vector<uint8_t>& bytes) { return decode_image(bytes.data(), bytes.size()); }

class DataDecodeSizes : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(DataDecodeSizes, PngRoundTripIsExact) {
  auto [h, w] = GetParam();
  Image image = noise_image(h, w, 11 * h + w);
  Image back = decode(encode_png(image));
  ASSERT_EQ(back.height, h);
  ASSERT_EQ(back.width, w);
  EXPECT_EQ(back.pixels, image.pixels);
}

TEST_P(DataDecodeSizes, JpegRoundTripIsClose) {
  auto [h, w] = GetParam();
  Image image = smooth_image(h, w, 7 * h + w);
  Image back = decode(encode_jpeg(image, 95));
  ASSERT_EQ(back.height, h);
  ASSERT_EQ(back.width, w);
  double total = 0;
  for (size_t i = 0; i < image.pixels.size(); ++i) total += std::abs(int{back.pixels[i]} - int{image.pixels[i]});
  EXPECT_LT(total / image.pixels.size(), 4.0);
}

TEST_P(DataDecodeSizes, GreyPngRoundTripIsExact) {
  auto [h, w] = GetParam();
  const Image rgb = noise_image(h, w, 5 * h + w);
  std::vector<uint8_t> grey(static_cast<size_t>(h) * w);
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = rgb.pixels[3 * i];
  const std::vector<uint8_t> bytes = encode_png(grey.data(), w, h, 1);
  // IHDR's colour type (byte 25 of the file): 0 is greyscale, one byte a pixel on disk.
  ASSERT_GT(bytes.size(), 25u);
  EXPECT_EQ(bytes[25], 0);
  const Image back = decode(bytes);
  ASSERT_EQ(back.height, h);
  ASSERT_EQ(back.width, w);
  for (size_t i = 0; i < grey.size(); ++i) {
    ASSERT_EQ(back.pixels[3 * i], grey[i]) << i;
    ASSERT_EQ(back.pixels[3 * i + 1], grey[i]) << i;
    ASSERT_EQ(back.pixels[3 * i + 2], grey[i]) << i;
  }
  // The RGB form of the same call is the Image encoder's output, byte for byte.
  EXPECT_EQ(encode_png(rgb.pixels.data(), w, h, 3), encode_png(rgb));
}

INSTANTIATE_TEST_SUITE_P(Data, DataDecodeSizes,
                         ::testing::Values(std::make_tuple(1, 1), std::make_tuple(7, 13), std::make_tuple(33, 64),
                                           std::make_tuple(101, 57)));

TEST(DataDecode, GrayPngIsReplicated) {
  std::vector<uint8_t> gray(9 * 5);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(17 + i * 5);
  Image image = decode(write_png(PNG_FORMAT_GRAY, 9, 5, gray.data()));
  ASSERT_EQ(image.pixels.size(), gray.size() * 3);
  for (size_t i = 0; i < gray.size(); ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(image.pixels[3 * i + c], gray[i]);
}

TEST(DataDecode, RgbaPngDropsAlphaWithoutCompositing) {
  Image rgb = noise_image(6, 10, 3);
  std::vector<uint8_t> rgba;
  for (size_t i = 0; i < rgb.pixels.size() / 3; ++i) {
    rgba.insert(rgba.end(), rgb.pixels.begin() + 3 * i, rgb.pixels.begin() + 3 * i + 3);
    rgba.push_back(static_cast<uint8_t>(i * 37));  // includes fully transparent pixels
  }
  Image image = decode(write_png(PNG_FORMAT_RGBA, 6, 10, rgba.data()));
  EXPECT_EQ(image.pixels, rgb.pixels);
}

TEST(DataDecode, GrayAlphaPngDropsAlpha) {
  std::vector<uint8_t> ga;
  for (int i = 0; i < 12; ++i) ga.insert(ga.end(), {static_cast<uint8_t>(i * 20 + 1), static_cast<uint8_t>(i)});
  Image image = decode(write_png(PNG_FORMAT_GA, 3, 4, ga.data()));
  for (int i = 0; i < 12; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(image.pixels[3 * i + c], ga[2 * i]);
}

TEST(DataDecode, SixteenBitPngKeepsHighByte) {
  std::vector<uint16_t> rgb16(4 * 3 * 3);
  for (size_t i = 0; i < rgb16.size(); ++i) rgb16[i] = static_cast<uint16_t>(1000 + i * 1777);
  Image image = decode(write_png(PNG_FORMAT_LINEAR_RGB, 4, 3, rgb16.data()));
  ASSERT_EQ(image.pixels.size(), rgb16.size());
  for (size_t i = 0; i < rgb16.size(); ++i) EXPECT_EQ(image.pixels[i], rgb16[i] >> 8) << i;
}

// Palettes of 2, 16 and 200 entries are written with 1, 4 and 8 bits per pixel.
class DataDecodePalette : public ::testing::TestWithParam<int> {};

TEST_P(DataDecodePalette, PalettePngIsLookedUp) {
  const int entries = GetParam();
  std::mt19937 rng(entries);
  std::vector<uint8_t> colormap(entries * 3);
  for (auto& v : colormap) v = static_cast<uint8_t>(1 + rng() % 255);
  const int h = 5, w = 11;
  std::vector<uint8_t> index(h * w);
  for (auto& v : index) v = static_cast<uint8_t>(rng() % entries);
  Image image = decode(write_png(PNG_FORMAT_RGB_COLORMAP, h, w, index.data(), colormap.data(), entries));
  ASSERT_EQ(image.pixels.size(), index.size() * 3);
  for (size_t i = 0; i < index.size(); ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(image.pixels[3 * i + c], colormap[3 * index[i] + c]);
}

INSTANTIATE_TEST_SUITE_P(Data, DataDecodePalette, ::testing::Values(2, 16, 200));

// A palette with transparency (tRNS): PIL's convert('RGB') ignores it, and so must we.
TEST(DataDecode, PaletteWithTransparencyIgnoresIt) {
  const uint8_t colormap[4 * 4] = {10, 20, 30, 0, 200, 100, 50, 128, 1, 2, 3, 255, 90, 80, 70, 7};
  std::vector<uint8_t> index(6 * 7);
  for (size_t i = 0; i < index.size(); ++i) index[i] = static_cast<uint8_t>((i * 7) % 4);
  Image image = decode(write_png(PNG_FORMAT_RGBA_COLORMAP, 6, 7, index.data(), colormap, 4));
  ASSERT_EQ(image.pixels.size(), index.size() * 3);
  for (size_t i = 0; i < index.size(); ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(image.pixels[3 * i + c], colormap[4 * index[i] + c]);
}

TEST(DataDecode, GrayJpegIsReplicated) {
  Image rgb = smooth_image(16, 24, 5);
  std::vector<uint8_t> gray(16 * 24);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = rgb.pixels[3 * i];
  Image image = decode(tj_compress(gray.data(), 16, 24, TJPF_GRAY, TJSAMP_GRAY, 98));
  for (size_t i = 0; i < gray.size(); ++i) {
    EXPECT_EQ(image.pixels[3 * i], image.pixels[3 * i + 1]);
    EXPECT_EQ(image.pixels[3 * i], image.pixels[3 * i + 2]);
    EXPECT_NEAR(image.pixels[3 * i], gray[i], 4);
  }
}

// TurboJPEG writes CMYK input as an Adobe (inverted) YCCK JPEG, as Photoshop does; PIL reads it
// as CMYK;I and converts with out = (255-k) - c'(255-k)/255, c' = 255 - stored c.
TEST(DataDecode, CmykJpegFollowsPilConversion) {
  const int h = 8, w = 16;
  std::vector<uint8_t> cmyk(h * w * 4);
  for (int i = 0; i < h * w; ++i) {
    cmyk[4 * i + 0] = static_cast<uint8_t>(60 + i);
    cmyk[4 * i + 1] = static_cast<uint8_t>(200 - i);
    cmyk[4 * i + 2] = static_cast<uint8_t>(128);
    cmyk[4 * i + 3] = static_cast<uint8_t>(i < 64 ? 255 : 150);
  }
  Image image = decode(tj_compress(cmyk.data(), h, w, TJPF_CMYK, TJSAMP_444, 100));
  ASSERT_EQ(image.pixels.size(), static_cast<size_t>(h * w * 3));
  for (int i = 0; i < h * w; ++i) {
    const double nk = cmyk[4 * i + 3];
    for (int c = 0; c < 3; ++c) {
      double expected = nk - (255 - cmyk[4 * i + c]) * nk / 255.0;
      EXPECT_NEAR(image.pixels[3 * i + c], expected, 4.0) << "pixel " << i << " channel " << c;
    }
  }
}

TEST(DataDecode, EmptyInputFails) {
  std::vector<uint8_t> none;
  EXPECT_THROW(decode(none), DecodeError);
  EXPECT_THROW(decode_image(nullptr, 0), DecodeError);
}

TEST(DataDecode, NonImageFails) {
  std::string text = "name,label\ncat.jpg,1\n";
  EXPECT_THROW(decode_image(reinterpret_cast<const uint8_t*>(text.data()), text.size()), DecodeError);
}

class DataDecodeTruncated : public ::testing::TestWithParam<double> {};

TEST_P(DataDecodeTruncated, TruncatedJpegFails) {
  auto bytes = encode_jpeg(noise_image(48, 40, 9), 90);
  bytes.resize(std::max<size_t>(4, static_cast<size_t>(bytes.size() * GetParam())));
  EXPECT_THROW(decode(bytes), DecodeError);
}

TEST_P(DataDecodeTruncated, TruncatedPngFails) {
  auto bytes = encode_png(noise_image(48, 40, 9));
  bytes.resize(std::max<size_t>(8, static_cast<size_t>(bytes.size() * GetParam())));
  EXPECT_THROW(decode(bytes), DecodeError);
}

INSTANTIATE_TEST_SUITE_P(Data, DataDecodeTruncated, ::testing::Values(0.01, 0.3, 0.9, 0.98));

TEST(DataDecode, JpegMissingOnlyEndMarkerFails) {
  auto bytes = encode_jpeg(noise_image(20, 20, 4), 90);
  ASSERT_EQ(bytes[bytes.size() - 2], 0xFF);
  ASSERT_EQ(bytes[bytes.size() - 1], 0xD9);
  bytes.resize(bytes.size() - 2);
  EXPECT_THROW(decode(bytes), DecodeError);
}

TEST(DataDecode, PngEncoderRefusesOtherChannelCountsAndEmptyImages) {
  const std::vector<uint8_t> pixels(4 * 3 * 4, 7);
  EXPECT_THROW(encode_png(pixels.data(), 3, 4, 4), Error);
  EXPECT_THROW(encode_png(pixels.data(), 3, 4, 2), Error);
  EXPECT_THROW(encode_png(pixels.data(), 0, 4, 3), Error);
  EXPECT_THROW(encode_png(nullptr, 3, 4, 3), Error);
  EXPECT_THROW(encode_png(Image{}), Error);
}

TEST(DataDecode, CorruptJpegHeaderFails) {
  auto bytes = encode_jpeg(noise_image(20, 30, 5), 90);
  for (size_t i = 3; i < 200 && i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 13 + 1);
  EXPECT_THROW(decode(bytes), DecodeError);
}

TEST(DataDecode, CorruptPngDataFails) {
  auto bytes = encode_png(noise_image(20, 30, 6));
  // Damage the middle of the file (inside IDAT): its CRC no longer matches.
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 8; ++i) bytes[i] ^= 0x5A;
  EXPECT_THROW(decode(bytes), DecodeError);
}

TEST(DataDecode, FileRoundTripAndMissingFile) {
  char dir_template[] = "/tmp/roost-decode-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  Image image = noise_image(5, 7, 8);
  auto bytes = encode_png(image);
  {
    std::ofstream out(dir + "/a.png", std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    std::ofstream empty(dir + "/empty.jpg", std::ios::binary);
  }
  EXPECT_EQ(decode_file(dir + "/a.png").pixels, image.pixels);
  EXPECT_THROW(decode_file(dir + "/empty.jpg"), DecodeError);
  EXPECT_THROW(decode_file(dir + "/missing.jpg"), DecodeError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace roost::data
