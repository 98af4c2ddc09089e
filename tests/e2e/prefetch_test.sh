#!/usr/bin/env bash
# prefetch_test.sh — `roost train --prefetch-next-pass on` (decode workers start on the
# validation pass and the next epoch while the current pass's last batches train) trains
# bitwise the same model with the same metrics as `off`, on 2 ranks over 3 epochs, and a run
# stopped after epoch 1 and resumed with prefetching on ends the same too. The log says
# when prefetching is on; auto leaves it off on the CPU. (Mid-epoch resume with it on:
# resume_test.sh.)
source "$(dirname "$0")/common.sh"
export CUDA_VISIBLE_DEVICES=  # on the CPU even where a GPU is visible: auto means off here

make_tiny_dataset "$WORK/data" 12 5 32   # 24 train images: 6 steps per rank per epoch
COMMON=(--data-dir "$WORK/data" --batch-size 2 --image-size 32 --resize-short 36 --workers 2 --threads 1
        --lr 0.02 --progress none --checkpoint-every 0)
train() {  # out mode epochs [extra...]
  local out=$1 mode=$2 epochs=$3; shift 3
  "$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/$out" --prefetch-next-pass "$mode" \
    --epochs "$epochs" "$@" > "$WORK/$out.log" 2>&1 || { cat "$WORK/$out.log"; fail "$out exited non-zero"; }
}
crc() { grep -ho "final parameters crc32 [0-9a-f]*" "$WORK/$1/logs/rank-0.log" | tail -1 | awk '{print $4}'; }

train on on 3
train off off 3
train auto auto 1
grep -q "next pass's decoding starts" "$WORK/on.log" || { cat "$WORK/on.log"; fail "on did not say so"; }
! grep -q "next pass's decoding starts" "$WORK/off.log" || fail "off prefetched"
! grep -q "next pass's decoding starts" "$WORK/auto.log" || fail "auto prefetched on the CPU"
want=$(crc off)
[ -n "$want" ] && [ "$(crc on)" = "$want" ] || fail "prefetching trained other weights: $(crc on) vs $want"
"$PYTHON" - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
def rows(name):
    return [json.loads(l) for l in open(f"{work}/{name}/metrics.jsonl")]
on, off = rows("on"), rows("off")
assert len(on) == len(off) == 3, (len(on), len(off))
for a, b in zip(on, off):
    for k in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert a[k] == b[k], (k, a[k], b[k])
print("ok: metrics of 3 epochs equal with and without prefetching")
PY

train split on 1 --checkpoint-every 1
train split on 3 --checkpoint-every 1 --resume auto
grep -q "resuming from .*epoch-1.h5" "$WORK/split.log" || { cat "$WORK/split.log"; fail "did not resume"; }
[ "$(crc split)" = "$want" ] || fail "resumed run with prefetching differs: $(crc split) vs $want"
echo "ok: prefetching on, off and resumed all end at crc32 $want"
