#!/usr/bin/env bash
# ui_test.sh — roost ui over a workspace with real runs (one finished, one failed, one training):
# the JSON API with curl (the documents equal `roost runs list|show --json`; unknown runs, path
# traversal and huge queries are 4xx with one-line JSON errors; actions need --allow-actions and
# the token), then headless Chromium through chromedriver (ui_browser.py): rows and statuses,
# charts with the right number of points, one growing while its run trains, the failed run's
# error in its log panel, models, and the training run canceled with the page's button and the
# printed token; then a real two-trial sweep: /api/sweeps[/ID] equal `roost sweeps list|show
# --json`, a trial's run names its sweep, and the sweep pages show its trials and charts.
# Screenshots go to $ROOST_UI_TEST_OUT (default: $WORK, removed at the end).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/submit_common.sh"
for p in curl chromium chromedriver; do
  command -v $p >/dev/null || { echo "SKIP: $p is not installed (launch/install-deps.sh installs it)"; exit 77; }
done
OUT=${ROOST_UI_TEST_OUT:-$WORK/shots}
mkdir -p "$OUT"
UI_PIDS=()
cleanup() {
  for p in "${UI_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  "$ROOST" runs cancel 3 --workspace "$WS" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Bad command lines: one line on stderr, exit 2, before anything listens.
for bad in "--workspace $WORK/none" "--port 70000" "--port x" "--bogus"; do
  rc=0
  "$ROOST" ui $bad 2> "$WORK/err" || rc=$?
  [ "$rc" = 2 ] && [ "$(wc -l < "$WORK/err")" -le 2 ] || fail "roost ui $bad: exit $rc, stderr: $(cat "$WORK/err")"
done

make_tiny_dataset "$WORK/data" 6 4 32
sub() { "$ROOST" submit --mpirun "$MPIRUN" --np 1 --workspace "$WS" "$@"; }
sub --experiment demo --wait -- --data-dir "$WORK/data" --epochs 3 "${TINY[@]}" > /dev/null 2>&1 || fail "run 1 failed"
echo "these are not weights" > "$WORK/garbage.h5"
! sub --experiment broken --wait --skip-data-check -- --data-dir "$WORK/data" --epochs 1 --pretrained "$WORK/garbage.h5" \
  "${TINY[@]}" > /dev/null 2>&1 || fail "run 2 did not fail"
sub --experiment long -- --data-dir "$WORK/data" --epochs 5000 "${TINY[@]}" > /dev/null 2>&1
wait_status 3 Running 60
ln -s /etc "$WS/experiments/demo/runs/1/escape"  # a symbolic link out of the workspace

start_ui() {  # options...; sets URL (and TOKEN with --allow-actions)
  local log=$WORK/ui.$#.log
  "$ROOST" ui --workspace "$WS" --port 0 "$@" 2> "$log" &
  UI_PIDS+=($!)
  for _ in $(seq 100); do grep -q "on http://" "$log" && break; sleep 0.1; done
  URL=$(grep -o "http://127.0.0.1:[0-9]*" "$log" | head -1)
  [ -n "$URL" ] || fail "roost ui did not start: $(cat "$log")"
  TOKEN=$(sed -n 's/.*token \([0-9a-f]*\) .*/\1/p' "$log")
}
start_ui
# code URL-path [curl options]: prints the HTTP status; the body lands in $WORK/body.
code() { local p=$1; shift; curl -s -o "$WORK/body" -w '%{http_code}' "$@" "$URL$p"; }
expect() {  # status URL-path [curl options]
  local want=$1 got; shift
  got=$(code "$@")
  [ "$got" = "$want" ] || fail "$*: HTTP $got, expected $want: $(head -c 300 "$WORK/body")"
  if [ "${want:0:1}" = 4 ]; then  # errors are one line of JSON with "error"
    [ "$(wc -l < "$WORK/body")" = 1 ] && "$PYTHON" -c "import json,sys; assert json.load(open(sys.argv[1]))['error']" \
      "$WORK/body" || fail "$*: the error is not one line of JSON: $(cat "$WORK/body")"
  fi
}

# --- the API -------------------------------------------------------------------------------
expect 200 /api/runs/1
"$ROOST" runs show 1 --json --workspace "$WS" > "$WORK/show.json"
"$PYTHON" - "$WORK/body" "$WORK/show.json" <<'PY' || fail "/api/runs/1 differs from roost runs show 1 --json"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
assert a["status"] == "Completed" and len(a["metrics"]) == 3 and a["metrics"][2]["epoch"] == 3, a
PY
expect 200 /api/runs
"$ROOST" runs list --json --workspace "$WS" > "$WORK/list.json"
"$PYTHON" - "$WORK/body" "$WORK/list.json" <<'PY' || fail "/api/runs differs from roost runs list --json"
import json, sys
a, b = (json.load(open(p))["runs"] for p in sys.argv[1:3])
assert [r["id"] for r in a] == [r["id"] for r in b] == [1, 2, 3]
assert a[:2] == b[:2], (a[:2], b[:2])  # the ended runs; the training one moves on between the two
assert [r["status"] for r in a] == ["Completed", "Failed", "Running"], a
PY
expect 200 "/api/runs/2/log?stream=rank&rank=0"
grep -q "garbage.h5" "$WORK/body" || fail "run 2's log lacks its error: $(head -c 300 "$WORK/body")"
expect 200 "/api/runs/1/log?stream=train&offset=0"
expect 200 /api/runs/1/files
grep -q "training_curves.png" "$WORK/body" || fail "run 1's files lack the curves PNG"
expect 200 "/files?path=experiments/demo/runs/1/outputs/training_curves.png"
expect 200 /api/models
expect 200 /
grep -q "/assets/app.js" "$WORK/body" && ! grep -q "https\?://" "$WORK/body" || fail "the page is not self-contained"
expect 404 /api/runs/999
expect 404 /api/runs/99999999999999999999
expect 404 "/api/runs/1/log?rank=7"
expect 400 "/api/runs/1/log?offset=-1"
expect 404 /api/nothing
expect 403 "/files?path=../../../../etc/passwd"
expect 403 "/files?path=%2e%2e%2f%2e%2e%2fetc%2fpasswd"
expect 403 "/files?path=/etc/passwd"
expect 403 "/files?path=experiments/demo/runs/1/escape/passwd"
expect 404 "/files?path=experiments/demo/runs/1/no-such-file"
expect 404 "/assets/..%2f..%2fetc%2fpasswd"
expect 414 "/api/runs?experiment=$(head -c 20000 /dev/zero | tr '\0' a)"
expect 403 /api/runs/3/cancel -X POST -d ""
grep -q root: "$WORK/body" && fail "a file outside the workspace was served"
echo "ok: API documents, errors and refusals"

# --- actions ---------------------------------------------------------------------------------
READ_URL=$URL
start_ui --allow-actions
[ ${#TOKEN} = 32 ] || fail "no token printed: $(cat "$WORK"/ui.*.log)"
expect 401 /api/runs/3/cancel -X POST -d ""
expect 401 /api/runs/3/cancel -X POST -d "" -H "X-Roost-Token: wrong"
expect 200 /api/models -X POST -H "X-Roost-Token: $TOKEN" -d '{"run_id": 1, "name": "demo"}'
expect 400 /api/models -X POST -H "X-Roost-Token: $TOKEN" -d '{"run_id": 2, "name": "demo"}'
expect 400 /api/models -X POST -H "X-Roost-Token: $TOKEN" -d 'not json'
expect 200 /api/models
"$PYTHON" -c "import json,sys; m=json.load(open(sys.argv[1]))['models']; assert [(x['name'],x['version'],x['run_id']) for x in m]==[('demo',1,1)], m" \
  "$WORK/body" || fail "the registered model is not listed: $(cat "$WORK/body")"

# --- the browser, on the read-only server (while run 3 trains) ---------------------------------
"$PYTHON" "$(dirname "$0")/ui_browser.py" "$READ_URL" "$OUT" 1 3 2 3 demo:1 || fail "the browser checks failed"

"$PYTHON" "$(dirname "$0")/ui_browser.py" --cancel "$URL" "$TOKEN" 3 || fail "cancel from the page failed"
[ "$(status_of 3)" = Canceled ] || fail "run 3 is $(status_of 3) after the cancel action"
expect 409 /api/runs/3/cancel -X POST -d "" -H "X-Roost-Token: $TOKEN"
echo "ok: actions with the token only"

# --- a sweep ---------------------------------------------------------------------------------
"$ROOST" sweep --mpirun "$MPIRUN" --workspace "$WS" --experiment s --param "lr=choice(0.01,0.001)" --sampling grid \
  --max-runs 2 --max-concurrent 1 --policy none --wait -- --data-dir "$WORK/data" --epochs 2 "${TINY[@]}" \
  > "$WORK/sweep.out" 2>&1 || fail "the sweep failed: $(tail -5 "$WORK/sweep.out")"
WS_REAL=$(realpath "$WS")  # roost ui names files under the canonical workspace
expect 200 /api/sweeps/1
"$ROOST" sweeps show 1 --json --workspace "$WS_REAL" > "$WORK/sweep.json"
"$PYTHON" - "$WORK/body" "$WORK/sweep.json" <<'PY' || fail "/api/sweeps/1 differs from roost sweeps show 1 --json"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
assert a["status"] == "Completed" and a["settings"]["space"] == {"lr": "choice(0.01,0.001)"}, a
assert [(t["trial"], t["status"], t["epochs"], len(t["values"])) for t in a["trials"]] == \
    [(0, "Completed", 2, 2), (1, "Completed", 2, 2)], a["trials"]
assert a["best"]["run"] in (4, 5), a["best"]
PY
expect 200 /api/sweeps
"$ROOST" sweeps list --json --workspace "$WS" > "$WORK/sweeps.json"
"$PYTHON" - "$WORK/body" "$WORK/sweeps.json" <<'PY' || fail "/api/sweeps differs from roost sweeps list --json"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
assert [(s["id"], s["status"], s["trials"], s["policy"], s["sampling"]) for s in a["sweeps"]] == \
    [(1, "Completed", 2, "none", "grid")], a
PY
expect 404 /api/sweeps/7
expect 404 /api/sweeps/99999999999999999999
expect 200 /api/runs/5
"$PYTHON" -c "import json,sys; s=json.load(open(sys.argv[1]))['sweep']; assert s=={'sweep':1,'trial':1,'params':{'lr':'0.001'}}, s" \
  "$WORK/body" || fail "run 5's document does not name its sweep: $(head -c 300 "$WORK/body")"
expect 200 /api/runs/1
"$PYTHON" -c "import json,sys; assert json.load(open(sys.argv[1]))['sweep'] is None" "$WORK/body" ||
  fail "run 1 is no sweep trial, yet its document names a sweep"
output_has '^sweep: *1, trial 1, parameters {"lr": "0.001"}$' -- "$ROOST" runs show 5 --workspace "$WS" ||
  fail "roost runs show 5 does not name its sweep: $("$ROOST" runs show 5 --workspace "$WS" | head -12)"
"$PYTHON" "$(dirname "$0")/ui_browser.py" --sweep "$URL" "$OUT" 1 2 2 lr || fail "the browser's sweep checks failed"
echo "ok: sweeps in the API, in roost runs show and on the page"
ls "$OUT"/*.png > /dev/null || fail "no screenshots in $OUT"
echo "ok: roost ui (screenshots in $OUT)"
