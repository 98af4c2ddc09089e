#!/usr/bin/env bash
# submit_concurrent_test.sh — three submits into one new workspace at the same moment (all
# three create the schema, record runs and start monitors that write statuses and metrics):
# every run completes with its metrics, the ids are 1..3 and the database passes
# PRAGMA integrity_check.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/submit_common.sh"

make_tiny_dataset "$WORK/data" 4 2 32
pids=()
for i in 1 2 3; do
  "$ROOST" submit --mpirun "$MPIRUN" --experiment "c$i" --np 1 --workspace "$WS" -- --data-dir "$WORK/data" --epochs 1 "${TINY[@]}" \
    > "$WORK/submit$i" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a submit failed: $(cat "$WORK"/submit*)"; done
[ "$(db "SELECT group_concat(id) FROM (SELECT id FROM runs ORDER BY id)")" = "1,2,3" ] || fail "ids: $(db 'SELECT id FROM runs')"
for i in 1 2 3; do wait_status "$i" Completed 300; done
[ "$(db "SELECT count(DISTINCT run_id) FROM metrics")" = 3 ] || fail "metrics of every run"
[ "$(db 'PRAGMA integrity_check')" = ok ] || fail "integrity check: $(db 'PRAGMA integrity_check')"
[ "$(db 'PRAGMA journal_mode')" = wal ] || fail "not in WAL mode"
echo "ok: 3 concurrent submits"
