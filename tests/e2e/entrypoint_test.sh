#!/usr/bin/env bash
# entrypoint_test.sh — docker/entrypoint.sh without Docker: a fake `roost` on PATH prints the
# arguments it got, and the launcher's variables (Open MPI, PMIx, Slurm) are set by hand.
# Checks that `train` gets --output-dir $ROOST_OUTPUT_DIR (default /outputs) only when it has
# none, that arguments pass unchanged (spaces included), that each rank logs one stderr line
# naming its rank, that other commands run as they are, and that roost replaces the script.
set -euo pipefail
ENTRY=$(cd "$(dirname "$0")/../.." && pwd)/docker/entrypoint.sh
WORK=$(mktemp -d /tmp/roost-entrypoint.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$WORK/bin"
cat > "$WORK/bin/roost" <<'EOF'
#!/usr/bin/env bash
# Fake roost: its pid on the first line, then one argument per line.
echo "pid $$"
printf '%s\n' "$@"
exit "${FAKE_RC:-0}"
EOF
chmod +x "$WORK/bin/roost"
LAUNCHER_VARS=(OMPI_COMM_WORLD_RANK OMPI_COMM_WORLD_SIZE OMPI_COMM_WORLD_LOCAL_RANK PMIX_RANK
               SLURM_PROCID SLURM_NTASKS SLURM_LOCALID ROOST_OUTPUT_DIR)

run() {  # VAR=value... -- entrypoint arguments: stdout to $WORK/out (pid line dropped), stderr to $WORK/err
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local unset_args=()
  for v in "${LAUNCHER_VARS[@]}"; do unset_args+=(-u "$v"); done
  env "${unset_args[@]}" PATH="$WORK/bin:$PATH" "${envs[@]}" "$ENTRY" "$@" > "$WORK/raw" 2> "$WORK/err"
  sed 1d "$WORK/raw" > "$WORK/out"
}
expect_args() {  # what, expected arguments...
  local what=$1; shift
  printf '%s\n' "$@" > "$WORK/want"
  diff -u "$WORK/want" "$WORK/out" > "$WORK/diff" || fail "$what: roost got other arguments:
$(cat "$WORK/diff")"
}
expect_log() {  # what, substring the one stderr line must hold
  [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "$1: expected one stderr line, got: $(cat "$WORK/err")"
  grep -qF -- "$2" "$WORK/err" || fail "$1: stderr lacks '$2': $(cat "$WORK/err")"
}

# --output-dir is added when absent: $ROOST_OUTPUT_DIR, else /outputs.
run -- train --data-dir /data --epochs 3
expect_args "default output dir" train --output-dir /outputs --data-dir /data --epochs 3
expect_log "no launcher" "rank 0 of 1 (local 0, no launcher)"
expect_log "no launcher" "outputs in /outputs"
run ROOST_OUTPUT_DIR=/mnt/runs/a -- train --data-dir /data
expect_args "ROOST_OUTPUT_DIR" train --output-dir /mnt/runs/a --data-dir /data

# ... and kept as it is when present, in either spelling; values with spaces stay one argument.
run ROOST_OUTPUT_DIR=/ignored -- train --data-dir "/data/my set" --output-dir /mine --resume auto
expect_args "--output-dir DIR" train --data-dir "/data/my set" --output-dir /mine --resume auto
expect_log "--output-dir DIR" "outputs in /mine"
run -- train --output-dir=/mine2 --data-dir /data
expect_args "--output-dir=DIR" train --output-dir=/mine2 --data-dir /data
expect_log "--output-dir=DIR" "outputs in /mine2"

# Rank, world size and local rank from each launcher; Open MPI wins inside a Slurm job
# (mpirun under sbatch), PMIx (srun --mpi=pmix) takes the task count from Slurm.
run OMPI_COMM_WORLD_RANK=3 OMPI_COMM_WORLD_SIZE=8 OMPI_COMM_WORLD_LOCAL_RANK=1 \
    SLURM_PROCID=0 SLURM_NTASKS=1 -- train --data-dir /data
expect_log "Open MPI" "rank 3 of 8 (local 1, Open MPI)"
expect_args "Open MPI" train --output-dir /outputs --data-dir /data
run PMIX_RANK=5 SLURM_PROCID=5 SLURM_NTASKS=16 SLURM_LOCALID=1 -- train --data-dir /data
expect_log "PMIx" "rank 5 of 16 (local 1, PMIx)"
run SLURM_PROCID=7 SLURM_NTASKS=8 SLURM_LOCALID=3 -- train --data-dir /data
expect_log "Slurm" "rank 7 of 8 (local 3, Slurm)"

# serve listens on every address of the container unless --host says otherwise.
run -- serve --model /models/model.h5 --port 8000
expect_args "serve" serve --host 0.0.0.0 --model /models/model.h5 --port 8000
run -- serve --model /m.h5 --host=127.0.0.1
expect_args "serve --host" serve --model /m.h5 --host=127.0.0.1

# Other commands run as they are, with nothing added and nothing logged.
run OMPI_COMM_WORLD_RANK=0 -- roost data fashion-mnist --out "/data/fashion 2"
expect_args "other roost command" data fashion-mnist --out "/data/fashion 2"
[ ! -s "$WORK/err" ] || fail "other command: unexpected stderr: $(cat "$WORK/err")"
run -- printf '%s\n' "pid 0" "a b" c  # "pid 0" stands in for the line run() drops
expect_args "arbitrary command" "a b" c

# roost replaces the entrypoint (same pid), so a SIGTERM to the container's process reaches
# roost itself; its exit status (143 after a checkpoint on SIGTERM) is the container's.
rc=0
env PATH="$WORK/bin:$PATH" FAKE_RC=143 bash -c 'echo "shell $$"; exec "$0" "$@"' "$ENTRY" train \
  > "$WORK/raw" 2> "$WORK/err" || rc=$?
[ "$rc" -eq 143 ] || fail "exit status $rc, want roost's 143"
shell_pid=$(sed -n 's/^shell //p' "$WORK/raw")
roost_pid=$(sed -n 's/^pid //p' "$WORK/raw")
[ -n "$shell_pid" ] && [ "$shell_pid" = "$roost_pid" ] \
  || fail "roost runs as pid $roost_pid, not in place of the entrypoint ($shell_pid)"
echo "ok: entrypoint adds --output-dir only when absent, logs the rank, runs other commands as they are"
