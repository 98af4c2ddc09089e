// tests/fuzz/decode_fuzz.cc — fuzzes the JPEG (libjpeg-turbo) and PNG (libpng) decoders as the
// loader uses them: decode_image on the whole file, then decode_for_plan with a random crop
// (the region decoder for JPEGs, at full or, with --jpeg-dct-scale's option, reduced scale) and
// the CPU resize of what it returned.
// Expected outcomes: an image, or DecodeError (the loader skips such files). An image whose
// size disagrees with its pixels, or a plan outside the returned region, is a finding too:
// the resize would read outside the pixels.
#include <cstdint>
#include <random>

#include "fuzz_util.h"
#include "roost/core/error.h"
#include "roost/data/decode.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

namespace {

using roost::fuzz::invariant_failed;
namespace data = roost::data;

void check_image(const data::Image& image) {
  if (image.height <= 0 || image.width <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.height) * image.width * 3)
    invariant_failed("decoded image size does not match its pixels");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  try {
    check_image(data::decode_image(bytes, size));
  } catch (const data::DecodeError& e) {
    roost::fuzz::expected_failure(e.what());
  }
  try {
    // The crop depends on the input only, so a finding replays.
    std::mt19937_64 rng(size * 0x9E3779B97F4A7C15ull + (size ? bytes[size - 1] : 0));
    data::ResizePlan plan;
    auto make_plan = [&](int h, int w) { return data::train_plan(h, w, 8, {}, rng); };
    data::DecodeOptions options;
    options.jpeg_dct_scale = rng() & 1;  // half of the runs decode at 1/2..1/8 where the crop allows
    data::Image region = data::decode_for_plan(bytes, size, make_plan, &plan, options);
    check_image(region);
    const data::CropBox& b = plan.box;
    if (b.top < 0 || b.left < 0 || b.height <= 0 || b.width <= 0 || b.top + b.height > region.height ||
        b.left + b.width > region.width)
      invariant_failed("plan box outside the decoded region");
    check_image(data::apply_plan_u8(region, plan));
  } catch (const data::DecodeError& e) {
    roost::fuzz::expected_failure(e.what());
  } catch (const roost::UsageError&) {
    invariant_failed("a decoded image gave a plan that does not fit it");
  }
  return 0;
}
