#!/usr/bin/env python3
"""loader_peer.py — the torchvision side of loader_bench: the reference job's training input
pipeline (ImageFolder + RandomResizedCrop(224), RandomHorizontalFlip, ToTensor, Normalize)
through a DataLoader with num_workers=0 and one torch thread, i.e. images/s on one core.

    /usr/bin/python3 benchmarks/loader_peer.py --data-dir D [--epochs 3] [--json]

The first epoch warms the page cache and the allocator and is not counted; the median of the
rest is reported, as images per CPU-second of the process (steady on a shared machine) and
per wall-clock second. Decoding alone (PIL open + convert('RGB'), what ImageFolder's loader does)
is timed separately, so the transform's share shows.
"""
import argparse
import json
import statistics
import time

import PIL
import torch
import torchvision
from torchvision import datasets, transforms


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", required=True)
    p.add_argument("--epochs", type=int, default=3, help="counted epochs (one more warms up)")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--resize-short", type=int, default=0,
                   help="> 0: the val transform Resize(N) + CenterCrop(size) instead of RandomResizedCrop + flip")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    geometry = ([transforms.Resize(a.resize_short), transforms.CenterCrop(a.size)] if a.resize_short > 0 else
                [transforms.RandomResizedCrop(a.size), transforms.RandomHorizontalFlip()])
    transform = transforms.Compose(geometry + [
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    train = datasets.ImageFolder(a.data_dir, transform)
    loader = torch.utils.data.DataLoader(train, batch_size=a.batch_size, shuffle=True, num_workers=0)

    rates, wall_rates = [], []
    for epoch in range(a.epochs + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        n = 0
        for x, _ in loader:
            n += x.shape[0]
        if epoch > 0:
            rates.append(n / (time.process_time() - cpu_start))
            wall_rates.append(n / (time.perf_counter() - start))
    pipeline = statistics.median(rates)

    decode_rates = []
    for _ in range(a.epochs):
        cpu_start = time.process_time()
        for path, _ in train.samples:
            datasets.folder.pil_loader(path)
        decode_rates.append(len(train.samples) / (time.process_time() - cpu_start))
    decode = statistics.median(decode_rates)

    ms = 1e3 / pipeline
    decode_ms = 1e3 / decode
    result = {"impl": "torchvision", "torchvision": torchvision.__version__, "torch": torch.__version__,
              "pillow": PIL.__version__, "images": len(train), "img_s": pipeline,
              "wall_img_s": statistics.median(wall_rates), "ms": ms,
              "decode_ms": decode_ms, "transform_ms": ms - decode_ms}
    if a.json:
        print(json.dumps(result))
    else:
        print(f"torchvision {torchvision.__version__} / Pillow {PIL.__version__}: {pipeline:.1f} img/s per core "
              f"({decode_ms:.2f} ms decode + {ms - decode_ms:.2f} ms transform and batching per image)")


if __name__ == "__main__":
    main()
