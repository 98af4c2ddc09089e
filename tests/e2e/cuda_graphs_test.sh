#!/usr/bin/env bash
# cuda_graphs_test.sh — the graph step's plumbing, on a machine without a GPU: with the host
# emulation (ROOST_CUDA_GRAPHS_EMULATE=1, step_graph.h) `roost train --cuda-graphs on` warms
# up, "captures" and replays its step from static inputs, learning rate, sums and one flat
# gradient buffer, averaging that buffer over the ranks itself; the short last batch of each
# epoch takes the eager step. On 1 and 2 ranks, three epochs train bitwise the same weights and
# losses as --cuda-graphs off. On 2 ranks an unreadable image makes one rank's batch short once
# an epoch: the ranks agree to take that step eagerly together (else their collectives would
# not match and the run would hang). Without the emulation, --cuda-graphs on is refused on a
# CPU in one line, and a bad value is named.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 7 2 32
COMMON=(--data-dir "$WORK/data" --epochs 3 --image-size 32 --resize-short 36 --workers 1 --threads 1
        --batch-size 4 --lr 0.02 --nesterov --weight-decay 1e-3 --warmup-epochs 1 --progress none
        --checkpoint-every 0 --shared-update off)
for np in 1 2; do
  if [ "$np" = 2 ]; then
    COMMON+=(--batch-size 2)
    printf 'not a jpeg' > "$WORK/data/train/$(ls "$WORK/data/train" | head -1)/zz-unreadable.jpg"
  fi
  for mode in on off; do
    out="$WORK/np$np-$mode"
    ROOST_CUDA_GRAPHS_EMULATE=1 timeout 120 "$MPIRUN" -np "$np" "$ROOST" train "${COMMON[@]}" --output-dir "$out" \
      --cuda-graphs "$mode" > "$out.log" 2>&1 || { cat "$out.log"; fail "np $np --cuda-graphs $mode exited non-zero"; }
  done
  grep -q "replayed as a CUDA graph from step 1 of epoch 1" "$WORK/np$np-on.log" ||
    { cat "$WORK/np$np-on.log"; fail "np $np: the step was not captured after three warm-up steps"; }
  ! grep -q "CUDA graph" "$WORK/np$np-off.log" || fail "np $np: --cuda-graphs off used a graph"
  "$PYTHON" - "$WORK/np$np-on" "$WORK/np$np-off" <<'PY'
import json, sys
import h5py, numpy as np
on, off = sys.argv[1], sys.argv[2]
def load(d):
    f = h5py.File(f"{d}/last.h5", "r")
    return {k: f[k][()] for k in f.keys()}
a, b = load(on), load(off)
assert a.keys() == b.keys() and a
differ = [k for k in a if not np.array_equal(a[k], b[k])]
assert not differ, f"graph steps trained different weights: {differ[:5]}"
la = [json.loads(l) for l in open(f"{on}/metrics.jsonl")]
lb = [json.loads(l) for l in open(f"{off}/metrics.jsonl")]
ta = [m["train_loss"] for m in la if "train_loss" in m]
tb = [m["train_loss"] for m in lb if "train_loss" in m]
assert len(ta) == 3 and ta == tb, (ta, tb)
print(f"ok: {len(a)} tensors and the train losses {ta} equal")
PY
done

if "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/refused" --cuda-graphs on > "$WORK/refused.log" 2>&1; then
  fail "--cuda-graphs on trained on a CPU"
fi
grep -q "cuda-graphs on: the model trains on the CPU" "$WORK/refused.log" || { cat "$WORK/refused.log"; fail "no reason given"; }
if "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/bad" --cuda-graphs sometimes > "$WORK/bad.log" 2>&1; then
  fail "--cuda-graphs sometimes was accepted"
fi
grep -q "cuda-graphs must be auto, on or off (got 'sometimes')" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "bad value not named"; }
echo "ok: --cuda-graphs on refused on a CPU, a bad value named"
