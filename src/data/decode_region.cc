// roost/data/decode_region.cc — decoding only the part of a JPEG that a resize plan reads.
//
// A RandomResizedCrop box covers on average about half of the image, and a JPEG decoder can
// skip most of the work outside it: libjpeg-turbo's jpeg_skip_scanlines() skips the rows
// above the box (entropy decoding only), decoding stops after the box's last row, and
// jpeg_crop_scanline() limits the inverse DCT, upsampling and colour conversion to the iMCU
// columns around the box. The pixels must still be the ones a full decode (and PIL) gives.
// Inside the decoded region they are, except next to a cropped edge, where the chroma
// upsampler sees the edge as the image's border; so the region extends kColumnMargin
// pixels beyond the box on each side (more than one chroma sample at any iMCU width up to
// 32) and kRowMargin rows above it. The unit tests compare region and full decodes on random
// boxes for baseline and progressive files with 4:2:0, 4:2:2, 4:4:4 and grey sampling;
// layouts outside that set (CMYK, unusual sampling factors) are decoded whole.
//
// The TurboJPEG API used for whole images cannot crop, hence the libjpeg API here. Both are
// the same libjpeg-turbo, with the same (accurate) inverse DCT and fancy upsampling.
//
// With DecodeOptions::jpeg_dct_scale, a plan whose box still covers its resize target at 1/2,
// 1/4 or 1/8 of the size (dct_scale.h) is decoded at that scale (libjpeg's scale_denom: the
// inverse DCT outputs fewer pixels per block), region or whole, and the plan's box is rebased
// onto the reduced image. The margins count output pixels, so they stay wider than a chroma
// sample at every scale (and at reduced scales libjpeg-turbo produces 4:2:0 chroma at full
// resolution by a larger inverse DCT instead of upsampling it).
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "decode_checks.h"
#include "roost/data/dct_scale.h"
#include "roost/data/decode.h"

#ifdef ROOST_WITH_LIBJPEG
#include <jpeglib.h>
// jerror.h after jpeglib.h: the message codes (JWRN_JPEG_EOF).
#include <jerror.h>
#endif

namespace roost::data {

#ifdef ROOST_WITH_LIBJPEG
namespace {

bool is_jpeg(const uint8_t* bytes, size_t size) {
  return size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

bool covers_image(const CropBox& box, int height, int width) {
  return box.top == 0 && box.left == 0 && box.height == height && box.width == width;
}

constexpr int kColumnMargin = 32;
constexpr int kRowMargin = 16;

// libjpeg reports errors through error_exit, which must not return: it longjmps back to the
// setjmp of the function that made the call. Warnings only set a flag (libjpeg's default
// prints them).
struct JpegErrors {
  jpeg_error_mgr mgr;  // first member: libjpeg hands back &mgr
  jmp_buf jump;
  bool premature_end = false;
  char message[JMSG_LENGTH_MAX] = {0};
};

void on_error_exit(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

void on_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
    reinterpret_cast<JpegErrors*>(cinfo->err)->premature_end = true;
}

// Owns the decompressor. A zeroed struct is safe to destroy even if creation failed.
struct JpegDecompress {
  jpeg_decompress_struct cinfo{};
  JpegErrors errors;
  JpegDecompress() {
    cinfo.err = jpeg_std_error(&errors.mgr);
    errors.mgr.error_exit = on_error_exit;
    errors.mgr.emit_message = on_emit_message;
  }
  ~JpegDecompress() { jpeg_destroy_decompress(&cinfo); }
  JpegDecompress(const JpegDecompress&) = delete;
  JpegDecompress& operator=(const JpegDecompress&) = delete;
};

// Each function below holds the setjmp for the libjpeg calls it makes and touches only
// objects owned by its caller, so a longjmp skips no destructor. false = libjpeg error.
bool read_header(JpegDecompress& d, const uint8_t* bytes, size_t size) {
  if (setjmp(d.errors.jump)) return false;
  jpeg_create_decompress(&d.cinfo);
  jpeg_mem_src(&d.cinfo, const_cast<unsigned char*>(bytes), static_cast<unsigned long>(size));
  jpeg_read_header(&d.cinfo, TRUE);
  return true;
}

// Decodes rows y0..y1-1 of the columns around x0..x1-1 into `out`; *left receives the first
// decoded column (jpeg_crop_scanline widens the region to iMCU boundaries).
bool read_region(JpegDecompress& d, int y0, int y1, int x0, int x1, Image& out, int* left,
                 std::vector<JSAMPROW>& rows) {
  if (setjmp(d.errors.jump)) return false;
  jpeg_decompress_struct& c = d.cinfo;
  c.out_color_space = JCS_RGB;
  c.dct_method = JDCT_ISLOW;  // what PIL and decode_image use
  c.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&c);
  JDIMENSION x = static_cast<JDIMENSION>(x0), width = static_cast<JDIMENSION>(x1 - x0);
  if (width < c.output_width) jpeg_crop_scanline(&c, &x, &width);
  if (y0 > 0) jpeg_skip_scanlines(&c, static_cast<JDIMENSION>(y0));
  out.height = y1 - y0;
  out.width = static_cast<int>(width);
  out.pixels.resize(static_cast<size_t>(out.height) * out.width * 3);
  rows.resize(static_cast<size_t>(out.height));
  for (int r = 0; r < out.height; ++r) rows[r] = out.row(r);
  while (static_cast<int>(c.output_scanline) < y1) {
    const JDIMENSION at = c.output_scanline - static_cast<JDIMENSION>(y0);
    if (jpeg_read_scanlines(&c, rows.data() + at, static_cast<JDIMENSION>(y1) - c.output_scanline) == 0)
      break;  // cannot happen with a memory source; guards against a stuck loop
  }
  jpeg_abort_decompress(&c);  // the rows below the box are never decoded
  *left = static_cast<int>(x);
  return static_cast<int>(c.output_scanline) >= y1 || out.height == 0;
}

// The layouts the margins were verified for: YCbCr or grey, sampling factors up to 2.
bool region_supported(const jpeg_decompress_struct& c) {
  const bool colour = c.jpeg_color_space == JCS_YCbCr && c.num_components == 3;
  const bool grey = c.jpeg_color_space == JCS_GRAYSCALE && c.num_components == 1;
  return (colour || grey) && c.max_h_samp_factor <= 2 && c.max_v_samp_factor <= 2;
}

// Decodes the rows down to plan->box's bottom and the columns around it (the image is
// `width` pixels wide at the scale set in d.cinfo), and rebases plan->box onto the result.
Image decode_box(JpegDecompress& d, int width, ResizePlan* plan) {
  const CropBox box = plan->box;
  const int y0 = std::max(0, box.top - kRowMargin), y1 = box.top + box.height;
  const int x0 = std::max(0, box.left - kColumnMargin);
  const int x1 = std::min(width, box.left + box.width + kColumnMargin);
  Image region;
  int left = 0;
  std::vector<JSAMPROW> rows;
  if (!read_region(d, y0, y1, x0, x1, region, &left, rows))
    throw DecodeError(std::string("jpeg: ") + (d.errors.message[0] ? d.errors.message : "decoding stopped early"));
  if (d.errors.premature_end) throw DecodeError("jpeg: truncated file (Premature end of JPEG file)");
  plan->box.top -= y0;
  plan->box.left -= left;
  return region;
}

}  // namespace
#endif  // ROOST_WITH_LIBJPEG

bool jpeg_dct_scale_supported() {
#ifdef ROOST_WITH_LIBJPEG
  return true;
#else
  return false;
#endif
}

Image decode_for_plan(const uint8_t* bytes, size_t size, const PlanFn& make_plan, ResizePlan* plan,
                      const DecodeOptions& options) {
#ifdef ROOST_WITH_LIBJPEG
  if (bytes != nullptr && is_jpeg(bytes, size)) {
    JpegDecompress d;
    if (!read_header(d, bytes, size)) throw DecodeError(std::string("jpeg: ") + d.errors.message);
    const int height = static_cast<int>(d.cinfo.image_height), width = static_cast<int>(d.cinfo.image_width);
    check_dimensions(d.cinfo.image_width, d.cinfo.image_height, "jpeg");
    if (region_supported(d.cinfo)) {
      // decode_image refuses a file whose data ends early when libjpeg warns about it on
      // the way to the end; a region decode stops before the end, so check the structure.
      if (jpeg_is_truncated(bytes, size)) throw DecodeError("jpeg: truncated file (no end-of-image marker)");
      *plan = make_plan(height, width);
      const int scale = options.jpeg_dct_scale ? choose_dct_scale(*plan, height, width) : 1;
      if (scale == 1 && covers_image(plan->box, height, width)) return decode_image(bytes, size);
      if (scale > 1) {
        *plan = dct_scale_plan(*plan, height, width, scale);
        d.cinfo.scale_num = 1;
        d.cinfo.scale_denom = static_cast<unsigned int>(scale);
      }
      return decode_box(d, dct_scaled_size(width, scale), plan);
    }
  }
#endif
  Image image = decode_image(bytes, size);
  *plan = make_plan(image.height, image.width);
  return image;
}

}  // namespace roost::data
