// roost/data/dct_scale.h — which reduced scale a JPEG may be decoded at for a resize plan,
// and the plan rebased onto that scale (`--jpeg-dct-scale on`).
//
// libjpeg-turbo can run its inverse DCT at 1/2, 1/4 or 1/8 of the image's size, which costs a
// fraction of a full decode and averages each output pixel over the N×N source pixels it
// covers. The pixels then differ from PIL's (a decode at full size followed by the antialiased
// resize), so this is an option, off by default.
#pragma once

#include "roost/data/transforms.h"

namespace roost::data {

// The reductions libjpeg-turbo's DCT scaling offers (scale_num = 1, scale_denom = N).
inline constexpr int kDctScales[] = {8, 4, 2};

// Side of an image of `size` pixels decoded at 1/scale: libjpeg rounds up (jdiv_round_up).
inline int dct_scaled_size(int size, int scale) { return (size + scale - 1) / scale; }

// `plan` (for an image of height × width) with its box in the coordinates of the image decoded
// at 1/scale: each edge is divided by scale and rounded to the nearest pixel (halves up), the
// far edges clamped to the scaled image; a box that would become empty keeps one pixel. The
// resize target, window and flip are unchanged: the smaller box is resized to the same output.
ResizePlan dct_scale_plan(const ResizePlan& plan, int height, int width, int scale);

// The largest of 8, 4, 2 whose scaled box (as dct_scale_plan computes it) is still at least
// the resize target on both axes, so nothing is upscaled that a full decode would have
// shrunk; 1 when none is (the box shrinks by less than 2× on some axis).
int choose_dct_scale(const ResizePlan& plan, int height, int width);

}  // namespace roost::data
