#!/usr/bin/env bash
# signals_test.sh — every way a user stops a job leaves a resumable run (2 real MPI ranks).
# SIGTERM and SIGINT to `roost launch` at random moments (12 tries, both signals, some sent
# twice in a row, some to the whole process group), SIGUSR1 to a plain mpirun: after each,
# the exit code is 128+signal, summary.json names the signal, no temporary file is left,
# and `--resume auto` ends bitwise equal to an uninterrupted run.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 40 4 32   # 80 train images: 20 steps per rank per epoch
COMMON=(--data-dir "$WORK/data" --batch-size 2 --image-size 32 --workers 1 --threads 1 --progress lines
        --log-every 1 --epochs 3)
launch() {  # out [extra...]
  local out=$1; shift
  "$ROOST" launch -np 2 -- train "${COMMON[@]}" --output-dir "$WORK/$out" "$@"
}
crc() { grep -ho "final parameters crc32 [0-9a-f]*" "$WORK/$1/logs/rank-0.log" | tail -1 | awk '{print $4}'; }
status_of() { "$PYTHON" -c "import json; print(json.load(open('$WORK/$1/summary.json'))['status'])"; }

launch straight > "$WORK/straight.log" 2>&1 || { cat "$WORK/straight.log"; fail "uninterrupted run"; }
want=$(crc straight)
[ -n "$want" ] || fail "no final crc"

# Checks a stopped run and resumes it to the end.
check_and_resume() {  # out signal rc
  local out=$1 sig=$2 rc=$3
  if [ "$rc" = 0 ]; then  # the signal came after the last epoch's stop point: it completed
    [ "$(status_of "$out")" = completed ] || fail "$out: exit 0 but status $(status_of "$out")"
    return 1
  fi
  local code
  code=$((128 + $(kill -l "$sig")))
  [ "$rc" = "$code" ] || { cat "$WORK/$out.log"; fail "$out: SIG$sig gave exit $rc, want $code"; }
  [ "$(status_of "$out")" = "stopped by SIG$sig" ] || fail "$out: summary.json says '$(status_of "$out")'"
  stop_report="$(status_of "$out") with $(ls "$WORK/$out/checkpoints" | tr '\n' ' ')"
  [ -f "$WORK/$out/last.h5" ] || fail "$out: no last.h5"
  ! find "$WORK/$out" -name '*.tmp' | grep -q . || fail "$out: temporary files left: $(find "$WORK/$out" -name '*.tmp')"
  launch "$out" --resume auto > "$WORK/$out.resume.log" 2>&1 || { cat "$WORK/$out.resume.log"; fail "$out: resume"; }
  grep -q "resuming from .*checkpoints/epoch-" "$WORK/$out.resume.log" || fail "$out: did not resume a checkpoint"
  ! grep -q "skipping" "$WORK/$out.resume.log" || fail "$out: the stop's checkpoint did not verify"
  [ "$(crc "$out")" = "$want" ] || fail "$out: resumed run differs ($(crc "$out") vs $want)"
  return 0
}

stopped=0
for i in $(seq 1 12); do
  sig=TERM; [ $((i % 2)) = 0 ] && sig=INT
  out=run$i
  # Its own process group (setsid), so that the group can be signalled as a terminal would.
  setsid "$ROOST" launch -np 2 -- train "${COMMON[@]}" --output-dir "$WORK/$out" > "$WORK/$out.log" 2>&1 &
  job=$!
  for _ in $(seq 600); do  # the first step (at most 60 s), then a random moment of the run
    grep -q "step 1/20" "$WORK/$out/logs/rank-0.log" 2>/dev/null && break
    sleep 0.1
  done
  sleep "$(awk -v s="$RANDOM" 'BEGIN { printf "%.2f", (s % 200) / 100 }')"
  how="to roost launch"
  case $((i % 4)) in
    0) kill "-$sig" -- "-$job"; how="to its process group" ;;
    1) kill "-$sig" "$job"; sleep 0.05; kill "-$sig" "$job" 2>/dev/null || true; how="twice" ;;
    *) kill "-$sig" "$job" ;;
  esac
  rc=0
  wait "$job" || rc=$?
  if check_and_resume "$out" "$sig" "$rc"; then
    stopped=$((stopped + 1))
    echo "ok: try $i: SIG$sig $how -> exit $rc, $stop_report-> resumed bitwise equal"
  else
    echo "ok: try $i: SIG$sig $how arrived after the last epoch: completed"
  fi
done
[ "$stopped" -ge 8 ] || fail "only $stopped of 12 signals stopped a run"

# A plain mpirun forwards SIGUSR1 at once: the ranks stop the same way (exit 138).
"$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/usr1" > "$WORK/usr1.log" 2>&1 &
job=$!
for _ in $(seq 600); do
  grep -q "epoch 2/3 step 4/20" "$WORK/usr1/logs/rank-0.log" 2>/dev/null && break
  sleep 0.1
done
kill -USR1 "$job"
rc=0
wait "$job" || rc=$?
check_and_resume usr1 USR1 "$rc" || fail "SIGUSR1 did not stop the run"
echo "ok: SIGUSR1 to a plain mpirun -> exit 138, resumed bitwise equal"
