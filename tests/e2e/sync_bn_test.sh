#!/usr/bin/env bash
# sync_bn_test.sh — distributed equivalence: 2 ranks with per-rank batch 4 and --sync-bn
# train the same model as 1 rank with batch 8 on the same sample order (the strided shards
# of the two ranks make up exactly the single rank's batch). After the step the parameters
# and BatchNorm statistics must agree within 1e-5. Without --sync-bn they must not (each
# rank's BatchNorm then sees only its 4 images), which shows the comparison can fail.
# One step, at a large learning rate so that a wrong gradient moves the parameters visibly:
# a randomly initialised ResNet-18 on batches of 8 images of 32 px (layer4's BatchNorm
# normalises 8 values per channel) amplifies float rounding step by step, about 70-fold per
# step on an AVX-512 host at lr 1e-4, where the convolution kernels round batches of 4 and
# of 8 differently: after five steps the two runs drifted apart by 5e-3 without any error,
# so several steps would measure that chaos rather than the synchronization.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 4 2 32   # 8 train images: one step of 8
COMMON=(--data-dir "$WORK/data" --epochs 1 --image-size 32 --resize-short 36 --workers 1 --threads 1
        --lr 0.02 --progress none --checkpoint-every 0)
run() {  # name np batch [extra...]
  local name=$1 np=$2 batch=$3; shift 3
  "$MPIRUN" -np "$np" "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/$name" --batch-size "$batch" "$@" \
    > "$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log"; fail "$name exited non-zero"; }
}
run one 1 8
run sync 2 4 --sync-bn
run plain 2 4

"$PYTHON" - "$WORK" <<'PY'
import sys
import h5py, numpy as np
work = sys.argv[1]
def load(name):
    f = h5py.File(f"{work}/{name}/last.h5", "r")
    return {k: f[k][()] for k in f.keys()}
one, sync, plain = load("one"), load("sync"), load("plain")
assert one.keys() == sync.keys()
def max_diff(a, b):
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64))))
               for k in a if not k.endswith("num_batches_tracked"))
moved = max(float(np.max(np.abs(v))) for v in one.values())
d_sync, d_plain = max_diff(one, sync), max_diff(one, plain)
print(f"max |np1 - np2 sync-bn| = {d_sync:.3g}; without sync-bn {d_plain:.3g}")
assert d_sync <= 1e-5, f"--sync-bn differs from the single-rank run by {d_sync}"
assert d_plain > 1e-3, f"per-rank BatchNorm should differ from the global batch (only {d_plain})"
assert one["bn1.num_batches_tracked"] == sync["bn1.num_batches_tracked"] == 1
print("ok: np=2 --sync-bn equals np=1 with the doubled batch")
PY
