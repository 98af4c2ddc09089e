#!/usr/bin/env bash
# preprocess_variants.sh — times the fused preprocessing kernel built with other values of
# its compile-time knobs, against the built-in ones, in one invocation on one GPU:
#   ROOST_PREPROCESS_ROWS        rows per horizontal-pass item (built in: 2)
#   ROOST_PREPROCESS_MIN_BLOCKS  blocks per SM the registers must allow (built in: 6; 1 = no bound)
#
#   benchmarks/preprocess_variants.sh BUILD_DIR [ROWS:MIN_BLOCKS ...]
#
# BUILD_DIR is a configured CUDA build (ninja) whose preprocess_bench is built. Each variant
# recompiles kernels/preprocess.cu with the same command plus the two definitions, links
# its own preprocess_bench-ROWS-MIN_BLOCKS and runs it (batch 256, then 1024); the baseline
# binary runs first and last, so drift of the card shows. Prints the ptxas register report
# of each variant's float32 NCHW kernel too.
set -euo pipefail
BUILD=$(cd "${1:?usage: preprocess_variants.sh BUILD_DIR [ROWS:MIN_BLOCKS ...]}" && pwd)
shift
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(4:1 2:1 4:6)
cd "$BUILD"
COMMANDS=$(ninja -t commands benchmarks/preprocess_bench)
COMPILE=$(grep -m1 'preprocess\.cu' <<< "$COMMANDS")
LINK=$(grep -m1 -- '-o benchmarks/preprocess_bench ' <<< "$COMMANDS")
[ -n "$COMPILE" ] && [ -n "$LINK" ] || { echo "preprocess_variants: no CUDA kernel build in $BUILD" >&2; exit 1; }
OBJ=kernels/CMakeFiles/roost_kernels.dir/preprocess.cu.o

run_bench() {  # label, binary
  for batch in 256 1024; do
    "$2" --batch "$batch" --reps 30 | { grep -E "kernel only|no CUDA" || true; } | sed "s|^|$1 batch $batch: |"
  done
}

build_variant() {  # rows, min blocks: compiles, archives and links one variant
  local rows=$1 blocks=$2
  local obj=variants/preprocess-$rows-$blocks.o lib=variants/libroost_kernels-$rows-$blocks.a
  # Same flags, two more definitions, another output; -MD dependency files are not wanted.
  local cmd=${COMPILE//$OBJ/$obj}
  cmd=$(sed -E 's/ -MD -MT [^ ]+ -MF [^ ]+//' <<< "$cmd")
  eval "$cmd -DROOST_PREPROCESS_ROWS=$rows -DROOST_PREPROCESS_MIN_BLOCKS=$blocks -Xptxas -v" \
    > "variants/ptxas-$rows-$blocks.log" 2>&1
  rm -f "$lib" && ar qc "$lib" "$obj" && ranlib "$lib"
  local link=${LINK//kernels\/libroost_kernels.a/$lib}
  eval "${link//-o benchmarks\/preprocess_bench /-o variants/preprocess_bench-$rows-$blocks }"
}

mkdir -p variants
for v in "${VARIANTS[@]}"; do build_variant "${v%%:*}" "${v##*:}" & done
wait
run_bench "built-in knobs" benchmarks/preprocess_bench
for v in "${VARIANTS[@]}"; do
  rows=${v%%:*} blocks=${v##*:}
  { grep -A2 'preprocess_kernelIfLb1' "variants/ptxas-$rows-$blocks.log" || true; } |
    { grep -E 'Used|spill' || true; } | tail -2 | sed "s|^|$rows:$blocks ptxas: |"
  run_bench "rows $rows, min blocks $blocks" "variants/preprocess_bench-$rows-$blocks"
done
run_bench "built-in knobs again" benchmarks/preprocess_bench
