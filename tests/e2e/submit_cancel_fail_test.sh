#!/usr/bin/env bash
# submit_cancel_fail_test.sh — the two unhappy endings of a run on the local target.
# Cancel: a long run is canceled while Running; it ends Canceled (and stays so after the
# monitor sees mpirun exit), every process of its group is gone, and a second cancel is
# refused with exit 2. Failure: a run whose ranks cannot load their --pretrained file ends
# Failed; submit --wait exits 1, names the failing rank and shows its last log lines.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/submit_common.sh"

make_tiny_dataset "$WORK/data" 6 4 32

# --- cancel --------------------------------------------------------------------------------
# Submitted with --wait; Ctrl-C ends only the streaming, and says how to stop the run.
"$ROOST" submit --mpirun "$MPIRUN" --experiment long --np 2 --workspace "$WS" --wait -- --data-dir "$WORK/data" \
  --epochs 500 "${TINY[@]}" > /dev/null 2> "$WORK/waiting" &
waiter=$!
for _ in $(seq 300); do [ -s "$WS/roost.db" ] && [ "$(db "SELECT count(*) FROM runs" 2>/dev/null)" = 1 ] && break; sleep 0.2; done
wait_status 1 Running 60
pgid=$(db "SELECT pgid FROM runs WHERE id = 1")
[ "$pgid" -gt 0 ] || fail "no process group recorded"
# Wait until both ranks really train (rank 1 logged a step), so the cancel stops a live job.
for _ in $(seq 300); do
  grep -q "step" "$WS/experiments/long/runs/1/outputs/logs/rank-1.log" 2>/dev/null && break
  sleep 0.2
done
kill -INT "$waiter"
rc=0; wait "$waiter" || rc=$?
[ "$rc" = 130 ] && grep -q "run 1 is still running; stop it with: roost runs cancel 1" "$WORK/waiting" ||
  fail "Ctrl-C to submit --wait: exit $rc, stderr: $(cat "$WORK/waiting")"
[ "$(status_of 1)" = Running ] || fail "Ctrl-C to submit --wait changed the run to $(status_of 1)"
"$ROOST" runs cancel 1 --workspace "$WS" 2> "$WORK/cancel" || fail "cancel exited $?: $(cat "$WORK/cancel")"
[ "$(status_of 1)" = Canceled ] || fail "status after cancel: $(status_of 1)"
! kill -0 -- "-$pgid" 2>/dev/null || fail "process group $pgid still alive after cancel"
# The ranks stopped as on SIGTERM: a step checkpoint, the status named, every rank's exit.
expect_stopped_by_sigterm "$WS/experiments/long/runs/1" 0
sleep 2  # the monitor notices the end of mpirun; Canceled must stay
[ "$(status_of 1)" = Canceled ] || fail "status changed after cancel to $(status_of 1)"
rc=0
"$ROOST" runs cancel 1 --workspace "$WS" 2> "$WORK/cancel2" || rc=$?
[ "$rc" -eq 2 ] && grep -q "already ended" "$WORK/cancel2" || fail "second cancel: exit $rc, $(cat "$WORK/cancel2")"

# --- failure -------------------------------------------------------------------------------
# Submit checks --pretrained as roost train does; --skip-data-check (the option for files only
# the cluster's nodes see) lets the bad file reach the ranks, which then fail.
echo "these are not weights" > "$WORK/garbage.h5"
rc=0
"$ROOST" submit --mpirun "$MPIRUN" --experiment broken --np 2 --workspace "$WS" --wait --skip-data-check -- --data-dir "$WORK/data" --epochs 1 \
  --pretrained "$WORK/garbage.h5" "${TINY[@]}" > "$WORK/stdout" 2> "$WORK/stderr" || rc=$?
[ "$rc" -eq 1 ] || fail "failing submit --wait exited $rc (stderr: $(cat "$WORK/stderr"))"
[ "$(status_of 2)" = Failed ] || fail "status $(status_of 2)"
grep -q "run 2 Failed: rank [01] exited with status" "$WORK/stderr" || fail "no failing rank named: $(cat "$WORK/stderr")"
grep -q "last lines of .*/logs/rank-[01].log" "$WORK/stderr" || fail "no log lines shown: $(cat "$WORK/stderr")"
grep -q "garbage.h5" "$WORK/stderr" || fail "the rank's error is not among the lines shown: $(cat "$WORK/stderr")"
output_has "garbage.h5" -- "$ROOST" runs show 2 --workspace "$WS" || fail "runs show lacks the failing rank's log"
echo "ok: cancel and failure"
