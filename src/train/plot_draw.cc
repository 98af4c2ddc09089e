// src/train/plot_draw.cc — the shared cairo drawing pieces of roost's figures (see plot_draw.h).
#include "plot_draw.h"

#include <cmath>
#include <cstdint>

#include "roost/core/error.h"
#include "roost/core/fs.h"

namespace roost::train {

namespace {
constexpr double kDiscRadius = 4.0, kSquareHalf = 3.5, kHalo = 1.5;

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}
// The length of the valid, printable UTF-8 character at s[i], or 0 (a control character,
// a stray or truncated byte, an overlong form, a surrogate).
size_t printable_char_length(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return c >= 0x20 && c != 0x7F ? 1 : 0;
  size_t len = 0;
  uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
  else return 0;
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (b & 0x3F);
  }
  static constexpr uint32_t kShortest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kShortest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void marker_path(cairo_t* cr, double x, double y, Marker marker, double grow) {
  if (marker == Marker::kDisc) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, kDiscRadius + grow, 0, 2 * M_PI);
  } else {
    const double h = kSquareHalf + grow;
    cairo_rectangle(cr, x - h, y - h, 2 * h, 2 * h);
  }
}

}  // namespace

void set_color(cairo_t* cr, PlotColor c) { cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0); }

void set_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, kFontFace, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

// cairo refuses text that is not UTF-8 (and then draws nothing more); titles hold
// user-chosen names, so what is not printable UTF-8 becomes '?'.
std::string printable_utf8(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t len = printable_char_length(s, i);
    out += len ? s.substr(i, len) : "?";
    i += len ? len : 1;
  }
  return out;
}

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

// Text on `baseline`, its left end, middle or right end at x.
void draw_text(cairo_t* cr, double x, double baseline, const std::string& s, Align align, PlotColor color) {
  const double w = text_width(cr, s);
  cairo_move_to(cr, align == Align::kLeft ? x : align == Align::kCenter ? x - w / 2 : x - w, baseline);
  set_color(cr, color);
  cairo_show_text(cr, s.c_str());
}

// The baseline offset that centres digits vertically on a line (half their height).
double digit_half_height(cairo_t* cr) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, "0", &e);
  return -e.y_bearing / 2;
}

// A one-pixel line on whole pixels: cairo's coordinates name pixel edges, so a crisp
// horizontal or vertical line runs through pixel centres.
void crisp_line(cairo_t* cr, double x0, double y0, double x1, double y1, PlotColor color) {
  set_color(cr, color);
  cairo_set_line_width(cr, 1.0);
  cairo_move_to(cr, std::floor(x0) + 0.5, std::floor(y0) + 0.5);
  cairo_line_to(cr, std::floor(x1) + 0.5, std::floor(y1) + 0.5);
  cairo_stroke(cr);
}

void draw_marker(cairo_t* cr, double x, double y, Marker marker, PlotColor color, bool halo) {
  // A white halo keeps the marker apart from lines that cross it.
  if (halo) {
    marker_path(cr, x, y, marker, kHalo);
    set_color(cr, kBackground);
    cairo_fill(cr);
  }
  marker_path(cr, x, y, marker, 0);
  set_color(cr, color);
  cairo_fill(cr);
}

void save_png(cairo_surface_t* surface, const std::string& path, const std::string& what) {
  std::string bytes;
  cairo_surface_flush(surface);
  const cairo_status_t written = cairo_surface_write_to_png_stream(surface, append_bytes, &bytes);
  if (written != CAIRO_STATUS_SUCCESS)
    ROOST_THROW("cannot encode ", what, " for ", path, ": ", cairo_status_to_string(written));
  try {
    write_file_atomic(path, bytes);
  } catch (const Error& e) {
    ROOST_THROW("cannot write ", what, " to ", path, ": ", e.message());
  }
}

}  // namespace roost::train
