#!/usr/bin/env bash
# restart_test.sh — `roost submit --max-restarts`: a job that loses a rank is launched again
# from its newest checkpoint and the run ends Completed, its history naming the restart.
# 1. local target, np 2: rank 1 is killed (SIGKILL) in epoch 2; the job restarts on 2 ranks.
# 2. hosts target with a discovery script (the host is this machine, reached without ssh):
#    rank 1 is killed and the script then lists one slot; the job goes on with np 1.
# 3. the same with --min-np 2: the restart cannot reach the minimum and the run fails saying so.
# Across real nodes (network namespaces with sshd): multinode_test.sh.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/submit_common.sh"
[ -n "${KEEP_WORK:-}" ] && trap - EXIT

make_tiny_dataset "$WORK/data" 32 4 32

# The pid of rank `rank` of run `id` once rank 0 has logged a step of epoch `epoch`.
rank_pid() {  # id rank epoch
  local log="$WS/experiments/e/runs/$1/logs/rank-0.log" p
  for _ in $(seq 600); do
    grep -q "epoch $3/[0-9]* step" "$log" 2>/dev/null && break
    sleep 0.1
  done
  for _ in $(seq 50); do
    for p in $(pgrep -x roost); do
      tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" || continue
      tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "runs/$1/outputs" && echo "$p" && return
    done
    sleep 0.1
  done
  echo "rank $2 of run $1 not found; run status $(status_of "$1"); roost processes:" >&2
  for p in $(pgrep -x roost); do tr '\0' ' ' < "/proc/$p/cmdline" >&2; echo >&2; done
}
show() { "$ROOST" runs show "$1" --workspace "$WS"; }
json_field() { "$ROOST" runs show "$1" --workspace "$WS" --json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$2"; }

# --- 1. local: a rank dies, the world restarts at the same size -----------------------------
id=$("$ROOST" submit --mpirun "$MPIRUN" --experiment e --np 2 --max-restarts 2 --workspace "$WS" -- \
  --data-dir "$WORK/data" --epochs 3 "${TINY[@]}")
pid=$(rank_pid "$id" 1 2)
[ -n "$pid" ] || fail "run $id: rank 1 not found in epoch 2"
kill -KILL "$pid"
wait_status "$id" Completed 240
[ "$(json_field "$id" restarts)" = 1 ] || fail "run $id: restarts $(json_field "$id" restarts), want 1"
show "$id" > "$WORK/show1"
grep -q "^restarts: *1$" "$WORK/show1" || fail "runs show has no restart count: $(cat "$WORK/show1")"
grep -q "restart 1 of 2: rank 1 exited with status 137 .*relaunched with np 2 on this machine" "$WORK/show1" ||
  fail "runs show does not say why and where it restarted: $(cat "$WORK/show1")"
run_dir="$WS/experiments/e/runs/$id"
[ "$(cat "$run_dir/logs/attempt-1/rank-1.exit")" = 137 ] || fail "the failed attempt's logs were not kept"
grep -q "resum" "$run_dir/logs/rank-0.log" || fail "the restart did not resume: $(head -5 "$run_dir/logs/rank-0.log")"
grep -q -- "--resume auto" "$run_dir/command.sh" || fail "the relaunch command lacks --resume auto"
[ "$(db "SELECT count(*) FROM metrics WHERE run_id = $id")" = 3 ] || fail "run $id: not 3 epochs of metrics"

# --- 2. hosts + discovery: a slot is lost, the job shrinks to np 1 ----------------------------
echo "localhost:2" > "$WORK/slots"
cat > "$WORK/discover.sh" <<EOF
#!/bin/sh
cat "$WORK/slots"
EOF
chmod +x "$WORK/discover.sh"
id=$("$ROOST" submit --mpirun "$MPIRUN" --experiment e --target hosts --host-discovery-script "$WORK/discover.sh" \
  --max-restarts 1 --min-np 1 --workspace "$WS" -- --data-dir "$WORK/data" --epochs 3 "${TINY[@]}")
[ "$(db "SELECT np FROM runs WHERE id = $id")" = 2 ] || fail "discovery's 2 slots did not give np 2"
pid=$(rank_pid "$id" 1 2)
[ -n "$pid" ] || fail "run $id: rank 1 not found in epoch 2"
echo "localhost:1" > "$WORK/slots"
kill -KILL "$pid"
wait_status "$id" Completed 240
show "$id" > "$WORK/show2"
grep -q "restart 1 of 1: rank 1 exited with status 137 .*discovered localhost:1; relaunched with np 1 on localhost:1" \
  "$WORK/show2" || fail "runs show: $(cat "$WORK/show2")"
grep -q "^ranks: *1$" "$WORK/show2" || fail "the run's rank count is not the restart's"
grep -q "global batch is now 4 (was 8)" "$WS/experiments/e/runs/$id/logs/rank-0.log" ||
  fail "np 1 did not say the global batch changed"

# --- 3. not enough slots for --min-np: Failed, saying why ------------------------------------
echo "localhost:2" > "$WORK/slots"
id=$("$ROOST" submit --mpirun "$MPIRUN" --experiment e --target hosts --host-discovery-script "$WORK/discover.sh" \
  --max-restarts 3 --min-np 2 --workspace "$WS" -- --data-dir "$WORK/data" --epochs 2 "${TINY[@]}")
pid=$(rank_pid "$id" 1 1)
[ -n "$pid" ] || fail "run $id: rank 1 not found"
echo "localhost:1" > "$WORK/slots"
kill -KILL "$pid"
wait_status "$id" Failed 120
msg=$(db "SELECT message FROM runs WHERE id = $id")
[[ $msg == *"restart 1 of 3 not possible: 1 slot available (localhost:1), --min-np is 2"* ]] ||
  fail "message of the failed restart: $msg"

# --- bad policies are refused before anything is recorded -------------------------------------
n=$(db "SELECT count(*) FROM runs")
for bad in "--max-restarts -1" "--min-np 3 --max-np 2" "--np 4 --max-np 2" "--host-discovery-script /nonexistent"; do
  rc=0
  # shellcheck disable=SC2086
  "$ROOST" submit --experiment e --workspace "$WS" $bad -- --data-dir "$WORK/data" 2> "$WORK/err" > /dev/null || rc=$?
  [ "$rc" = 2 ] && [ "$(wc -l < "$WORK/err")" = 1 ] || fail "submit $bad: exit $rc, $(cat "$WORK/err")"
done
[ "$(db "SELECT count(*) FROM runs")" = "$n" ] || fail "a refused submit recorded a run"
echo "ok: restarts"
