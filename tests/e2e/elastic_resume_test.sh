#!/usr/bin/env bash
# elastic_resume_test.sh — an epoch interrupted at one world size and resumed at another
# trains every sample it had not reached, once: 2 ranks stop mid-epoch on SIGTERM, 1 rank
# goes on and stops mid-epoch again, 3 ranks finish it. The samples the ranks trained in that
# epoch (ROOST_TRACE_SAMPLES) are the whole training set once, plus the padding of the last
# split, and nothing the stopped runs trained is trained again.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 53 4 32   # 106 train images
TRACE="$WORK/trace"
mkdir -p "$TRACE"
OUT="$WORK/out"
train() {  # np [extra...]
  local np=$1; shift
  ROOST_TRACE_SAMPLES="$TRACE" "$MPIRUN" --oversubscribe -np "$np" "$ROOST" train --data-dir "$WORK/data" \
    --output-dir "$OUT" --epochs 1 --batch-size 2 --image-size 32 --resize-short 36 --workers 1 --threads 1 \
    --progress lines --log-every 1 "$@"
}
# Starts a run of `np` ranks, waits for step `at` of its epoch, sends one rank SIGTERM; the
# run must stop with a step checkpoint.
stop_at() {  # np at [extra...]
  local np=$1 at=$2; shift 2
  train "$np" "$@" > "$WORK/np$np.log" 2>&1 &
  local job=$!
  for _ in $(seq 600); do
    grep -q "epoch 1/1 step $at/" "$OUT/logs/rank-0.log" 2>/dev/null && break
    sleep 0.1
  done
  local pid
  pid=$(for p in $(pgrep -x roost); do
          tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "--output-dir $OUT " && echo "$p"
        done | head -1 || true)
  [ -n "$pid" ] || { cat "$WORK/np$np.log"; fail "np $np: no rank process found"; }
  kill -TERM "$pid"
  local rc=0
  wait "$job" || rc=$?
  [ "$rc" = 143 ] || { cat "$WORK/np$np.log"; fail "np $np: exit $rc after SIGTERM, want 143"; }
}
newest_step() { ls "$OUT/checkpoints" | sed -n 's/^epoch-0-step-\([0-9]*\)\.h5$/\1/p' | sort -n | tail -1; }

stop_at 2 5
s1=$(newest_step)
[ -n "$s1" ] || fail "np 2: no step checkpoint"
# One rank: the epoch has 53 steps of 2 and the 2 × 2 × s1 positions done are s1 × 2 of them.
stop_at 1 $((2 * s1 + 5)) --resume auto
grep -q "the epoch goes on with exactly the samples it had not reached" "$WORK/np1.log" ||
  fail "np 1: no word on the changed world size"
s2=$(newest_step)
[ -n "$s2" ] && [ "$s2" -gt $((2 * s1)) ] || fail "np 1: no later step checkpoint (had $s1, now '$s2')"
train 3 --resume auto > "$WORK/np3.log" 2>&1 || { cat "$WORK/np3.log"; fail "np 3: resume to the end"; }
grep -q "global batch is now 6 (was 2)" "$WORK/np3.log" || fail "np 3: no word on the global batch"

"$PYTHON" - "$TRACE" "$s2" <<'PY' || fail "samples of the interrupted epoch"
import collections, glob, math, sys
trace, s2 = sys.argv[1], int(sys.argv[2])
ids = [int(line.split()[1]) for f in glob.glob(trace + "/rank-*.txt") for line in open(f) if line.split()[0] == "0"]
n, done = 106, s2 * 2  # one rank had trained s2 steps of 2 positions when it stopped
count = collections.Counter(ids)
missing = [i for i in range(n) if i not in count]
assert not missing, f"never trained: {missing[:10]}"
padding = 3 * math.ceil((n - done) / 3) - (n - done)
repeats = sum(c - 1 for c in count.values())
assert repeats == padding, f"{repeats} repeated samples, the last split pads {padding}"
assert len(ids) == n + padding, (len(ids), n, padding)
print(f"ok: {n} samples trained once across np 2 -> 1 -> 3 (stops after {done} positions), {padding} padding")
PY

# --elastic-batch global: 2 ranks of 2 stop mid-epoch; 1 rank goes on with the global batch 4
# (each rank's batch 4), trains exactly the rest of the epoch; 3 ranks cannot split 4 and are
# refused on every rank with one line, the checkpoints untouched.
OUT="$WORK/out-global"
TRACE="$WORK/trace-global"
mkdir -p "$TRACE"
stop_at 2 5 --elastic-batch global
g1=$(newest_step)
before=$(ls "$OUT/checkpoints")
rc=0
train 3 --resume auto --elastic-batch global > "$WORK/np3g.log" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "the checkpoint's global batch 4 (2 × 2) does not split evenly over 3 ranks" "$WORK/np3g.log" ||
  { cat "$WORK/np3g.log"; fail "np 3 with a global batch of 4: exit $rc"; }
[ "$(ls "$OUT/checkpoints")" = "$before" ] || fail "the refused resume changed the checkpoints"
train 1 --resume auto --elastic-batch global > "$WORK/np1g.log" 2>&1 || { cat "$WORK/np1g.log"; fail "np 1 global"; }
grep -q "each rank's batch is now 4 (the global batch 4 is kept; --elastic-batch global)" "$WORK/np1g.log" ||
  fail "np 1: no word on the kept global batch"
"$PYTHON" - "$TRACE" "$g1" <<'PY' || fail "samples of the epoch resumed with the global batch kept"
import collections, glob, sys
trace, g1 = sys.argv[1], int(sys.argv[2])
ids = [int(line.split()[1]) for f in glob.glob(trace + "/rank-*.txt") for line in open(f) if line.split()[0] == "0"]
count = collections.Counter(ids)
assert sorted(count) == list(range(106)), "not every sample trained"
repeats = sum(c - 1 for c in count.values())  # one rank takes the rest of the epoch whole: no padding
assert repeats == 0 and len(ids) == 106, (repeats, len(ids), g1)
print(f"ok: 106 samples once across np 2 -> 1 with the global batch 4 kept (stop after {4 * g1} positions)")
PY
echo "ok: elastic resume"
