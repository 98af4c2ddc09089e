#!/usr/bin/env bash
# check.sh — builds roost against a CUDA libtorch on a GPU machine and runs every GPU check
# and benchmark in one go, then prints a short table.
#
#   tests/gpu/check.sh [DEPS] [DATASET]
#
# Environment: ROOST_CHECK_VARIANTS="KNOB=VALUE[,KNOB=VALUE] ...": build only the GPU tests and
# preprocess_bench, run the tests, then time the kernel built with those compile-time knobs
# (benchmarks/preprocess_variants.sh); with ROOST_CHECK_FULL=1 as well, everything else runs
# too, the variants right after the kernel's own benchmarks (one call for all). FMNIST_SOURCE, a folder of Fashion-MNIST's *-ubyte.gz
# files: a two-class set made from it serves as DATASET when none is given, and the full 60k/10k training
# (benchmarks/fashion_mnist_full.sh, np=2 on this GPU) runs too (FMNIST_EPOCHS, default 24).
# ROOST_CHECK_DEADLINE: seconds after which remaining steps are skipped (0 = none); the
# full Fashion-MNIST run is stopped at that point. ROOST_CHECK_FOCUS=speed: only the GPU
# tests, the kernel's bandwidth, the training matrix (benchmarks/train_matrix.sh: eager vs
# CUDA graphs vs Python torch), the ResNet-18 real pipeline and the graph-step training run —
# what fits a short loan of the machine.
#
# DEPS: a folder of Debian .deb files (unpacked here with dpkg-deb -x into a private prefix)
#       or an already unpacked prefix (with usr/ inside), for machines that lack Open MPI,
#       HDF5, cxxopts, GoogleTest, libturbojpeg, libpng or cairo. Empty: use the system's.
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
DEADLINE=${ROOST_CHECK_DEADLINE:-0}
past_deadline() { [ "$DEADLINE" -gt 0 ] && [ "$SECONDS" -ge "$DEADLINE" ]; }
step() {  # name, command... : runs a step, logs it, records pass/fail, never stops the script
  local name=$1; shift
  if past_deadline; then note "SKIP  $name (past the ${DEADLINE} s deadline)"; return; fi
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
  # PMIx (used by mpirun) finds its plugins by its own built-in path, not OPAL_PREFIX.
  export PMIX_MCA_mca_base_component_path=$A/pmix2/lib/pmix PMIX_MCA_pcompress_base_silence_warning=1
  # The training curves' text: fontconfig reads /etc/fonts, which knows nothing of the
  # prefix's DejaVu Sans; a configuration of our own lists both font folders.
  if [ -d "$PREFIX/usr/share/fonts" ]; then
    mkdir -p /tmp/roost-fontconfig
    printf '<?xml version="1.0"?>\n<fontconfig><dir>%s</dir><dir>/usr/share/fonts</dir><cachedir>%s</cachedir></fontconfig>\n' \
      "$PREFIX/usr/share/fonts" /tmp/roost-fontconfig/cache > /tmp/roost-fontconfig/fonts.conf
    export FONTCONFIG_FILE=/tmp/roost-fontconfig/fonts.conf
  fi
fi
# The launcher must match the Open MPI the ranks load: the prefix's when there is one.
MPIRUN=$(ls "$PREFIX/usr/bin/mpirun.openmpi" 2>/dev/null || command -v mpirun || true)
[ -n "$PREFIX" ] || MPIRUN=$(command -v mpirun || true)
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
TARGETS=(roost_gpu_tests preprocess_bench train_bench sgd_bench roost)
VARIANTS_ONLY=""
[ -n "${ROOST_CHECK_VARIANTS:-}" ] && [ "${ROOST_CHECK_FULL:-0}" != 1 ] && VARIANTS_ONLY=1
[ -n "$VARIANTS_ONLY" ] && TARGETS=(roost_gpu_tests preprocess_bench)
step build cmake --build "$BUILD" -j "$(nproc)" --target "${TARGETS[@]}" -- -k 0
B=$BUILD
step gpu_tests "$B/tests/roost_gpu_tests" --gtest_output=json:"$RESULTS/gpu_tests.json"
grep -E "^\[  (PASSED|FAILED|SKIPPED) " "$RESULTS/gpu_tests.log" | tee -a "$SUMMARY"
variants() {  # the preprocessing kernel built with other compile-time knobs
  # shellcheck disable=SC2086  # a list of KNOB=VALUE,... words
  step preprocess_variants "$ROOT/benchmarks/preprocess_variants.sh" "$B" $ROOST_CHECK_VARIANTS
  [ -f "$RESULTS/preprocess_variants.log" ] && cat "$RESULTS/preprocess_variants.log"
}
if [ -n "$VARIANTS_ONLY" ]; then
  variants
  cat "$SUMMARY"
  ! grep -q "^FAIL" "$SUMMARY"
  exit
fi
FOCUS=${ROOST_CHECK_FOCUS:-}
focus_skip() {  # name: true (and noted) when ROOST_CHECK_FOCUS=speed leaves this step out
  [ "$FOCUS" = speed ] || return 1
  note "SKIP  $1 (ROOST_CHECK_FOCUS=speed)"
}
step preprocess_bench "$B/benchmarks/preprocess_bench" --sweep
step preprocess_bench_1024 "$B/benchmarks/preprocess_bench" --batch 1024
# Hardware counters for one launch of the kernel, when Nsight Compute is installed.
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null || true)
if [ -n "$NCU" ] && ! focus_skip preprocess_ncu; then
  step preprocess_ncu timeout 120 "$NCU" -k regex:preprocess_kernel -s 5 -c 1 --section SpeedOfLight \
    --section Occupancy --section LaunchStats --section SchedulerStats --section WarpStateStats \
    --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis \
    "$B/benchmarks/preprocess_bench" --reps 1
fi
[ -n "${ROOST_CHECK_VARIANTS:-}" ] && variants
# One SGD step over ResNet-50's parameters: the fused kernel against libtorch's _foreach kernels.
step sgd_bench "$B/benchmarks/sgd_bench" --arch resnet50
step sgd_bench_bf16 "$B/benchmarks/sgd_bench" --arch resnet50 --dtype bf16
W=$(( $(nproc) - 2 ))
# ResNet-50 bf16 channels-last: synthetic vs real pipeline (roost), and the Python torch peer.
R50=(--arch resnet50 --batch-size 128 --amp bf16 --channels-last --workers $W --images 512)
# Eager and CUDA-graph steps against Python torch eager and torch.compile: the README's table.
step train_matrix "$ROOT/benchmarks/train_matrix.sh" "$B" "$RESULTS/matrix"
focus_skip train_bench_r50 || step train_bench_r50 "$B/benchmarks/train_bench" "${R50[@]}"
# The variants time the real pipeline only (--mode real); compare with the run above.
# Without starting the next epoch's decoding early (four steps per epoch): what prefetching gains.
focus_skip train_bench_r50_noprefetch ||
  step train_bench_r50_noprefetch "$B/benchmarks/train_bench" "${R50[@]}" --mode real --no-prefetch
# Packing each batch for the kernel on the training thread instead of the loader's workers.
focus_skip train_bench_r50_packmain ||
  step train_bench_r50_packmain "$B/benchmarks/train_bench" "${R50[@]}" --mode real --pack-on-main
focus_skip train_peer_r50 ||
  step train_peer_r50 $PY "$ROOT/benchmarks/train_peer.py" --arch resnet50 --batch-size 128 --amp bf16 --channels-last
R18=(--arch resnet18 --batch-size 128 --amp bf16 --channels-last --workers $W --images 512)
step train_bench_r18 "$B/benchmarks/train_bench" "${R18[@]}"
# The real pipeline with the step replayed as a CUDA graph (the host's share shows more).
step train_bench_r18_graphs "$B/benchmarks/train_bench" "${R18[@]}" --mode real --cuda-graphs on
focus_skip train_bench_r18_packmain ||
  step train_bench_r18_packmain "$B/benchmarks/train_bench" "${R18[@]}" --mode real --pack-on-main
# --jpeg-dct-scale on: JPEGs decoded at 1/2..1/8 where a crop shrinks by 2x or more. At 224 the
# ~500x375 images' crops never do (this run costs only the check); at 112 most do.
step train_bench_r18_dct "$B/benchmarks/train_bench" "${R18[@]}" --mode real --jpeg-dct-scale on
step train_bench_r18_112 "$B/benchmarks/train_bench" "${R18[@]}" --image-size 112
step train_bench_r18_112_dct "$B/benchmarks/train_bench" "${R18[@]}" --image-size 112 --mode real --jpeg-dct-scale on
# The runs above time 30 steps (about a second for ResNet-50): the same with 150 steps, for a
# steadier real/synthetic ratio, with and without prefetching.
focus_skip train_bench_r50_long || step train_bench_r50_long "$B/benchmarks/train_bench" "${R50[@]}" --steps 150
focus_skip train_bench_r50_long_noprefetch ||
  step train_bench_r50_long_noprefetch "$B/benchmarks/train_bench" "${R50[@]}" --steps 150 --mode real --no-prefetch
FMNIST_SOURCE=${FMNIST_SOURCE:-}
if [ -z "$DATASET" ] && [ -n "$FMNIST_SOURCE" ]; then
  DATASET=$RESULTS/fashion2
  step fashion2_data "$B/roost" data fashion-mnist --out "$DATASET" --source-dir "$FMNIST_SOURCE" --size 64
fi
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
  # The same run with its step replayed as a CUDA graph: it must say so, and train.
  step train_graphs "$B/roost" train --data-dir "$DATASET" --output-dir "$RESULTS/train-graphs" \
    --epochs 3 --batch-size 32 --image-size 64 --resize-short 73 --workers 4 --amp bf16 --channels-last \
    --lr 0.01 --log-every 5 --progress lines --cuda-graphs on
  grep -q "replayed as a CUDA graph" "$RESULTS/train_graphs.log" || echo "FAIL train_graphs: no graph step" >> "$SUMMARY"
  [ -f "$RESULTS/train-graphs/metrics.jsonl" ] && cp "$RESULTS/train-graphs/metrics.jsonl" "$RESULTS/train_graphs_metrics.jsonl"
  # fp16 with dynamic loss scaling.
  step train_fp16 "$B/roost" train --data-dir "$DATASET" --output-dir "$RESULTS/train-fp16" \
    --epochs 1 --batch-size 32 --image-size 64 --resize-short 73 --workers 4 --amp fp16 --channels-last \
    --lr 0.01 --log-every 5 --progress lines
fi
# Full Fashion-MNIST, ResNet-18 from scratch, two ranks sharing this GPU (gradients over MPI),
# images kept at 28 px and resized to 64 by the training crop.
if [ -n "$FMNIST_SOURCE" ] && [ -n "$MPIRUN" ] && ! past_deadline && ! focus_skip fmnist_full; then
  LEFT=$(( DEADLINE > 0 ? DEADLINE - SECONDS : 3600 ))
  step fmnist_full timeout -s INT "$LEFT" env ROOST="$B/roost" MPIRUN="$MPIRUN" PYTHON="$PY" \
    OMPI_MCA_hwloc_base_binding_policy=none \
    NP=2 SIZE=64 DATA_SIZE=28 SOURCE_DIR="$FMNIST_SOURCE" EPOCHS="${FMNIST_EPOCHS:-24}" \
    LR_STEP="${FMNIST_LR_STEP:-8}" LR_GAMMA=0.1 BATCH=128 LR=0.1 \
    "$ROOT/benchmarks/fashion_mnist_full.sh" "$RESULTS/fmnist" --amp bf16 --channels-last --workers 3
  [ -f "$RESULTS/fmnist/run/metrics.jsonl" ] && cp "$RESULTS/fmnist/run/metrics.jsonl" "$RESULTS/fmnist_metrics.jsonl"
fi
echo
echo "================ roost GPU check ================"
cat "$SUMMARY"
for f in preprocess_bench preprocess_bench_1024 sgd_bench sgd_bench_bf16 train_matrix train_bench_r50 \
         train_bench_r50_noprefetch train_bench_r50_packmain train_peer_r50 train_bench_r18 train_bench_r18_graphs \
         train_bench_r18_packmain train_bench_r18_dct train_bench_r18_112 train_bench_r18_112_dct train_bench_r50_long \
         train_bench_r50_long_noprefetch fmnist_full; do
  [ -f "$RESULTS/$f.log" ] && { echo "--- $f"; tail -16 "$RESULTS/$f.log"; }
done
[ -f "$RESULTS/train_e2e_metrics.jsonl" ] && { echo "--- train_e2e metrics"; cat "$RESULTS/train_e2e_metrics.jsonl"; }
[ -f "$RESULTS/train_graphs_metrics.jsonl" ] && { echo "--- train_graphs metrics"; cat "$RESULTS/train_graphs_metrics.jsonl"; }
[ -f "$RESULTS/fmnist_metrics.jsonl" ] && { echo "--- fmnist_full metrics"; cut -c1-200 "$RESULTS/fmnist_metrics.jsonl"; }
! grep -q "^FAIL" "$SUMMARY"
