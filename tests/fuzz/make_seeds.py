#!/usr/bin/env python3
# tests/fuzz/make_seeds.py — the seeds roost's own writers cannot make: a tiny torch.save'd state
# dict (and its data.pkl alone, which pth_fuzz wraps in an archive) with every tensor kind the
# reader handles, and JPEG/PNG layouts PIL writes that roost's encoders do not (grey, CMYK,
# progressive, other chroma sampling, palette with transparency, alpha, 16-bit, 1-bit).
# Usage: make_seeds.py OUT_DIR   (needs torch for the .pth seeds, PIL for the images; each
# part is skipped with a note when its module is missing)
import collections
import io
import os
import sys
import zipfile


def pth_seeds(out):
    import torch
    os.makedirs(out, exist_ok=True)
    base = torch.arange(6, dtype=torch.float32).reshape(2, 3) + 1
    state = collections.OrderedDict()
    state["conv1.weight"] = torch.arange(8, dtype=torch.float32).reshape(2, 1, 2, 2) / 3 + 0.5
    state["bn1.running_var"] = torch.tensor([1.5, 2.0], dtype=torch.float64)
    state["bn1.num_batches_tracked"] = torch.tensor(4)               # 0-d int64
    state["half"] = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float16)
    state["mask"] = torch.tensor([True, False, True])
    state["transposed"] = base.t()                                   # strides (1, 3)
    state["row"] = base[1]                                           # storage offset 3
    state["param"] = torch.nn.Parameter(torch.tensor([0.25, 0.75, 1.0, 2.0]))
    # Every storage stays below the 256 bytes pth_fuzz gives each wrapped storage.
    path = os.path.join(out, "tiny.pth")
    torch.save(state, path)
    with zipfile.ZipFile(path) as z:
        pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        with open(os.path.join(out, "tiny.pkl"), "wb") as f:
            f.write(z.read(pkl))


def decode_seeds(out):
    from PIL import Image
    os.makedirs(out, exist_ok=True)
    rgb = Image.frombytes("RGB", (8, 6), bytes((i * 29 + 3) % 256 for i in range(8 * 6 * 3)))
    rgb.convert("L").save(os.path.join(out, "grey.jpg"), quality=80)
    rgb.save(os.path.join(out, "progressive.jpg"), progressive=True, quality=80)
    rgb.save(os.path.join(out, "444.jpg"), subsampling=0, quality=80)
    rgb.save(os.path.join(out, "422.jpg"), subsampling=1, quality=80)
    rgb.convert("CMYK").save(os.path.join(out, "cmyk.jpg"), quality=80)
    pal = rgb.convert("P", palette=Image.ADAPTIVE, colors=4)
    pal.save(os.path.join(out, "palette_trns.png"), transparency=0)
    rgb.convert("RGBA").save(os.path.join(out, "rgba.png"))
    rgb.convert("LA").save(os.path.join(out, "grey_alpha.png"))
    rgb.convert("L").convert("I").save(os.path.join(out, "grey16.png"))  # 16-bit grey
    rgb.convert("1").save(os.path.join(out, "bilevel.png"))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py OUT_DIR")
    out = sys.argv[1]
    for name, make, sub in (("torch", pth_seeds, "pth"), ("PIL", decode_seeds, "decode")):
        try:
            make(os.path.join(out, sub))
        except ImportError:
            print(f"make_seeds.py: no {name} module: {sub} seeds from it skipped", file=sys.stderr)


if __name__ == "__main__":
    main()
