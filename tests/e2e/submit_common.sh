# submit_common.sh — helpers for the `roost submit` tests (sourced after common.sh).
command -v sqlite3 >/dev/null || { echo "SKIP: the sqlite3 program is not installed"; exit 77; }
WS=$WORK/ws
# One tiny, quick epoch per --epochs on the 32-px dataset.
TINY=(--batch-size 4 --image-size 32 --resize-short 36 --workers 1 --threads 1 --log-every 1 --progress lines)

db() { sqlite3 -cmd ".timeout 10000" "$WS/roost.db" "$@"; }
status_of() { db "SELECT status FROM runs WHERE id = $1"; }

wait_status() {  # run-id wanted-status-regex seconds
  local id=$1 want=$2 deadline=$((SECONDS + $3)) s
  while :; do
    s=$(status_of "$id")
    [[ $s =~ ^($want)$ ]] && return 0
    [ $SECONDS -lt $deadline ] || fail "run $id is '$s' after $3 s, expected $want (roost runs show: $("$ROOST" runs show "$id" --workspace "$WS" 2>&1))"
    sleep 0.3
  done
}

# A canceled 2-rank run stopped as on SIGTERM: every rank wrote exit status 143 (waited for up
# to `seconds`), after a step checkpoint and a summary that names the stop.
expect_stopped_by_sigterm() {  # run-dir seconds
  local run=$1 r
  for _ in $(seq $(($2 * 5))); do
    [ -e "$run/logs/rank-0.exit" ] && [ -e "$run/logs/rank-1.exit" ] && break
    sleep 0.2
  done
  for r in 0 1; do
    [ "$(cat "$run/logs/rank-$r.exit" 2>/dev/null)" = 143 ] ||
      fail "$run, rank $r: exit file says '$(cat "$run/logs/rank-$r.exit" 2>/dev/null)', want 143; log: $(tail -3 "$run/logs/rank-$r.log" 2>&1)"
  done
  "$PYTHON" -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['status']=='stopped by SIGTERM', s['status']" \
    "$run/outputs/summary.json" || fail "$run: summary.json after cancel"
  ls "$run/outputs/checkpoints" | grep -q '^epoch-' || fail "$run: no checkpoint after cancel: $(ls -R "$run/outputs")"
}
