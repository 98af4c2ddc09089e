#!/usr/bin/env bash
# train_pack_test.sh — the HDF5 pack path end to end: `roost pack` a tiny ImageFolder tree,
# train one epoch from the pack with 2 MPI ranks, and check the metrics count every
# validation image once; a truncated pack is a clear error (exit 2).
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 8 5 32
"$ROOST" pack --data-dir "$WORK/data" --out "$WORK/data.h5" > "$WORK/pack.log" 2>&1 || { cat "$WORK/pack.log"; fail "pack failed"; }
"$MPIRUN" -np 2 "$ROOST" train --data-dir "$WORK/data.h5" --output-dir "$WORK/out" --epochs 1 \
  --batch-size 4 --image-size 32 --resize-short 36 --workers 1 --threads 1 \
  > "$WORK/stdout" 2> "$WORK/stderr" || { cat "$WORK/stdout" "$WORK/stderr"; fail "training from the pack failed"; }
"$PYTHON" - "$WORK/out" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")][0]
assert r["world_size"] == 2 and r["skipped_images"] == 0, r
assert abs(r["val_acc"] * 10 - round(r["val_acc"] * 10)) < 1e-6, r  # 10 val images, each once
print("ok: trained from pack", r["val_acc"])
PY
head -c 4096 "$WORK/data.h5" > "$WORK/cut.h5"
rc=0
"$ROOST" train --data-dir "$WORK/cut.h5" --output-dir "$WORK/out2" 2> "$WORK/e" || rc=$?
[ "$rc" -eq 2 ] || fail "truncated pack exited $rc: $(cat "$WORK/e")"
[ "$(wc -l < "$WORK/e")" -eq 1 ] || fail "truncated pack: expected one line, got $(cat "$WORK/e")"
echo "ok: truncated pack rejected: $(cat "$WORK/e")"
