#!/usr/bin/env python3
"""train_peer.py — the Python torch peer of train_bench's synthetic mode: the same model,
batch, precision and memory format, trained in eager PyTorch with autocast and SGD, so the
two throughputs are measured on the same GPU in the same run.

    python3 benchmarks/train_peer.py --arch resnet50 --batch-size 128 --amp bf16 --channels-last
    python3 benchmarks/train_peer.py ... --compile     # the model through torch.compile

--compile needs torch >= 2.0 (the peer says so and exits 3 without it); its first steps
compile, so more warm-up steps are taken (--compile-warmup).
"""
import argparse
import json
import time

import torch
import torchvision


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"])
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-cudnn-benchmark", action="store_true")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (torch >= 2.0)")
    p.add_argument("--compile-warmup", type=int, default=15)
    a = p.parse_args()
    if a.compile and not hasattr(torch, "compile"):
        print(f"torch {torch.__version__} has no torch.compile")
        raise SystemExit(3)

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # Same setting as roost: fixed shapes, so let cuDNN pick its fastest algorithms.
    torch.backends.cudnn.benchmark = not a.no_cudnn_benchmark
    net = getattr(torchvision.models, a.arch)(num_classes=1000).to(dev)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    model = torch.compile(net) if a.compile else net
    x = torch.randn(a.batch_size, 3, a.image_size, a.image_size, device=dev).contiguous(memory_format=fmt)
    y = torch.randint(0, 1000, (a.batch_size,), device=dev)
    dtype = torch.float16 if a.amp == "fp16" else torch.bfloat16
    if hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
        scaler = torch.amp.GradScaler(dev.type, enabled=a.amp == "fp16")
    else:
        scaler = torch.cuda.amp.GradScaler(enabled=a.amp == "fp16")

    def step():
        opt.zero_grad(set_to_none=False)
        with torch.autocast(dev.type, dtype=dtype, enabled=a.amp != "off"):
            logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.float(), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    net.train()
    for _ in range(max(a.warmup, a.compile_warmup) if a.compile else a.warmup):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    rate = a.batch_size * a.steps / (time.perf_counter() - t0)
    if a.json:
        print(json.dumps({"arch": a.arch, "batch": a.batch_size, "amp": a.amp,
                          "channels_last": a.channels_last, "torch": torch.__version__,
                          "mode": "compile" if a.compile else "eager", "img_s": rate}))
    else:
        print(f"python torch {torch.__version__} {'compiled' if a.compile else 'eager'} {a.arch} "
              f"batch {a.batch_size} {a.amp} {'NHWC' if a.channels_last else 'NCHW'}: {rate:.1f} img/s")


if __name__ == "__main__":
    main()
