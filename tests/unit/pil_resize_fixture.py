#!/usr/bin/python3
"""pil_resize_fixture.py — the Python peer of roost's preprocessing tests.

Runs the reference job's own code (Pillow's resize, torchvision's transforms) on inputs the
C++ tests write, so the tests compare roost with the real thing rather than with a
re-statement of it. Commands:

  resize MANIFEST
      One case per line:  IN OUT HEIGHT WIDTH train TOP LEFT H W SIZE_H SIZE_W FLIP
                     or:  IN OUT HEIGHT WIDTH val RESIZE_SHORT CROP
      IN holds raw RGB bytes (HEIGHT x WIDTH x 3); OUT receives the raw RGB result of
      torchvision's resized_crop (+ hflip) or Resize(RESIZE_SHORT) + CenterCrop(CROP).
  crops COUNT SEED HEIGHT WIDTH [HEIGHT WIDTH ...]
      After torch.manual_seed(SEED), prints for each size COUNT lines "top left h w" from
      RandomResizedCrop.get_params (default scale and ratio).
  valsize HEIGHT WIDTH RESIZE_SHORT CROP [HEIGHT WIDTH RESIZE_SHORT CROP ...]
      Prints one line "resized_h resized_w top left" per group, as Resize + CenterCrop
      compute them.
One process answers many queries: importing torch takes seconds.
"""
import sys

import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image


def run_resize(manifest):
    with open(manifest) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            src, dst, height, width, mode = parts[0], parts[1], int(parts[2]), int(parts[3]), parts[4]
            with open(src, "rb") as raw:
                img = Image.frombytes("RGB", (width, height), raw.read())
            if mode == "train":
                top, left, h, w, size_h, size_w, flip = (int(v) for v in parts[5:12])
                out = F.resized_crop(img, top, left, h, w, [size_h, size_w],
                                     T.InterpolationMode.BILINEAR)
                if flip:
                    out = F.hflip(out)
            elif mode == "val":
                resize_short, crop = int(parts[5]), int(parts[6])
                out = T.CenterCrop(crop)(T.Resize(resize_short)(img))
            else:
                raise SystemExit(f"unknown mode {mode}")
            with open(dst, "wb") as raw:
                raw.write(out.tobytes())


def run_crops(count, seed, sizes):
    torch.manual_seed(seed)
    crop = T.RandomResizedCrop(224)
    lines = []
    for height, width in zip(sizes[0::2], sizes[1::2]):
        dummy = torch.empty((1, height, width), dtype=torch.uint8)
        for _ in range(count):
            i, j, h, w = T.RandomResizedCrop.get_params(dummy, crop.scale, crop.ratio)
            lines.append(f"{i} {j} {h} {w}")
    print("\n".join(lines))


def run_valsize(groups):
    for height, width, resize_short, crop in zip(*(groups[k::4] for k in range(4))):
        resized_h, resized_w = F._compute_resized_output_size((height, width), [resize_short])
        top = int(round((resized_h - crop) / 2.0))
        left = int(round((resized_w - crop) / 2.0))
        print(resized_h, resized_w, top, left)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    command = argv[1]
    if command == "resize":
        run_resize(argv[2])
    elif command == "crops":
        numbers = [int(v) for v in argv[2:]]
        run_crops(numbers[0], numbers[1], numbers[2:])
    elif command == "valsize":
        run_valsize([int(v) for v in argv[2:]])
    else:
        raise SystemExit(f"unknown command {command}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
