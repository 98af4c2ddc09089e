#!/usr/bin/env bash
# slurm_template_test.sh — launch/slurm/train.sbatch without Slurm: `bash -n`, the essential
# #SBATCH directives (one task per GPU, an early signal, requeue, an appended per-job log),
# and its behaviour with fake srun and scontrol on PATH: the ranks run roost train with
# --resume auto into one folder per job; only a time-limit stop (SIGUSR1 to the script, which
# passes SIGTERM on) is requeued, not a cancel, a failure or a success; a SIGTERM to the
# script itself does not end it before the ranks do.
set -euo pipefail
SBATCH=$(cd "$(dirname "$0")/../.." && pwd)/launch/slurm/train.sbatch
WORK=$(mktemp -d /tmp/roost-sbatch.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

bash -n "$SBATCH" || fail "bash -n $SBATCH"

# --- directives: sbatch reads #SBATCH lines only above the first command ---------------------
first_cmd=$(grep -n -v -E '^[[:space:]]*(#|$)' "$SBATCH" | head -1 | cut -d: -f1)
last_directive=$(grep -n '^#SBATCH' "$SBATCH" | tail -1 | cut -d: -f1)
[ "$last_directive" -lt "$first_cmd" ] || fail "an #SBATCH line follows the first command (line $first_cmd): sbatch ignores it"
directive() { sed -n "s/^#SBATCH --$1=\\([^[:space:]]*\\).*/\\1/p" "$SBATCH" | tail -1; }
tasks=$(directive ntasks-per-node)
gpus=$(directive gres | sed -n 's/^gpu:\([0-9]*\)$/\1/p')
[ -n "$gpus" ] || gpus=$(directive gpus-per-node)
[ -n "$tasks" ] && [ "$tasks" = "$gpus" ] || fail "--ntasks-per-node=$tasks but $gpus GPUs per node: one rank per GPU"
directive signal | grep -qE '^(B:)?[A-Z0-9]+@[0-9]+$' || fail "no --signal=SIG@SECONDS to stop before the time limit"
grep -q '^#SBATCH --requeue' "$SBATCH" || fail "no #SBATCH --requeue"
[ "$(directive open-mode)" = append ] || fail "no --open-mode=append: a requeued job would overwrite its log"
directive output | grep -q '%j' || fail "--output does not name the job id"

# --- behaviour with fake srun and scontrol --------------------------------------------------
mkdir "$WORK/bin"
cat > "$WORK/bin/srun" <<'EOF'
#!/usr/bin/env bash
# Fake srun: records its arguments; FAKE_WAIT: runs until SIGTERM (exit 143, as roost after a
# checkpoint), else exits FAKE_RC.
printf '%s\n' "$@" > "$WORK/srun.args"
if [ -n "${FAKE_WAIT:-}" ]; then
  trap 'echo TERM >> "$WORK/srun.signals"; exit 143' TERM
  echo $$ > "$WORK/srun.pid"
  for _ in $(seq 200); do sleep 0.05; done
  exit 99
fi
exit "${FAKE_RC:-0}"
EOF
printf '#!/usr/bin/env bash\nprintf "%%s\\n" "$@" > "$WORK/scontrol.args"\n' > "$WORK/bin/scontrol"
chmod +x "$WORK/bin/srun" "$WORK/bin/scontrol"
export WORK PATH="$WORK/bin:$PATH" SLURM_JOB_ID=4242 SLURM_JOB_NAME=roost SLURM_NTASKS=16 \
  SLURM_JOB_NUM_NODES=2 ROOST_RUNS="$WORK/runs"
unset SLURM_RESTART_COUNT ROOST_BIN ROOST_MAX_REQUEUES FAKE_WAIT FAKE_RC

start() {  # starts the script in the background (pid in $job) and waits for the fake ranks
  rm -f "$WORK"/srun.* "$WORK/scontrol.args"
  bash "$SBATCH" /data/fowl --epochs 3 > "$WORK/log" 2>&1 &
  job=$!
  for _ in $(seq 100); do [ -s "$WORK/srun.pid" ] && return; sleep 0.05; done
  fail "the fake srun did not start: $(cat "$WORK/log")"
}
finish() {  # waits for the script; $rc is its exit status
  rc=0; wait "$job" || rc=$?
}
requeued() { [ -f "$WORK/scontrol.args" ] && [ "$(tr '\n' ' ' < "$WORK/scontrol.args")" = "requeue 4242 " ]; }

# Success: the srun line, the folder per job, no requeue.
rm -f "$WORK/scontrol.args"
rc=0; bash "$SBATCH" /data/fowl --epochs 3 --amp bf16 > "$WORK/log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "completed run: exit $rc: $(cat "$WORK/log")"
printf '%s\n' --mpi=pmix --kill-on-bad-exit=1 roost train --data-dir /data/fowl \
  --output-dir "$WORK/runs/roost-4242" --resume auto --epochs 3 --amp bf16 > "$WORK/want"
diff -u "$WORK/want" "$WORK/srun.args" || fail "srun got other arguments"
[ -d "$WORK/runs/roost-4242" ] || fail "the job's output folder was not made"
[ ! -f "$WORK/scontrol.args" ] || fail "a completed run was requeued"

# Cancelled or preempted (the ranks exit 143 on their own SIGTERM): Slurm decides, no requeue here.
rc=0; FAKE_RC=143 bash "$SBATCH" /data/fowl > "$WORK/log" 2>&1 || rc=$?
[ "$rc" -eq 143 ] && [ ! -f "$WORK/scontrol.args" ] || fail "SIGTERM stop: exit $rc, requeued: $(cat "$WORK/scontrol.args" 2>/dev/null)"
# A failure is not requeued either (it would fail again, for ever).
rc=0; FAKE_RC=2 bash "$SBATCH" /data/fowl > "$WORK/log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && [ ! -f "$WORK/scontrol.args" ] || fail "failed run: exit $rc, requeued: $(cat "$WORK/scontrol.args" 2>/dev/null)"

# Time limit: SIGUSR1 to the script -> SIGTERM to srun -> exit 143 -> scontrol requeue.
export FAKE_WAIT=1
start
kill -USR1 "$job"
finish
[ "$rc" -eq 143 ] || fail "time limit: exit $rc: $(cat "$WORK/log")"
grep -q TERM "$WORK/srun.signals" 2>/dev/null || fail "time limit: srun got no SIGTERM"
requeued || fail "time limit: the job was not requeued: $(cat "$WORK/log")"
# ... but not beyond ROOST_MAX_REQUEUES.
SLURM_RESTART_COUNT=3 ROOST_MAX_REQUEUES=3 start
kill -USR1 "$job"
finish
[ "$rc" -eq 143 ] && ! requeued || fail "time limit after ROOST_MAX_REQUEUES: exit $rc, requeued anyway"

# SIGTERM to the script (scancel, preemption): it waits for the ranks, and does not requeue.
start
kill -TERM "$job"
sleep 0.3
kill -0 "$job" 2>/dev/null || fail "SIGTERM ended the script before the ranks: $(cat "$WORK/log")"
kill -TERM "$(cat "$WORK/srun.pid")"
finish
[ "$rc" -eq 143 ] && ! requeued || fail "scancel: exit $rc, requeued: $(cat "$WORK/scontrol.args" 2>/dev/null)"
unset FAKE_WAIT

# Outside a Slurm job, or without a data folder: a clear message, nothing run.
rc=0; env -u SLURM_JOB_ID bash "$SBATCH" /data/fowl > "$WORK/log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -q sbatch "$WORK/log" || fail "outside Slurm: exit $rc: $(cat "$WORK/log")"
rc=0; bash "$SBATCH" > "$WORK/log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -q usage "$WORK/log" || fail "no DATA_DIR: exit $rc: $(cat "$WORK/log")"
echo "ok: train.sbatch: one rank per GPU, --resume auto into runs/<job>-<id>, requeued only at the time limit"
