// src/train/plot_font.h — the 5×8 bitmap font the training-curve plots write their text in:
// printable ASCII, each glyph 5 columns by 7 rows above the baseline plus one descender row.
#pragma once

namespace roost::train::font {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 8;  // rows 0-6 sit on the baseline, row 7 is a descender
inline constexpr int kAdvance = 6;      // one empty column between glyphs

// Whether pixel (x, y) of character c's glyph is set; characters outside printable ASCII
// are drawn as '?'.
bool glyph_pixel(char c, int x, int y);

}  // namespace roost::train::font
