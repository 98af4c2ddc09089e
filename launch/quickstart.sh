#!/usr/bin/env bash
# quickstart.sh — installs dependencies, builds roost, writes the embedded default dataset
# (two Fashion-MNIST classes shaped like the chicken/turkey set) and trains on it with two
# MPI processes. Outputs land in ./outputs. Extra arguments go to `roost train`.
set -euo pipefail
cd "$(dirname "$0")/.."
launch/install-deps.sh
launch/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -d data/fashion2 ] || build/roost data fashion-mnist --out data/fashion2 --size 64
mpirun --oversubscribe -np 2 build/roost train --data-dir data/fashion2 --output-dir outputs \
  --epochs 3 --image-size 64 --resize-short 73 --workers 1 "$@"
