#!/usr/bin/env bash
# faults_test.sh — what a job does when the machines misbehave (2 real MPI ranks):
#  1. a rank killed with SIGKILL mid-epoch: the job ends non-zero within 30 s, the launcher
#     names the lost rank, the last checkpoint stays valid and --resume auto completes;
#  2. a rank that hangs (ROOST_FAULT_STALL=RANK:STEP): the stall warning names it, and with
#     --stall-shutdown-s the job stops with an error instead of hanging;
#  3. a full disk while a checkpoint is written: a clear error, a non-zero exit, the previous
#     checkpoint intact and no partial file left; with space again --resume auto completes.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 40 4 32
COMMON=(--data-dir "$WORK/data" --batch-size 2 --image-size 32 --resize-short 36 --workers 1 --threads 1
        --progress lines --log-every 1)
wait_for() {  # file pattern seconds
  for _ in $(seq $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "timed out waiting for '$2' in $1"
}
rank_pid() {  # output dir: one rank process of that run (not mpirun)
  for p in $(pgrep -x roost); do
    tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "--output-dir $1 " && echo "$p"
  done | tail -1 || true
}
valid_checkpoint() {  # the file's CRC-32 over all datasets in name order matches its record
  "$PYTHON" - "$1" <<'PY'
import sys, zlib
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
crc = 0
for name in sorted(f.keys()):
    crc = zlib.crc32(np.ascontiguousarray(f[name][()]).tobytes(), crc)
stored = f.attrs["crc32"]
stored = stored.decode() if isinstance(stored, bytes) else stored
assert f"{crc:08x}" == stored, (f"{crc:08x}", stored)
PY
}

# 1. SIGKILL one rank in epoch 2
out="$WORK/killed"
"$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$out" --epochs 3 > "$WORK/killed.log" 2>&1 &
job=$!
wait_for "$out/logs/rank-0.log" "epoch 2/3 step 3/20" 120
kill -9 "$(rank_pid "$out")"
start=$(date +%s)
rc=0; wait "$job" || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" != 0 ] || fail "job survived a killed rank"
[ "$took" -le 30 ] || fail "job took ${took} s to end after a rank died"
grep -Eq "rank [01] .*(exited on signal 9|Killed)" "$WORK/killed.log" || { cat "$WORK/killed.log"; fail "lost rank not named"; }
valid_checkpoint "$out/checkpoints/epoch-1.h5" || fail "checkpoint damaged by the failure"
"$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$out" --epochs 3 --resume auto > "$WORK/killed2.log" 2>&1 \
  || { cat "$WORK/killed2.log"; fail "resume after a lost rank"; }
grep -q "resuming from .*epoch-1.h5" "$WORK/killed2.log" || fail "resume did not use epoch-1.h5"
echo "ok: lost rank -> exit $rc after ${took} s, named; resumed from epoch-1.h5"

# 2. a hung rank
rc=0
start=$(date +%s)
ROOST_FAULT_STALL=1:4 timeout 120 "$MPIRUN" -x ROOST_FAULT_STALL -np 2 "$ROOST" train "${COMMON[@]}" \
  --output-dir "$WORK/stall" --epochs 1 --stall-warning-s 2 --stall-shutdown-s 6 > "$WORK/stall.log" 2>&1 || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" != 0 ] && [ "$rc" != 124 ] || { cat "$WORK/stall.log"; fail "stalled job: exit $rc (124 = hung)"; }
grep -q "stall: .*rank(s) 1" "$WORK/stall.log" || { cat "$WORK/stall.log"; fail "stall warning does not name rank 1"; }
grep -q "stalled for .*rank(s) 1 never submitted" "$WORK/stall.log" || fail "no stall shutdown message"
echo "ok: hung rank named in the warning; --stall-shutdown-s ended the job (exit $rc, ${took} s)"

# 3. a full disk: 150 MB holds model.h5 and one checkpoint (~45 + ~90 MB) but not a second
disk="$WORK/disk"
mkdir -p "$disk"
if ! mount -t tmpfs -o size=150m tmpfs "$disk" 2>/dev/null; then
  echo "SKIP: cannot mount a small tmpfs here (needs root): full-disk case not run"; exit 0
fi
trap 'umount "$disk" 2>/dev/null; rm -rf "$WORK"' EXIT
rc=0
"$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$disk/out" --epochs 3 > "$WORK/full.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "training on a full disk exited 0"
grep -q "disk full" "$WORK/full.log" || { cat "$WORK/full.log"; fail "no clear disk-full message"; }
valid_checkpoint "$disk/out/checkpoints/epoch-1.h5" || fail "previous checkpoint damaged"
! ls "$disk/out/checkpoints" | grep -q "\.tmp$" || fail "partial checkpoint left behind"
mount -o remount,size=400m "$disk"
"$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$disk/out" --epochs 3 --resume auto > "$WORK/full2.log" 2>&1 \
  || { cat "$WORK/full2.log"; fail "resume after the disk was freed"; }
echo "ok: full disk -> exit $rc with a clear message; epoch-1.h5 intact; resumed to the end"
