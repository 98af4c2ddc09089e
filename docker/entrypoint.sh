#!/usr/bin/env bash
# entrypoint.sh — container entry for cloud jobs. With `train` arguments it runs roost train
# writing to $ROOST_OUTPUT_DIR (default /outputs) unless --output-dir is given; rank and world
# size come from the launcher (Open MPI, PMIx or Slurm set them; MPI_Init reads them).
# Any other command line is run as it is (e.g. mpirun ... roost train ...).
set -euo pipefail
OUT=${ROOST_OUTPUT_DIR:-/outputs}
if [ "${1:-}" = "train" ]; then
  shift
  case " $* " in
    *" --output-dir "*|*" --output-dir="*) exec roost train "$@" ;;
    *) exec roost train --output-dir "$OUT" "$@" ;;
  esac
fi
exec "$@"
