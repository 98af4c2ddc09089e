#!/usr/bin/env bash
# sync_bn_test.sh — distributed equivalence: 2 ranks with per-rank batch 4 and --sync-bn
# train the same model as 1 rank with batch 8 on the same sample order (the strided shards
# of the two ranks make up exactly the single rank's batches). After 5 steps the parameters
# and BatchNorm statistics must agree within 1e-5. Without --sync-bn they must not (each
# rank's BatchNorm then sees only its 4 images), which shows the comparison can fail.
# The learning rate is small on purpose: a randomly initialised ResNet-18 on batches of 8
# images of 32 px amplifies float rounding step by step (at lr 1e-3 even two runs that only
# sum the BatchNorm statistics in a different order drift apart by ~1e-5 in two steps), so a
# larger rate would measure that chaos rather than the synchronization.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 20 2 32   # 40 train images: 5 steps of 8
COMMON=(--data-dir "$WORK/data" --epochs 1 --image-size 32 --resize-short 36 --workers 1 --threads 1
        --lr 0.0001 --progress none --checkpoint-every 0)
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
assert one["bn1.num_batches_tracked"] == sync["bn1.num_batches_tracked"] == 5
print("ok: np=2 --sync-bn equals np=1 with the doubled batch")
PY
