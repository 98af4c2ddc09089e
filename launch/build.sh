#!/usr/bin/env bash
# build.sh — configures and builds roost into ./build (or $ROOST_BUILD_DIR). Extra
# arguments go to CMake's configure step, e.g. -DROOST_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${ROOST_BUILD_DIR:-build}
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
[ -f "$BUILD/CMakeCache.txt" ] && GEN=()
cmake -S . -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$BUILD" -j "$(nproc)"
