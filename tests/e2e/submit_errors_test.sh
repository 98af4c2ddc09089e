#!/usr/bin/env bash
# submit_errors_test.sh — roost submit, runs and models refuse bad input with one line on
# stderr and exit code 2, and record no run for it: unknown target, missing hostfile, no
# Slurm, bad train options, a workspace database of a newer schema, a mistyped --workspace.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/submit_common.sh"

make_tiny_dataset "$WORK/data" 2 2 16
T=(-- --data-dir "$WORK/data" --epochs 1)
cases=0
expect() {  # expected-substring, then the roost arguments; roost's PATH is $ROOST_PATH when set
  local want=$1; shift
  local rc=0
  env ${ROOST_PATH:+PATH=$ROOST_PATH} "$ROOST" "$@" > "$WORK/o" 2> "$WORK/e" || rc=$?
  [ "$rc" -eq 2 ] || fail "roost $* exited $rc, expected 2 (stderr: $(cat "$WORK/e"))"
  [ "$(wc -l < "$WORK/e")" -eq 1 ] || fail "roost $*: expected one stderr line, got: $(cat "$WORK/e")"
  grep -q -- "$want" "$WORK/e" || fail "roost $*: stderr lacks '$want': $(cat "$WORK/e")"
  cases=$((cases + 1))
}

expect "unknown target 'moon'" submit --experiment e --target moon --workspace "$WS" "${T[@]}"
expect "hostfile $WORK/nohosts: missing or unreadable" submit --experiment e --target hosts --hostfile "$WORK/nohosts" \
  --workspace "$WS" "${T[@]}"
expect "needs --hostfile" submit --experiment e --target hosts --workspace "$WS" "${T[@]}"
ROOST_PATH=/nonexistent expect "sbatch not found" submit --experiment e --target slurm --workspace "$WS" "${T[@]}"
expect "--experiment is required" submit --workspace "$WS" "${T[@]}"
expect "no training options" submit --experiment e --workspace "$WS"
expect "epochs expects an integer" submit --experiment e --workspace "$WS" -- --data-dir "$WORK/data" --epochs abc
expect "output-dir is set by roost submit" submit --experiment e --workspace "$WS" "${T[@]}" --output-dir "$WORK/o2"
expect "nodata does not exist" submit --experiment e --workspace "$WS" -- --data-dir "$WORK/nodata"
expect "experiment 'a/b'" submit --experiment a/b --workspace "$WS" "${T[@]}"
expect "no run 42" runs show 42 --workspace "$WS"
expect "unknown runs command" runs frobnicate --workspace "$WS"
expect "no model named 'x'" models show --name x --workspace "$WS"
expect "typo is not a roost workspace" runs list --workspace "$WORK/typo"
expect "typo is not a roost workspace" models list --workspace "$WORK/typo"
[ ! -e "$WORK/typo" ] || fail "runs/models list created a workspace at a mistyped path"
[ "$(db 'SELECT count(*) FROM runs')" = 0 ] || fail "a refused submit recorded a run"

db "PRAGMA user_version = 99"
expect "schema version 99, newer than" runs list --workspace "$WS"
expect "schema version 99, newer than" submit --experiment e --workspace "$WS" "${T[@]}"
echo "ok: $cases error cases exit 2 with one line"
