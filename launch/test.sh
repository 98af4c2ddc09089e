#!/usr/bin/env bash
# test.sh — installs dependencies, builds roost and runs the whole test suite
# (labels unit, mpi, e2e; gpu tests skip without a GPU). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
launch/install-deps.sh
launch/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "${ROOST_BUILD_DIR:-build}" --output-on-failure --timeout 900 "$@"
