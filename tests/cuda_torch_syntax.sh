#!/usr/bin/env bash
# cuda_torch_syntax.sh — compiles (syntax only) the files that use libtorch's CUDA API
# (c10/cuda streams, events, at::cuda::CUDAGraph) on a machine whose libtorch is CPU-only.
#
# Those files are built for real only against a CUDA libtorch (ROOST_TORCH_CUDA), which the
# development and CI machines lack; here they are checked against the libtorch headers,
# which ship the CUDA headers too, and the CUDA toolkit's runtime headers, so that they do
# not first fail on the GPU machine. Skips (exit 77) without those headers.
#
#   tests/cuda_torch_syntax.sh [CXX]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CXX=${1:-${CXX:-g++}}
CUDA_INC=${CUDA_INC:-/usr/local/cuda/include}
TORCH_INC=${TORCH_INC:-/usr/include}
if [ ! -f "$CUDA_INC/cuda_runtime_api.h" ] || [ ! -f "$TORCH_INC/ATen/cuda/CUDAGraph.h" ]; then
  echo "SKIP: no CUDA runtime headers ($CUDA_INC) or libtorch CUDA headers ($TORCH_INC)"
  exit 77
fi
# The CMake-generated header a CUDA libtorch ships and the CPU one lacks.
SHIM=$(mktemp -d)
trap 'rm -rf "$SHIM"' EXIT
mkdir -p "$SHIM/c10/cuda/impl"
[ -f "$TORCH_INC/c10/cuda/impl/cuda_cmake_macros.h" ] ||
  printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' > "$SHIM/c10/cuda/impl/cuda_cmake_macros.h"
# Every file that includes a c10/cuda or ATen/cuda header.
mapfile -t FILES < <(cd "$ROOT" && grep -rlE "#include <(c10|ATen)/cuda/|ROOST_TORCH_CUDA|ROOST_WITH_NCCL" src include | grep -E '\.cc$' | sort)
[ ${#FILES[@]} -gt 0 ] || { echo "no files use libtorch's CUDA API"; exit 1; }
status=0
for f in "${FILES[@]}"; do
  if "$CXX" -std=c++17 -fsyntax-only -Wall -Wextra -DROOST_WITH_CUDA -DROOST_TORCH_CUDA -DROOST_WITH_NCCL \
      -D_GLIBCXX_USE_CXX11_ABI=1 -I"$ROOT/include" -I"$ROOT/src" -I"$ROOT/kernels" -isystem "$SHIM" -isystem "$CUDA_INC" \
      -isystem "$TORCH_INC/torch/csrc/api/include" -isystem "$TORCH_INC/hdf5/serial" \
      -isystem "${MPI_INC:-/usr/lib/x86_64-linux-gnu/openmpi/include}" -DOMPI_SKIP_MPICXX \
      "$ROOT/$f"; then
    echo "ok    $f"
  else
    echo "FAIL  $f"
    status=1
  fi
done
exit $status
