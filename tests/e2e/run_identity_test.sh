#!/usr/bin/env bash
# run_identity_test.sh — one outputs directory holds the files of one run (2 real MPI ranks):
#  1. training into the outputs of a finished run without --resume/--overwrite is refused
#     with exit 2 and touches nothing;
#  2. the stale-resume scenario: --overwrite starts a new run (seed 7) that is stopped by
#     SIGTERM through roost launch; --resume auto then continues *that* run, and every file
#     (run.json, summary.json, metrics rows, model.h5, last.h5, every checkpoint) carries its id;
#  3. --resume refuses a checkpoint of another run, and one trained with the class folders
#     in another order, with one line naming both.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 40 4 32   # 80 train images: 20 steps per rank per epoch
COMMON=(--data-dir "$WORK/data" --batch-size 2 --image-size 32 --workers 1 --threads 1 --progress lines --log-every 1)
train() {  # out [extra...]
  local out=$1; shift
  "$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/$out" "$@"
}
# Every file of the run, with its checksum (rank logs excluded: they are appended to).
snapshot() { (cd "$WORK/$1" && find . -type f ! -path './logs/*' -print0 | sort -z | xargs -0 sha256sum); }
# The run id of every file that records one, one "file id" line each.
ids() {
  "$PYTHON" - "$WORK/$1" <<'PY'
import csv, glob, json, os, sys, h5py
d = sys.argv[1]
print("run.json", json.load(open(f"{d}/run.json"))["run_id"])
print("summary.json", json.load(open(f"{d}/summary.json"))["run_id"])
for i, line in enumerate(open(f"{d}/metrics.jsonl")):
    print(f"metrics.jsonl:{i + 1}", json.loads(line)["run_id"])
for i, row in enumerate(csv.DictReader(open(f"{d}/metrics.csv"))):
    print(f"metrics.csv:{i + 1}", row["run_id"])
for name in ("model.h5", "last.h5"):
    with h5py.File(f"{d}/{name}") as f:
        v = f.attrs["run_id"]
        print(name, v.decode() if isinstance(v, bytes) else v)
for path in sorted(glob.glob(f"{d}/checkpoints/*")):
    with h5py.File(path) as f:
        print(os.path.relpath(path, d), json.loads(bytes(f["identity"][()]).decode())["run_id"])
PY
}

train stale --seed 42 --epochs 2 > "$WORK/stale.log" 2>&1 || { cat "$WORK/stale.log"; fail "first run"; }
old=$("$PYTHON" -c "import json; print(json.load(open('$WORK/stale/run.json'))['run_id'])")
[ -n "$old" ] || fail "no run id in run.json"

# 1. refused, nothing touched
before=$(snapshot stale)
rc=0
train stale --seed 7 --epochs 30 > "$WORK/refused.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$WORK/refused.log"; fail "a used outputs directory was accepted (exit $rc)"; }
[ "$(grep -c "roost train: error: .*holds the outputs of run $old.*--resume auto.*--overwrite" "$WORK/refused.log")" = 1 ] ||
  { cat "$WORK/refused.log"; fail "refusal not reported exactly once, naming the run and both ways out"; }
[ "$(snapshot stale)" = "$before" ] || fail "a refused start changed files of the run"
grep -q "holds the outputs of run $old" "$WORK/stale/logs/rank-0.log" || fail "the refusal is not in rank 0's log"
echo "ok: a used outputs directory is refused (exit 2, one line, nothing touched)"

# 2. overwrite, stop mid-run, resume: all files are the new run's
"$ROOST" launch -np 2 -- train "${COMMON[@]}" --output-dir "$WORK/stale" --seed 7 --epochs 30 --overwrite \
  --keep-checkpoints 3 > "$WORK/new.log" 2>&1 &
job=$!
for _ in $(seq 600); do  # until the new run is in its second epoch (at most 60 s)
  grep -q "epoch 2/30 step 3/20" "$WORK/stale/logs/rank-0.log" 2>/dev/null && break
  sleep 0.1
done
kill -TERM "$job"
rc=0
wait "$job" || rc=$?
[ "$rc" = 143 ] || { cat "$WORK/new.log"; fail "SIGTERM through roost launch exited $rc, want 143"; }
grep -q "replacing run $old" "$WORK/new.log" || fail "--overwrite did not say what it replaced"
new=$("$PYTHON" -c "import json; print(json.load(open('$WORK/stale/run.json'))['run_id'])")
[ -n "$new" ] && [ "$new" != "$old" ] || fail "--overwrite kept the old run id"
train stale --seed 7 --epochs 4 --resume auto > "$WORK/resumed.log" 2>&1 || { cat "$WORK/resumed.log"; fail "resume"; }
grep -q "resuming from .*epoch-1-step-" "$WORK/resumed.log" || { cat "$WORK/resumed.log"; fail "did not resume the new run's step checkpoint"; }
ids stale > "$WORK/ids.txt" || fail "reading run ids"
[ "$(awk '{print $2}' "$WORK/ids.txt" | sort -u)" = "$new" ] || { cat "$WORK/ids.txt"; fail "files of two runs in one directory"; }
[ "$(grep -c '^metrics.jsonl:' "$WORK/ids.txt")" = 4 ] || { cat "$WORK/ids.txt"; fail "metrics.jsonl does not hold epochs 1-4"; }
echo "ok: overwrite + stop + resume: every file belongs to run $new ($(wc -l < "$WORK/ids.txt") files/rows checked)"

# 3. checkpoints that cannot continue this run
train other --seed 3 --epochs 1 > "$WORK/other.log" 2>&1 || fail "other run"
rc=0
train stale --seed 7 --epochs 5 --resume "$WORK/other/checkpoints/epoch-1.h5" > "$WORK/foreign.log" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "belongs to run .*, not to run $new" "$WORK/foreign.log" ||
  { cat "$WORK/foreign.log"; fail "a checkpoint of another run was accepted (exit $rc)"; }
mv "$WORK/data/train/coat" "$WORK/data/train/zcoat"
mv "$WORK/data/val/coat" "$WORK/data/val/zcoat"
rc=0
train stale --seed 7 --epochs 5 --resume auto > "$WORK/classes.log" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "trained on classes \[coat,pullover\], the data has \[pullover,zcoat\]" "$WORK/classes.log" ||
  { cat "$WORK/classes.log"; fail "resume after reordering the class folders was accepted (exit $rc)"; }
echo "ok: checkpoints of another run or another class order are refused"
