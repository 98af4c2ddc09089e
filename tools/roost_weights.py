#!/usr/bin/env python3
"""roost_weights.py — converts between roost's HDF5 weight files (model.h5) and torchvision
state dicts (.pth), bit for bit.

    roost_weights.py to-pth model.h5 out.pth
        a torch.save'd OrderedDict in roost's key order, loadable with
        torchvision.models.<arch>(num_classes=N).load_state_dict(..., strict=True)
    roost_weights.py to-h5 in.pth out.h5 --arch resnet50 --classes cat,dog
                     [--image-size 224 --resize-short 256]
        a roost weight file, as roost's save_weights_h5 writes it

A roost weight file holds one dataset per state-dict entry, named as in torchvision
(float32, or int64 for num_batches_tracked; scalar entries as scalar datasets) and file
attributes: format = "roost-weights-1" (fixed-length string), arch (fixed-length string),
class_names and keys (variable-length UTF-8 string arrays; keys is the state-dict order,
since HDF5 lists datasets alphabetically), and optionally image_size and resize_short
(int64 scalars: the validation Resize/CenterCrop the weights were evaluated with).

Needs h5py and torch (Debian: python3-h5py python3-torch). Errors are one line on stderr,
exit status 1 (2 for a bad command line).
"""
import argparse
import collections
import os
import sys

FORMAT = "roost-weights-1"
ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")


class Failure(Exception):
    """An error to report as one line."""


def _str(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_roost_h5(path):
    """(OrderedDict of tensors in key order, attributes dict) of a roost weight file."""
    import h5py
    import numpy as np
    import torch

    if not os.path.isfile(path):
        raise Failure(f"{path} does not exist")
    if not h5py.is_hdf5(path):
        raise Failure(f"{path} is not an HDF5 file (truncated or corrupt?)")
    with h5py.File(path, "r") as f:
        if _str(f.attrs.get("format", b"")) != FORMAT:
            raise Failure(f"{path} is not a roost weights file (no format attribute '{FORMAT}')")
        for name in ("arch", "class_names", "keys"):
            if name not in f.attrs:
                raise Failure(f"{path} lacks the '{name}' attribute")
        attrs = {
            "arch": _str(f.attrs["arch"]),
            "class_names": [_str(c) for c in f.attrs["class_names"]],
        }
        for name in ("image_size", "resize_short"):
            if name in f.attrs:
                attrs[name] = int(f.attrs[name])
        tensors = collections.OrderedDict()
        for key in (_str(k) for k in f.attrs["keys"]):
            if key not in f or not isinstance(f[key], h5py.Dataset):
                raise Failure(f"{path} lists key {key} but has no such dataset")
            data = np.array(f[key][()])  # 0-d for scalar datasets
            if data.dtype not in (np.float32, np.float64, np.int64, np.int32):
                raise Failure(f"{path}: dataset {key} has type {data.dtype}, not one roost writes")
            tensors[key] = torch.from_numpy(data)  # np.array copied: contiguous, writable
    return tensors, attrs


def write_roost_h5(path, tensors, arch, class_names, image_size=0, resize_short=0):
    """Writes atomically (temporary file, then rename), as roost does."""
    import h5py
    import numpy as np

    tmp = path + ".tmp"
    try:
        with h5py.File(tmp, "w") as f:
            # Fixed-length ASCII strings, as roost's write_string_attr stores them.
            f.attrs.create("format", np.bytes_(FORMAT))
            f.attrs.create("arch", np.bytes_(arch))
            utf8 = h5py.string_dtype("utf-8")
            f.attrs.create("class_names", class_names, dtype=utf8)
            if image_size:
                f.attrs.create("image_size", np.int64(image_size))
            if resize_short:
                f.attrs.create("resize_short", np.int64(resize_short))
            for key, tensor in tensors.items():
                f.create_dataset(key, data=tensor.detach().cpu().contiguous().numpy())
            f.attrs.create("keys", list(tensors.keys()), dtype=utf8)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_pth(path):
    import torch

    if not os.path.isfile(path):
        raise Failure(f"{path} does not exist")
    with open(path, "rb") as f:
        if f.read(2) != b"PK":
            raise Failure(f"{path} is not a zip-format torch.save file (truncated or another format?)")
    try:
        # weights_only: tensors and containers, never arbitrary objects from the file.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for a bad file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise Failure(f"cannot read {path}: {first}")
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise Failure(f"{path} does not hold a state dict (a dict of tensors)")
    return state


def _listing(keys):
    shown = ", ".join(keys[:8])
    return shown + (f", ... ({len(keys)} in all)" if len(keys) > 8 else "")


def check_fits(state, arch, num_classes, origin):
    """Raises Failure unless torchvision's arch(num_classes) would load `state` strictly
    (same keys, same shapes); skipped when torchvision is not installed."""
    try:
        import torchvision
    except ImportError:
        return
    want = getattr(torchvision.models, arch)(num_classes=num_classes).state_dict()
    missing = [k for k in want if k not in state]
    unexpected = [k for k in state if k not in want]
    mismatched = [f"{k} (file {tuple(state[k].shape)}, model {tuple(v.shape)})"
                  for k, v in want.items() if k in state and state[k].shape != v.shape]
    problems = [f"{what}: {_listing(keys)}" for what, keys in
                (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", mismatched)) if keys]
    if problems:
        raise Failure(f"{origin} does not fit torchvision {arch}(num_classes={num_classes}): " + "; ".join(problems))


def to_pth(args):
    import torch

    tensors, attrs = read_roost_h5(args.model)
    if attrs["arch"] not in ARCHS:
        raise Failure(f"{args.model}: unknown architecture '{attrs['arch']}'")
    check_fits(tensors, attrs["arch"], len(attrs["class_names"]), args.model)
    torch.save(tensors, args.out)
    print(f"{args.out}: {attrs['arch']}, {len(attrs['class_names'])} classes, {len(tensors)} tensors")


def to_h5(args):
    import torch

    if args.arch not in ARCHS:
        raise Failure(f"--arch: unknown architecture '{args.arch}' (known: {', '.join(ARCHS)})")
    classes = args.classes.split(",")
    if any(not c for c in classes) or len(set(classes)) != len(classes):
        raise Failure(f"--classes: expected distinct non-empty names separated by commas, got '{args.classes}'")
    for name in ("image_size", "resize_short"):
        if getattr(args, name) < 0:
            raise Failure(f"--{name.replace('_', '-')} must not be negative")
    state = read_pth(args.pth)
    fc = state.get("fc.weight")
    if fc is None or fc.dim() != 2:
        raise Failure(f"{args.pth} has no 2-D fc.weight: not a ResNet state dict")
    if fc.shape[0] != len(classes):
        raise Failure(f"{args.pth} has {fc.shape[0]} outputs (fc.weight) but --classes names {len(classes)}")
    check_fits(state, args.arch, len(classes), args.pth)
    for key, tensor in state.items():
        if tensor.dtype not in (torch.float32, torch.float64, torch.int64, torch.int32):
            raise Failure(f"{args.pth}: {key} has type {tensor.dtype}; roost stores float32/float64/int64/int32")
    write_roost_h5(args.out, state, args.arch, classes, args.image_size, args.resize_short)
    print(f"{args.out}: {args.arch}, {len(classes)} classes, {len(state)} tensors")


def main():
    ap = argparse.ArgumentParser(prog="roost_weights.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("to-pth", help="roost model.h5 -> torchvision state dict (.pth)")
    p.add_argument("model")
    p.add_argument("out")
    p.set_defaults(run=to_pth)
    h = sub.add_parser("to-h5", help="torchvision state dict (.pth) -> roost model.h5")
    h.add_argument("pth")
    h.add_argument("out")
    h.add_argument("--arch", required=True, help="|".join(ARCHS))
    h.add_argument("--classes", required=True, help="class names in class-index order, comma-separated")
    h.add_argument("--image-size", type=int, default=0, help="validation crop size to record (0: none)")
    h.add_argument("--resize-short", type=int, default=0, help="validation Resize() size to record (0: none)")
    h.set_defaults(run=to_h5)
    args = ap.parse_args()
    try:
        import h5py  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        print(f"roost_weights.py: error: {e.name} is not installed (Debian: python3-h5py python3-torch)",
              file=sys.stderr)
        return 1
    try:
        args.run(args)
    except Failure as e:
        print(f"roost_weights.py: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        what = f"{e.filename}: {e.strerror}" if e.filename and e.strerror else str(e).strip().splitlines()[0]
        print(f"roost_weights.py: error: {what}", file=sys.stderr)
        return 1
    except RuntimeError as e:  # torch.save into a missing folder, a full disk, ...
        print(f"roost_weights.py: error: {str(e).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
