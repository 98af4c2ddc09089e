#!/usr/bin/env bash
# entrypoint.sh — container entry for cloud jobs. With `train` arguments it runs roost train
# writing to $ROOST_OUTPUT_DIR (default /outputs) unless --output-dir is given; rank and world
# size come from the launcher (Open MPI, PMIx or Slurm set them; MPI_Init reads them).
# With `serve` arguments it runs roost serve listening on every address of the container
# (--host 0.0.0.0) unless --host is given. Any other command line is run as it is (e.g.
# mpirun ... roost-entrypoint train ...).
#
# Each rank started through this script logs one line on stderr saying which rank it is, so
# that a job's log shows every rank arrived. Nothing per rank needs setting here: roost picks
# its GPU itself (node-local rank modulo the devices it sees). roost replaces this shell
# (exec), so the scheduler's SIGTERM reaches roost directly and it can write its checkpoint.
set -euo pipefail
OUT=${ROOST_OUTPUT_DIR:-/outputs}

# "RANK SIZE LOCAL SOURCE" from whichever launcher started this process ("?" where unknown).
launcher_rank() {
  if [ -n "${OMPI_COMM_WORLD_RANK:-}" ]; then
    echo "$OMPI_COMM_WORLD_RANK ${OMPI_COMM_WORLD_SIZE:-?} ${OMPI_COMM_WORLD_LOCAL_RANK:-?} Open MPI"
  elif [ -n "${PMIX_RANK:-}" ]; then  # srun --mpi=pmix also sets Slurm's task counts
    echo "$PMIX_RANK ${SLURM_NTASKS:-?} ${SLURM_LOCALID:-?} PMIx"
  elif [ -n "${SLURM_PROCID:-}" ]; then
    echo "$SLURM_PROCID ${SLURM_NTASKS:-?} ${SLURM_LOCALID:-?} Slurm"
  else
    echo "0 1 0 no launcher"
  fi
}

if [ "${1:-}" = "train" ]; then
  shift
  has_out=0 given=""  # whether --output-dir is on the command line, and its value
  prev=""
  for a in "$@"; do
    case $a in
      --output-dir) has_out=1 ;;
      --output-dir=*) has_out=1 given=${a#--output-dir=} ;;
    esac
    if [ "$prev" = "--output-dir" ]; then given=$a; fi
    prev=$a
  done
  read -r rank size local_rank via <<< "$(launcher_rank)"
  echo "roost-entrypoint: rank $rank of $size (local $local_rank, $via) on ${HOSTNAME:-?}," \
       "outputs in ${given:-$OUT}" >&2
  if [ $has_out -eq 1 ]; then exec roost train "$@"; fi
  exec roost train --output-dir "$OUT" "$@"
fi
if [ "${1:-}" = "serve" ]; then
  shift
  for a in "$@"; do
    case $a in --host|--host=*) exec roost serve "$@" ;; esac
  done
  # In a container, loopback is reachable only from inside it.
  exec roost serve --host 0.0.0.0 "$@"
fi
exec "$@"
