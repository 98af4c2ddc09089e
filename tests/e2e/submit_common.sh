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
