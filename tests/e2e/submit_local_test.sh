#!/usr/bin/env bash
# submit_local_test.sh — a run's life on the local target with 2 ranks: roost submit --wait
# streams rank 0's output and exits 0; the store records Queued → Preparing → Running →
# Finalizing → Completed with times, both ranks' logs, config.json, the exact command, the
# outputs and every epoch's metrics; then the model is registered twice (versions 1 and 2)
# and downloaded with a checksum equal to the file's. A second submit without --wait returns
# before the run ends and its detached monitor completes it; that one runs on the hosts target.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/submit_common.sh"

make_tiny_dataset "$WORK/data" 6 4 32
"$ROOST" submit --mpirun "$MPIRUN" --experiment fashion --np 2 --workspace "$WS" --wait -- \
  --data-dir "$WORK/data" --epochs 2 "${TINY[@]}" > "$WORK/stdout" 2> "$WORK/stderr" ||
  { cat "$WORK/stdout" "$WORK/stderr"; fail "submit --wait exited $?"; }
grep -q "epoch 2/2" "$WORK/stdout" || fail "rank 0's output was not streamed: $(cat "$WORK/stdout")"
grep -q "run 1 Completed" "$WORK/stderr" || fail "no final status line: $(cat "$WORK/stderr")"

RUN=$WS/experiments/fashion/runs/1
[ "$(status_of 1)" = Completed ] || fail "status $(status_of 1)"
[ "$(db "SELECT group_concat(status, ',') FROM (SELECT status FROM run_events WHERE run_id = 1 ORDER BY rowid)")" = \
  "Queued,Preparing,Running,Finalizing,Completed" ] || fail "history: $(db 'SELECT * FROM run_events')"
[ "$(db "SELECT count(*) FROM run_events e1 JOIN run_events e2 ON e2.rowid = e1.rowid + 1 WHERE e2.at < e1.at")" = 0 ] ||
  fail "status times go backwards"
[ -e "$RUN/logs/driver.log" ] || fail "no driver log"  # mpirun's own output: empty when all went well
[ -e "$RUN/logs/rank-1.log" ] || fail "no console log of rank 1"  # rank 1 prints only warnings
for f in config.json command.sh command.argv logs/rank-0.log outputs/logs/rank-1.log outputs/model.h5 \
         outputs/metrics.jsonl outputs/summary.json; do
  [ -s "$RUN/$f" ] || fail "missing $RUN/$f"
done
grep -q -- "-np 2" "$RUN/command.sh" || fail "command.sh: $(cat "$RUN/command.sh")"
[ "$(cat "$RUN/logs/rank-0.exit" "$RUN/logs/rank-1.exit" | tr -d '\n')" = 00 ] || fail "rank exit files"
output_has "epoch 2/2" -- "$ROOST" runs logs 1 --rank 0 --workspace "$WS" || fail "roost runs logs --rank 0 lacks epoch 2"
output_has "epoch 2/2" -- "$ROOST" runs logs 1 --rank 1 --train --workspace "$WS" || fail "roost runs logs --rank 1 --train lacks epoch 2"
for bad in -1 2; do
  rc=0; "$ROOST" runs logs 1 --rank=$bad --workspace "$WS" > "$WORK/badrank.out" 2> "$WORK/badrank.err" || rc=$?
  [ "$rc" -eq 2 ] && grep -q "has ranks 0..1" "$WORK/badrank.err" || fail "runs logs --rank $bad: exit $rc, $(cat "$WORK/badrank.err")"
done
"$PYTHON" -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["np"]==2 and c["train"]["epochs"]==2, c' \
  "$RUN/config.json" || fail "config.json"
[ "$(db "SELECT count(*) FROM metrics WHERE run_id = 1")" = 2 ] || fail "metrics rows: $(db 'SELECT * FROM metrics')"
best=$(db "SELECT printf('%.4f', max(json_extract(data, '\$.val_acc'))) FROM metrics WHERE run_id = 1")
"$ROOST" runs list --workspace "$WS" > "$WORK/list"
grep -E "^1 +fashion +local +2 +Completed +2 +$best" "$WORK/list" || fail "runs list: $(cat "$WORK/list") (best $best)"
output_has "Finalizing" -- "$ROOST" runs show 1 --workspace "$WS" || fail "runs show lacks the history"

# Registry: two versions, metrics kept, a verified download equal to the run's file.
"$ROOST" models register --run 1 --name fashion-net --workspace "$WS" > /dev/null 2>&1 || fail "register"
"$ROOST" models register --run 1 --name fashion-net --path outputs/last.h5 --workspace "$WS" > /dev/null 2>&1 ||
  fail "register v2"
output_has -E "^fashion-net +2 +1 " -- "$ROOST" models list --workspace "$WS" || fail "models list: $("$ROOST" models list --workspace "$WS")"
output_has '"best_val_acc"' -- "$ROOST" models show --name fashion-net --version 1 --workspace "$WS" || fail "models show: no metrics"
"$ROOST" models download --name fashion-net --version 1 --to "$WORK/down" --workspace "$WS" > /dev/null 2>&1 || fail "download"
want=$(sha256sum < "$RUN/outputs/model.h5" | cut -d' ' -f1)
[ "$(sha256sum < "$WORK/down/model.h5" | cut -d' ' -f1)" = "$want" ] || fail "downloaded model differs"
[ "$(db "SELECT sha256 FROM models WHERE name = 'fashion-net' AND version = 1")" = "$want" ] || fail "stored checksum"

# Without --wait, on the hosts target (this machine as a one-node hostfile): submit prints the
# id and returns while the detached monitor goes on.
echo "localhost slots=2" > "$WORK/hosts"
id=$("$ROOST" submit --mpirun "$MPIRUN" --experiment fashion --target hosts --hostfile "$WORK/hosts" --nodes 1 --procs-per-node 2 \
  --workspace "$WS" -- --data-dir "$WORK/data" --epochs 1 "${TINY[@]}" 2>/dev/null)
[ "$id" = 2 ] || fail "submit printed '$id'"
grep -q -- "-np 2 --hostfile $WORK/hosts --map-by ppr:2:node" "$WS/experiments/fashion/runs/2/command.sh" ||
  fail "hosts command: $(cat "$WS/experiments/fashion/runs/2/command.sh")"
wait_status 2 Completed 300
[ "$(db "SELECT count(*) FROM metrics WHERE run_id = 2")" = 1 ] || fail "run 2 metrics"
echo "ok: submit lifecycle, logs, metrics, registry"
