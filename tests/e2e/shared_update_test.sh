#!/usr/bin/env bash
# shared_update_test.sh — `roost train` on 2 ranks with the shared update (the default on one
# node: parameters and momentum in memory both ranks map, each rank stepping its share) trains
# bitwise the same model as --shared-update off (every rank averages and steps everything):
# two epochs with momentum, Nesterov, weight decay and a warm-up that changes the learning rate
# every step (the shared update steps during backward, so the step's rate must be set first).
# summary.json and the log say which way each run stepped.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 6 2 32
COMMON=(--data-dir "$WORK/data" --epochs 2 --image-size 32 --resize-short 36 --workers 1 --threads 1
        --batch-size 2 --lr 0.02 --nesterov --weight-decay 1e-3 --warmup-epochs 2 --progress none
        --checkpoint-every 0)
for mode in auto off; do
  "$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/$mode" --shared-update "$mode" \
    > "$WORK/$mode.log" 2>&1 || { cat "$WORK/$mode.log"; fail "--shared-update $mode exited non-zero"; }
done
if grep -q "lacks AVX2/FMA" "$WORK/auto.log"; then echo "SKIP: this CPU has no AVX2/FMA"; exit 77; fi
grep -q "optimizer step: shared" "$WORK/auto.log" || { cat "$WORK/auto.log"; fail "auto did not share the step"; }
grep -q "shared update off: --shared-update off" "$WORK/off.log" || { cat "$WORK/off.log"; fail "off did not say so"; }

"$PYTHON" - "$WORK" <<'PY'
import json, sys
import h5py, numpy as np
work = sys.argv[1]
def load(name):
    f = h5py.File(f"{work}/{name}/last.h5", "r")
    return {k: f[k][()] for k in f.keys()}
shared, plain = load("auto"), load("off")
assert shared.keys() == plain.keys() and shared
differ = [k for k in shared if not np.array_equal(shared[k], plain[k])]
assert not differ, f"the shared update trained different weights: {differ[:5]}"
summaries = {m: json.load(open(f"{work}/{m}/summary.json")) for m in ("auto", "off")}
assert summaries["auto"]["shared_update"] is True and summaries["off"]["shared_update"] is False, summaries
assert summaries["auto"]["final"]["train_loss"] == summaries["off"]["final"]["train_loss"]
print(f"ok: {len(shared)} tensors bitwise equal after 2 epochs; shared_update true / false in summary.json")
PY
