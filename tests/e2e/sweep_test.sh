#!/usr/bin/env bash
# sweep_test.sh — roost sweep on a tiny Fashion-MNIST set: bad spaces and options end with exit
# 2 before any trial starts; 8 trials, 2 at a time, with the bandit policy finish, at least one
# is canceled by the policy with its reason in the run store, and the best trial's model
# registers; the same sweep with --policy none runs every trial to its end; a sweep whose
# driver is stopped is continued by --resume, the interrupted trial from its checkpoint.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/submit_common.sh"

make_tiny_dataset "$WORK/data" 40 20 32
TRAIN=(--data-dir "$WORK/data" --epochs 4 --batch-size 8 --image-size 32 --resize-short 36 --log-every 100 --progress none)
# A learning rate of 1e-5 leaves a trial near chance, the others learn: the bandit has work.
SPACE=(--param "lr=choice(0.00001,0.02,0.05)" --param "momentum=uniform(0.5,0.9)")
sweep() { "$ROOST" sweep --mpirun "$MPIRUN" --experiment fm --workspace "$WS" "$@"; }
show_json() { "$ROOST" sweeps show "$1" --json --workspace "$WS"; }
py() { "$PYTHON" -c "$@"; }

# Bad input: one line, exit 2, no sweep recorded.
for bad in "--param bogus=choice(1,2)" "--param lr=uniform(1,0)" "--param momentum=uniform(0.5,2)" \
           "--param lr=uniform(0,1) --sampling grid" "--param lr=uniform(0,1) --policy bandit"; do
  rc=0; sweep $bad --max-runs 2 -- "${TRAIN[@]}" > "$WORK/bad.out" 2> "$WORK/bad.err" || rc=$?
  [ "$rc" = 2 ] && [ "$(wc -l < "$WORK/bad.err")" = 1 ] || fail "'$bad': exit $rc, $(cat "$WORK/bad.err")"
done
[ ! -e "$WS/roost.db" ] || fail "a refused sweep created the workspace"

# Bandit: 8 trials, 2 at a time.
sweep "${SPACE[@]}" --max-runs 8 --max-concurrent 2 --seed 3 --policy bandit --slack-factor 0.1 --wait \
  -- "${TRAIN[@]}" 2> "$WORK/bandit.err" || { cat "$WORK/bandit.err"; fail "bandit sweep exited $?"; }
show_json 1 > "$WORK/bandit.json"
py 'import json,sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "Completed", s["status"]
t = s["trials"]
assert len(t) == 8, len(t)
assert all(x["status"] in ("Completed", "Canceled") for x in t), t
stopped = [x for x in t if x["stopped_by"].startswith("early termination by bandit at epoch ")]
assert stopped and all(x["status"] == "Canceled" and x["epochs"] < 4 or x["epochs"] == 4 for x in stopped), t
assert all(x["params"]["lr"] in ("0.00001", "1e-05", "0.02", "0.05") for x in t), t
assert s["best"]["value"] >= 0.5, s["best"]
# A trial canceled at epoch K counts its first K epochs; the best completed trial is the
# best of the Completed ones (whose model can be registered).
for x in t:
    if x["status"] == "Canceled" and x["stopped_by"].startswith("early termination"):
        k = int(x["stopped_by"].split(" at epoch ")[1].split(":")[0])
        assert x["best"] == max(x["values"][:k]), x
done = [x for x in t if x["status"] == "Completed"]
assert done and s["best_completed"]["value"] == max(x["best"] for x in done), s["best_completed"]
assert s["best"]["value"] >= s["best_completed"]["value"], s
print(s["best_completed"]["run"], sum(x["epochs"] for x in t), s["best"]["value"])' "$WORK/bandit.json" > "$WORK/bandit.sum" ||
  fail "bandit sweep: $(cat "$WORK/bandit.json")"
read -r best_run bandit_epochs bandit_best < "$WORK/bandit.sum"
canceled=$(db "SELECT count(*) FROM runs r JOIN sweep_trials t ON t.run_id = r.id WHERE t.sweep_id = 1 AND r.status = 'Canceled'
               AND r.message LIKE 'early termination by bandit at epoch %'
               AND EXISTS (SELECT 1 FROM run_events e WHERE e.run_id = r.id AND e.status = 'Canceled' AND e.note = r.message)")
[ "$canceled" -ge 1 ] || fail "no run canceled by the policy with its reason: $(db 'SELECT id, status, message FROM runs')"
# The canceled runs stopped the way roost runs cancel stops one: their ranks checkpointed.
for id in $(db "SELECT r.id FROM runs r JOIN sweep_trials t ON t.run_id = r.id WHERE t.sweep_id = 1 AND r.status = 'Canceled'"); do
  grep -q '"status": "stopped by SIGTERM"' "$WS/experiments/fm/runs/$id/outputs/summary.json" 2>/dev/null ||
    [ "$(db "SELECT count(*) FROM metrics WHERE run_id = $id")" = 4 ] || fail "run $id was not stopped by a signal"
done
grep -q "threads=1" "$WS/experiments/fm/runs/1/command.sh" || fail "cores not split: $(cat "$WS/experiments/fm/runs/1/command.sh")"
head -c 8 "$WS/sweeps/1/sweep.png" | od -An -tx1 | grep -q "89 50 4e 47" || fail "no sweep PNG"
output_has "^best: *trial" -- "$ROOST" sweeps show 1 --workspace "$WS" || fail "sweeps show has no best trial"
output_has -E "^1 +fm +Completed +8 +bandit" -- "$ROOST" sweeps list --workspace "$WS" || fail "sweeps list: $("$ROOST" sweeps list --workspace "$WS")"
"$ROOST" models register --run "$best_run" --name fm-best --workspace "$WS" > "$WORK/register.out" 2>&1 ||
  fail "the best completed trial's model (run $best_run) did not register: $(cat "$WORK/register.out")"

# The same sweep without a policy: every trial runs its 4 epochs.
sweep "${SPACE[@]}" --max-runs 8 --max-concurrent 2 --seed 3 --policy none --wait -- "${TRAIN[@]}" 2> "$WORK/none.err" ||
  { cat "$WORK/none.err"; fail "sweep without a policy exited $?"; }
show_json 2 > "$WORK/none.json"
none_epochs=$(py 'import json,sys; s=json.load(open(sys.argv[1])); assert all(x["status"]=="Completed" and not x["stopped_by"] for x in s["trials"]), s; print(s["trial_epochs"])' "$WORK/none.json") ||
  fail "sweep without a policy: $(cat "$WORK/none.json")"
[ "$none_epochs" = 32 ] || fail "no-policy sweep ran $none_epochs trial-epochs, expected 32"
[ "$bandit_epochs" -lt 32 ] || fail "the bandit saved no epochs ($bandit_epochs)"

# Resume: the detached driver is stopped while a trial runs; --resume continues it.
id=$(sweep "${SPACE[@]}" --max-runs 3 --max-concurrent 1 --seed 5 -- "${TRAIN[@]}" --epochs 6 2>/dev/null)
[ "$id" = 3 ] || fail "sweep printed '$id'"
deadline=$((SECONDS + 120))
until [ "$(db "SELECT count(*) FROM sweep_trials t JOIN metrics m ON m.run_id = t.run_id WHERE t.sweep_id = 3")" -ge 1 ]; do
  [ $SECONDS -lt $deadline ] || fail "sweep 3 recorded no epoch"; sleep 0.3
done
kill -TERM "$(db 'SELECT driver_pid FROM sweeps WHERE id = 3')"
deadline=$((SECONDS + 60))
until [ "$(db 'SELECT status FROM sweeps WHERE id = 3')" = Interrupted ]; do
  [ $SECONDS -lt $deadline ] || fail "sweep 3 is $(db 'SELECT status FROM sweeps WHERE id = 3') after SIGTERM"; sleep 0.3
done
first=$(db "SELECT run_id FROM sweep_trials WHERE sweep_id = 3 AND stopped_by = 'sweep interrupted'")
[ -n "$first" ] || fail "no trial marked interrupted: $(db 'SELECT * FROM sweep_trials WHERE sweep_id = 3')"
"$ROOST" sweep --resume 3 --wait --workspace "$WS" 2> "$WORK/resume.err" || { cat "$WORK/resume.err"; fail "resume exited $?"; }
show_json 3 > "$WORK/resume.json"
py 'import json,sys
s = json.load(open(sys.argv[1])); first = sys.argv[2]
assert s["status"] == "Completed" and len(s["trials"]) == 3, s
t = [x for x in s["trials"] if x["previous_runs"] == first]
assert len(t) == 1 and t[0]["status"] == "Completed" and t[0]["epochs"] == 6, s' "$WORK/resume.json" "$first" ||
  fail "resumed sweep: $(cat "$WORK/resume.json")"
new=$(db "SELECT run_id FROM sweep_trials WHERE sweep_id = 3 AND previous_runs = '$first'")
grep -q "resum" "$WS/experiments/fm/runs/$new/outputs/logs/rank-0.log" || fail "run $new did not resume a checkpoint"
echo "ok: sweep (bandit $bandit_epochs trial-epochs, best $bandit_best; none $none_epochs), resume"
