#!/usr/bin/env bash
# resume_test.sh — checkpoints, exact resume and preemption with 2 real MPI ranks:
#  1. a run stopped after epoch 1 and resumed with --resume auto ends with parameters
#     bitwise identical to an uninterrupted run (CRC-32 of the final parameters);
#  2. SIGTERM to one rank mid-epoch: every rank stops after the same step, rank 0 writes a
#     step checkpoint, the job exits 143; --resume auto finishes it, again bitwise identical;
#  3. SIGINT the same way exits 130;
#  4. a corrupt newest checkpoint is reported and the previous one is used; an explicit
#     corrupt --resume file is a one-line error with exit 2; --keep-checkpoints prunes.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 40 4 32   # 80 train images: 20 steps per rank per epoch
COMMON=(--data-dir "$WORK/data" --batch-size 2 --image-size 32 --resize-short 36 --workers 1 --threads 1
        --progress lines --log-every 1)
train() {  # out epochs [extra...]
  local out=$1 epochs=$2; shift 2
  "$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/$out" --epochs "$epochs" "$@"
}
crc() { grep -ho "final parameters crc32 [0-9a-f]*" "$WORK/$1/logs/rank-$2.log" | tail -1 | awk '{print $4}'; }

train straight 2 --keep-checkpoints 1 > "$WORK/straight.log" 2>&1 || { cat "$WORK/straight.log"; fail "straight run"; }
want=$(crc straight 0)
[ -n "$want" ] && [ "$want" = "$(crc straight 1)" ] || fail "straight run: ranks differ"
[ "$(ls "$WORK/straight/checkpoints")" = "epoch-2.h5" ] || fail "--keep-checkpoints 1 left: $(ls "$WORK/straight/checkpoints")"

# 1. stop at an epoch boundary, resume
train split 1 > "$WORK/split1.log" 2>&1 || fail "first half"
train split 2 --resume auto > "$WORK/split2.log" 2>&1 || { cat "$WORK/split2.log"; fail "resume"; }
grep -q "resuming from .*epoch-1.h5" "$WORK/split2.log" || fail "resume did not say where from"
[ "$(crc split 0)" = "$want" ] && [ "$(crc split 1)" = "$want" ] || fail "resumed run differs: $(crc split 0) vs $want"
echo "ok: epoch-boundary resume is bitwise identical ($want)"

# 2./3. a signal to one rank in the middle of epoch 1
stop_mid_epoch() {  # out signal expected_exit
  local out=$1 sig=$2 code=$3
  train "$out" 2 > "$WORK/$out.log" 2>&1 &
  local job=$!
  for _ in $(seq 600); do  # wait for step 5 of epoch 1 (at most 60 s)
    grep -q "epoch 1/2 step 5/20" "$WORK/$out/logs/rank-0.log" 2>/dev/null && break
    sleep 0.1
  done
  local pid
  pid=$(for p in $(pgrep -x roost); do  # a rank process, not mpirun
          tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "--output-dir $WORK/$out " && echo "$p"
        done | head -1 || true)
  [ -n "$pid" ] || fail "$out: no rank process found"
  kill "-$sig" "$pid"
  local rc=0
  wait "$job" || rc=$?
  [ "$rc" = "$code" ] || { cat "$WORK/$out.log"; fail "$out: exit $rc after SIG$sig, want $code"; }
  ls "$WORK/$out/checkpoints" | grep -q "^epoch-0-step-[0-9]*\.h5$" || fail "$out: no step checkpoint"
  grep -q "stopped by SIG$sig" "$WORK/$out.log" || fail "$out: no stop message"
  "$PYTHON" -c "import json,sys; s=json.load(open('$WORK/$out/summary.json')); assert s['status']=='stopped by SIG$sig', s['status']"
}
stop_mid_epoch term TERM 143
# Resumed with the next pass's loader started early: the interrupted epoch's loader starts
# mid-shard and the next epoch's is started during validation.
train term 2 --resume auto --prefetch-next-pass on > "$WORK/term2.log" 2>&1 || { cat "$WORK/term2.log"; fail "resume after SIGTERM"; }
! grep -q "option changed" "$WORK/term2.log" || fail "--prefetch-next-pass reported as a changed option"
[ "$(crc term 0)" = "$want" ] && [ "$(crc term 1)" = "$want" ] || fail "resume after SIGTERM differs: $(crc term 0) vs $want"
"$PYTHON" - "$WORK/term" "$WORK/straight" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/metrics.jsonl")]
ref = [json.loads(l) for l in open(f"{sys.argv[2]}/metrics.jsonl")]
assert [r["epoch"] for r in rows] == [1, 2], rows
for a, b in zip(rows, ref):  # the interrupted epoch's metrics are the uninterrupted run's
    for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert abs(a[k] - b[k]) <= 1e-6 * max(1, abs(b[k])), (k, a[k], b[k])
s = json.load(open(f"{sys.argv[1]}/summary.json"))
assert s["status"] == "completed" and s["epochs_done"] == 2 and s["resumed_from"].endswith(".h5"), s
PY
echo "ok: SIGTERM mid-epoch -> exit 143, step checkpoint, resume bitwise identical with the same metrics"
stop_mid_epoch int INT 130
echo "ok: SIGINT -> exit 130"

# 4. a truncated newest checkpoint is skipped with a warning
cp -r "$WORK/split" "$WORK/corrupt"
truncate -s 5000 "$WORK/corrupt/checkpoints/epoch-2.h5"
train corrupt 3 --resume auto > "$WORK/corrupt.log" 2>&1 || { cat "$WORK/corrupt.log"; fail "resume past a corrupt checkpoint"; }
grep -q "skipping .*epoch-2.h5" "$WORK/corrupt.log" || fail "corrupt checkpoint not reported"
grep -q "resuming from .*epoch-1.h5" "$WORK/corrupt.log" || fail "previous checkpoint not used"
rc=0
"$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/explicit" --epochs 2 \
  --resume "$WORK/straight/last.h5" > "$WORK/explicit.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$WORK/explicit.log"; fail "explicit bad --resume exited $rc, want 2"; }
grep -q "is not a roost checkpoint" "$WORK/explicit.log" || fail "explicit bad --resume: unclear message"
echo "ok: corrupt checkpoints detected; bad --resume file is a usage error"
