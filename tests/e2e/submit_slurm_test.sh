#!/usr/bin/env bash
# submit_slurm_test.sh — roost submit on a real Slurm: starts munged, slurmctld and slurmd on
# this machine (one node with as many CPUs as it has, see slurm_cluster.sh), submits a 2-task
# training run with --target slurm --wait, and checks that the run was an sbatch job that
# reached Completed with its outputs, both ranks' logs and its metrics in the store; then a
# second, long job is canceled with roost runs cancel (scancel): it ends Canceled in the store
# and in Slurm, and its ranks, signalled by Slurm, checkpoint and exit 143 on their own. The
# daemons are stopped on exit, and whatever of the jobs still runs is killed before the work
# folder goes. Exits 77 where Slurm cannot start here.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/submit_common.sh"
source "$(dirname "$0")/slurm_cluster.sh"
# The jobs' processes belong to slurmstepd, not to this shell: none may still write into $WORK
# while it is removed.
trap 'slurm_cluster_stop; pkill -KILL -f "$WORK/" 2>/dev/null; rm -rf "$WORK"' EXIT

rc=0
slurm_cluster_start "$WORK/slurm" || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"

make_tiny_dataset "$WORK/data" 6 4 32
rc=0
# The job inherits this environment (sbatch --export=ALL): mpirun's run-as-root settings included.
timeout 300 "$ROOST" submit --mpirun "$MPIRUN" --experiment slurm --target slurm --np 2 --workspace "$WS" --wait -- \
  --data-dir "$WORK/data" --epochs 1 "${TINY[@]}" > "$WORK/stdout" 2> "$WORK/stderr" || rc=$?
RUN=$WS/experiments/slurm/runs/1
[ "$rc" -eq 0 ] || fail "submit --target slurm --wait exited $rc: $(cat "$WORK/stderr"); driver log: $(cat "$RUN/logs/driver.log" 2>&1); slurmctld: $(tail -5 "$WORK/slurm/log/slurmctld.log")"
job=$(db "SELECT scheduler_id FROM runs WHERE id = 1")
[ -n "$job" ] || fail "no Slurm job id recorded"
grep -q "Slurm job $job" "$WORK/stderr" || fail "submit did not name the job: $(cat "$WORK/stderr")"
[ "$(status_of 1)" = Completed ] || fail "status $(status_of 1)"
scontrol show job -o "$job" | grep -q "JobState=COMPLETED" || fail "Slurm says: $(scontrol show job -o "$job")"
grep -q "#SBATCH --ntasks=2" "$RUN/job.sbatch" || fail "job.sbatch: $(cat "$RUN/job.sbatch")"
grep -q "sbatch --parsable" "$RUN/command.sh" || fail "command.sh: $(cat "$RUN/command.sh")"
grep -q "roost: Slurm job $job, 2 tasks" "$RUN/logs/driver.log" || fail "driver log: $(cat "$RUN/logs/driver.log")"
[ -e "$RUN/logs/rank-1.log" ] && [ "$(cat "$RUN/logs/rank-1.exit")" = 0 ] || fail "rank 1 left no console log or exit status"
for f in logs/rank-0.log outputs/logs/rank-1.log outputs/model.h5 outputs/metrics.jsonl exit-status; do
  [ -s "$RUN/$f" ] || fail "missing $RUN/$f"
done
[ "$(db "SELECT count(*) FROM metrics WHERE run_id = 1")" = 1 ] || fail "metrics not ingested"
grep -q "Running" <(db "SELECT status FROM run_events WHERE run_id = 1") || fail "never Running: $(db 'SELECT * FROM run_events')"

# Cancel: a long job, canceled once it runs, ends Canceled in the store and in Slurm.
id=$("$ROOST" submit --mpirun "$MPIRUN" --experiment slurm --target slurm --np 2 --workspace "$WS" -- \
  --data-dir "$WORK/data" --epochs 500 "${TINY[@]}" 2>/dev/null)
wait_status "$id" Running 120
job2=$(db "SELECT scheduler_id FROM runs WHERE id = $id")
"$ROOST" runs cancel "$id" --workspace "$WS" 2>/dev/null || fail "cancel of the Slurm run failed"
[ "$(status_of "$id")" = Canceled ] || fail "status after cancel: $(status_of "$id")"
for _ in $(seq 100); do
  scontrol show job -o "$job2" | grep -q "JobState=CANCELLED" && break
  sleep 0.2
done
scontrol show job -o "$job2" | grep -q "JobState=CANCELLED" || fail "Slurm job $job2: $(scontrol show job -o "$job2")"
# Its monitor ends by itself (before the daemons go, or it would ask a controller that is gone).
monitor=$(db "SELECT monitor_pid FROM runs WHERE id = $id")
for _ in $(seq 50); do
  [ -d "/proc/$monitor" ] && ! grep -q '^State:.*Z' "/proc/$monitor/status" 2>/dev/null || break
  sleep 0.2
done
[ -d "/proc/$monitor" ] && ! grep -q '^State:.*Z' "/proc/$monitor/status" 2>/dev/null &&
  fail "the monitor (pid $monitor) of the canceled Slurm run is still running"
# The ranks stop as on SIGTERM (roost runs cancel returned once scancel had): each writes its
# exit status after a step checkpoint, within Slurm's KillWait. (mpirun, signalled too, sleeps
# out its odls_base_sigkill_timeout before it exits; the trap kills it.)
RUN2=$WS/experiments/slurm/runs/$id
expect_stopped_by_sigterm "$RUN2" 60
pgrep -af "^$ROOST train .*$RUN2/outputs" && fail "a rank of the canceled Slurm job runs after its exit file"
echo "ok: Slurm job $job completed and job $job2 was canceled through roost, its ranks checkpointed"
