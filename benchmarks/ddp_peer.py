#!/usr/bin/env python3
"""ddp_peer.py — the PyTorch DistributedDataParallel version of `roost train`'s default job, for
side-by-side benchmarks (benchmarks/compare_ddp.sh): launched by the same mpirun, one process
per rank, Gloo backend on CPU.

    mpirun -np 2 -x MASTER_ADDR=127.0.0.1 -x MASTER_PORT=29500 /usr/bin/python3 benchmarks/ddp_peer.py \
        --data-dir D --output-dir OUT [--image-size 224] [--resize-short 256] [--batch-size 4] \
        [--epochs 2] [--threads 1] [--workers 1] [--lr 0.001] [--momentum 0.9] [--seed 42]

The job is what roost train does by default, in the reference script's PyTorch idioms:
torchvision ResNet-18 with fc sized to the dataset's classes, initialised from scratch (roost
starts from scratch unless given --pretrained), ImageFolder(D/train) with RandomResizedCrop(size),
RandomHorizontalFlip, ToTensor, Normalize(ImageNet mean/std); D/val with Resize(resize-short),
CenterCrop(size); DistributedSampler per epoch; a DataLoader with --workers worker processes
per rank; cross-entropy, SGD(lr, momentum), StepLR(7, 0.1); DDP's default 25 MB gradient
buckets reduced over Gloo while backward runs; torch.set_num_threads(--threads) on every rank.

Timing follows roost's metrics: an epoch's train images/s is the images all ranks trained on
divided by rank 0's time from the epoch's start (before the DataLoader starts its workers) to
the end of its last optimizer step; validation is not in it but is in epoch_time_s. Validation
runs on a disjoint shard per rank (rank::world), summed over ranks. Rank and world size come
from OMPI_COMM_WORLD_RANK/SIZE (mpirun) or RANK/WORLD_SIZE (torchrun); MASTER_ADDR/MASTER_PORT
default to 127.0.0.1:29500.

Rank 0 writes OUT/metrics.jsonl (one line per epoch, roost's key names) and OUT/summary.json,
which adds each rank's self-reported peak RSS (getrusage of the process and of its reaped
DataLoader workers); benchmarks/peak_mem.py measures whole process trees the same way for
both engines.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torchvision
from torch.nn.parallel import DistributedDataParallel
from torchvision import datasets, transforms

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def env_int(*keys, default):
    for k in keys:
        if os.environ.get(k, "").isdigit():
            return int(os.environ[k])
    return default


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True, help="ImageFolder root with train/ and val/")
    p.add_argument("--output-dir", required=True)
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--resize-short", type=int, default=0,
                   help="val Resize() of the short side (default: image-size * 256 / 224, rounded)")
    p.add_argument("--batch-size", type=int, default=4, help="images per rank per step")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads per rank")
    p.add_argument("--workers", type=int, default=1, help="DataLoader worker processes per rank")
    p.add_argument("--persistent-workers", action="store_true", help="keep the workers across epochs")
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--lr-step", type=int, default=7)
    p.add_argument("--lr-gamma", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    if a.resize_short <= 0:
        a.resize_short = int(round(a.image_size * 256 / 224))
    return a


def rank_maxrss_mib():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"process_mib": round(own, 1), "largest_worker_mib": round(workers, 1)}


def main():
    a = parse_args()
    rank = env_int("OMPI_COMM_WORLD_RANK", "RANK", default=0)
    world = env_int("OMPI_COMM_WORLD_SIZE", "WORLD_SIZE", default=1)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    torch.set_num_threads(a.threads)
    dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world)

    train_tf = transforms.Compose([
        transforms.RandomResizedCrop(a.image_size), transforms.RandomHorizontalFlip(),
        transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    val_tf = transforms.Compose([
        transforms.Resize(a.resize_short), transforms.CenterCrop(a.image_size),
        transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    train_set = datasets.ImageFolder(os.path.join(a.data_dir, "train"), train_tf)
    val_set = datasets.ImageFolder(os.path.join(a.data_dir, "val"), val_tf)
    classes = len(train_set.classes)
    sampler = torch.utils.data.distributed.DistributedSampler(
        train_set, num_replicas=world, rank=rank, shuffle=True, seed=a.seed)
    loader_kw = dict(batch_size=a.batch_size, num_workers=a.workers,
                     persistent_workers=a.persistent_workers and a.workers > 0)
    train_loader = torch.utils.data.DataLoader(train_set, sampler=sampler, **loader_kw)
    val_shard = torch.utils.data.Subset(val_set, list(range(rank, len(val_set), world)))
    val_loader = torch.utils.data.DataLoader(val_shard, shuffle=False, **loader_kw)

    torch.manual_seed(a.seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    net = getattr(torchvision.models, a.arch)(num_classes=classes)
    model = DistributedDataParallel(net)
    criterion = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=a.lr_step, gamma=a.lr_gamma)

    if rank == 0:
        os.makedirs(a.output_dir, exist_ok=True)
        metrics = open(os.path.join(a.output_dir, "metrics.jsonl"), "w")
        print(f"ddp_peer: torch {torch.__version__}, {a.arch}, {classes} classes, {len(train_set)} train / "
              f"{len(val_set)} val images, {world} ranks x {a.threads} thread(s), {a.workers} worker(s), "
              f"batch {a.batch_size}/rank, {a.image_size}px", flush=True)
    history = []
    run_start = time.perf_counter()
    for epoch in range(a.epochs):
        epoch_start = time.perf_counter()
        model.train()
        sampler.set_epoch(epoch)
        sums = torch.zeros(6, dtype=torch.float64)  # train loss, correct, count; val loss, correct, count
        for x, y in train_loader:
            opt.zero_grad()
            logits = model(x)
            loss = criterion(logits, y)
            loss.backward()
            opt.step()
            sums[0] += loss.item() * x.shape[0]
            sums[1] += (logits.argmax(1) == y).sum().item()
            sums[2] += x.shape[0]
        train_time = time.perf_counter() - epoch_start
        lr = opt.param_groups[0]["lr"]
        sched.step()

        net.eval()  # DDP already broadcast rank 0's BatchNorm buffers at the last forward
        with torch.no_grad():
            for x, y in val_loader:
                logits = net(x)
                sums[3] += torch.nn.functional.cross_entropy(logits, y, reduction="sum").item()
                sums[4] += (logits.argmax(1) == y).sum().item()
                sums[5] += x.shape[0]
        dist.all_reduce(sums)
        s = sums.tolist()
        record = {"epoch": epoch + 1, "train_loss": s[0] / max(s[2], 1), "train_acc": s[1] / max(s[2], 1),
                  "val_loss": s[3] / max(s[5], 1), "val_acc": s[4] / max(s[5], 1), "lr": lr,
                  "momentum": a.momentum, "images_per_sec": s[2] / train_time,
                  "epoch_time_s": time.perf_counter() - epoch_start, "train_time_s": train_time}
        history.append(record)
        if rank == 0:
            metrics.write(json.dumps(record) + "\n")
            metrics.flush()
            print(f"epoch {epoch + 1}/{a.epochs}: train loss {record['train_loss']:.4f} acc "
                  f"{record['train_acc']:.4f} | val loss {record['val_loss']:.4f} acc {record['val_acc']:.4f} | "
                  f"{record['images_per_sec']:.2f} img/s", flush=True)

    rss = [None] * world
    dist.all_gather_object(rss, rank_maxrss_mib())
    if rank == 0:
        counted = history[1:] if len(history) > 1 else history
        summary = {
            "engine": "pytorch-ddp", "torch": torch.__version__, "torchvision": torchvision.__version__,
            "backend": "gloo", "world_size": world, "config": vars(a), "classes": classes,
            "train_images": len(train_set), "val_images": len(val_set),
            "images_per_sec_median": statistics.median(r["images_per_sec"] for r in counted),
            "epoch_time_s_median": statistics.median(r["epoch_time_s"] for r in counted),
            "epochs_counted": [r["epoch"] for r in counted],
            "final_val_acc": history[-1]["val_acc"], "best_val_acc": max(r["val_acc"] for r in history),
            "wall_time_s": time.perf_counter() - run_start, "peak_rss_self_reported": rss, "history": history,
        }
        with open(os.path.join(a.output_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        metrics.close()
    dist.barrier()
    # torch 1.13 can deadlock while destroying the Gloo process group after DDP (the Reducer's
    # destructor waits on the group's lock while a Gloo thread waits for the GIL): everything
    # is written by now, so leave without tearing down.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
