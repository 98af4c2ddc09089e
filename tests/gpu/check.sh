#!/usr/bin/env bash
# check.sh — builds roost against a CUDA libtorch on a GPU machine and runs every GPU check
# and benchmark in one go, then prints a short table.
#
#   tests/gpu/check.sh [DEPS] [DATASET]
#
# DEPS: a folder of Debian .deb files (unpacked here with dpkg-deb -x into a private prefix)
#       or an already unpacked prefix (with usr/ inside), for machines that lack Open MPI,
#       HDF5, cxxopts, GoogleTest, libturbojpeg or libpng. Empty: use the system's.
# DATASET: an ImageFolder tree for the end-to-end GPU training run (skipped when absent).
# Logs and JSON results go to $ROOST_CHECK_OUT (default /tmp/roost-gpu-check).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEPS=${1:-}
DATASET=${2:-}
RESULTS=${ROOST_CHECK_OUT:-/tmp/roost-gpu-check}
BUILD=${ROOST_GPU_BUILD:-/tmp/roost-gpu-build}
mkdir -p "$RESULTS"
SUMMARY="$RESULTS/summary.txt"
: > "$SUMMARY"
note() { echo "$*" | tee -a "$SUMMARY"; }
step() {  # name, command... : runs a step, logs it, records pass/fail, never stops the script
  local name=$1; shift
  local t0=$SECONDS
  echo "=== $name: $*"
  if "$@" > "$RESULTS/$name.log" 2>&1; then note "PASS  $name ($((SECONDS - t0)) s)"
  else note "FAIL  $name ($((SECONDS - t0)) s, exit $?) — see $name.log"; tail -25 "$RESULTS/$name.log"; fi
}

PREFIX=""
if [ -n "$DEPS" ] && ls "$DEPS"/*.deb > /dev/null 2>&1; then
  PREFIX=/tmp/roost-deps-prefix
  mkdir -p "$PREFIX"
  for deb in "$DEPS"/*.deb; do dpkg-deb -x "$deb" "$PREFIX"; done
elif [ -n "$DEPS" ] && [ -d "$DEPS/usr" ]; then
  PREFIX=$(cd "$DEPS" && pwd)
fi
PY=${PYTHON:-python3}
TORCH_PREFIX=$($PY -c 'import torch; print(torch.utils.cmake_prefix_path)')
TORCH_LIB=$($PY -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
NCCL_ROOT=$($PY -c 'import nvidia.nccl as n, os; print(list(n.__path__)[0])' 2>/dev/null || true)
LIBS="$TORCH_LIB"
[ -n "$NCCL_ROOT" ] && LIBS="$LIBS:$NCCL_ROOT/lib"
if [ -n "$PREFIX" ]; then
  A=$PREFIX/usr/lib/x86_64-linux-gnu
  LIBS="$LIBS:$A:$A/openmpi/lib:$A/hdf5/serial"
  export OPAL_PREFIX=$PREFIX/usr PATH=$PREFIX/usr/bin:$PATH
fi
export LD_LIBRARY_PATH=$LIBS:${LD_LIBRARY_PATH:-}
# One process, no mpirun: an isolated MPI singleton needs no runtime daemon.
export OMPI_MCA_ess_singleton_isolated=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

note "device: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
note "torch: $($PY -c 'import torch; print(torch.__version__, torch.version.cuda)')  nccl: ${NCCL_ROOT:-system}"
CMAKE_ARGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" -DROOST_CUDA=ON
            -DCMAKE_CUDA_ARCHITECTURES=${ROOST_CUDA_ARCH:-90} -DROOST_BENCHMARKS=ON)
[ -n "$PREFIX" ] && CMAKE_ARGS+=(-DROOST_DEPS_PREFIX="$PREFIX")
[ -n "$NCCL_ROOT" ] && CMAKE_ARGS+=(-DNCCL_ROOT="$NCCL_ROOT")
step configure cmake -S "$ROOT" -B "$BUILD" "${CMAKE_ARGS[@]}"
grep "roost: CUDA" "$RESULTS/configure.log" | tee -a "$SUMMARY"
step build cmake --build "$BUILD" -j "$(nproc)" --target roost_gpu_tests preprocess_bench train_bench roost -- -k 0
B=$BUILD
step gpu_tests "$B/tests/roost_gpu_tests" --gtest_output=json:"$RESULTS/gpu_tests.json"
grep -E "^\[  (PASSED|FAILED|SKIPPED) " "$RESULTS/gpu_tests.log" | tee -a "$SUMMARY"
step preprocess_bench "$B/benchmarks/preprocess_bench"
if [ -n "$DATASET" ] && [ -d "$DATASET" ]; then
  step train_e2e "$B/roost" train --data-dir "$DATASET" --output-dir "$RESULTS/train-out" \
    --epochs 3 --batch-size 32 --image-size 64 --resize-short 73 --workers 4 --amp bf16 --channels-last \
    --lr 0.01 --log-every 5
  [ -f "$RESULTS/train-out/metrics.jsonl" ] && cp "$RESULTS/train-out/metrics.jsonl" "$RESULTS/train_e2e_metrics.jsonl"
  # Checkpoints written on the GPU resume on the GPU (momentum buffers back on the device).
  step train_resume "$B/roost" train --data-dir "$DATASET" --output-dir "$RESULTS/train-out" \
    --epochs 4 --batch-size 32 --image-size 64 --resize-short 73 --workers 4 --amp bf16 --channels-last \
    --lr 0.01 --log-every 5 --progress lines --resume auto
  grep -q "resuming from .*epoch-3.h5" "$RESULTS/train_resume.log" || echo "FAIL train_resume: did not resume" >> "$SUMMARY"
  # fp16 with dynamic loss scaling.
  step train_fp16 "$B/roost" train --data-dir "$DATASET" --output-dir "$RESULTS/train-fp16" \
    --epochs 1 --batch-size 32 --image-size 64 --resize-short 73 --workers 4 --amp fp16 --channels-last \
    --lr 0.01 --log-every 5 --progress lines
fi
W=$(( $(nproc) - 2 ))
# ResNet-50 bf16 channels-last: synthetic vs real pipeline (roost), and the Python torch peer.
step train_bench_r50 "$B/benchmarks/train_bench" --arch resnet50 --batch-size 128 --amp bf16 --channels-last --workers $W --images 512
step train_peer_r50 $PY "$ROOT/benchmarks/train_peer.py" --arch resnet50 --batch-size 128 --amp bf16 --channels-last
step train_bench_r18 "$B/benchmarks/train_bench" --arch resnet18 --batch-size 128 --amp bf16 --channels-last --workers $W --images 512
echo
echo "================ roost GPU check ================"
cat "$SUMMARY"
for f in preprocess_bench train_bench_r50 train_peer_r50 train_bench_r18; do
  [ -f "$RESULTS/$f.log" ] && { echo "--- $f"; tail -12 "$RESULTS/$f.log"; }
done
[ -f "$RESULTS/train_e2e_metrics.jsonl" ] && { echo "--- train_e2e metrics"; cat "$RESULTS/train_e2e_metrics.jsonl"; }
! grep -q "^FAIL" "$SUMMARY"
