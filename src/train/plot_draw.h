// src/train/plot_draw.h — the cairo drawing pieces every roost figure shares: colours, the
// font, text, crisp grid lines, markers and PNG encoding, so that the training curves and
// the sweep charts look alike.
#pragma once

#include <cairo.h>

#include <string>

#include "roost/train/plot.h"

namespace roost::train {

inline constexpr PlotColor kBackground{255, 255, 255};
inline constexpr PlotColor kInk{35, 35, 35};    // titles and tick labels
inline constexpr PlotColor kMuted{95, 95, 95};  // axis titles, "no data"
inline constexpr PlotColor kFrame{150, 150, 150};
inline constexpr PlotColor kGrid{230, 230, 230};
// DejaVu Sans (Debian: fonts-dejavu-core) through fontconfig; another sans-serif face
// stands in where it is missing.
inline constexpr char kFontFace[] = "DejaVu Sans";
inline constexpr double kLineWidth = 2.5;  // wide enough that every stretch keeps a solid core

enum class Marker { kDisc, kSquare };
enum class Align { kLeft, kCenter, kRight };

struct SurfaceFree {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextFree {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};

void set_color(cairo_t* cr, PlotColor c);
void set_font(cairo_t* cr, double size, bool bold = false);
// cairo refuses text that is not UTF-8 (and then draws nothing more); titles hold
// user-chosen names, so what is not printable UTF-8 becomes '?'.
std::string printable_utf8(const std::string& s);
double text_width(cairo_t* cr, const std::string& s);
// Text on `baseline`, its left end, middle or right end at x.
void draw_text(cairo_t* cr, double x, double baseline, const std::string& s, Align align, PlotColor color);
// The baseline offset that centres digits vertically on a line (half their height).
double digit_half_height(cairo_t* cr);
// A one-pixel line on whole pixels.
void crisp_line(cairo_t* cr, double x0, double y0, double x1, double y1, PlotColor color);
void draw_marker(cairo_t* cr, double x, double y, Marker marker, PlotColor color, bool halo);
// Encodes the surface as PNG and replaces `path` atomically; Error naming `what` and `path`.
void save_png(cairo_surface_t* surface, const std::string& path, const std::string& what);

}  // namespace roost::train
