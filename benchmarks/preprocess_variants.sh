#!/usr/bin/env bash
# preprocess_variants.sh — times the fused preprocessing kernel built with other values of
# its compile-time knobs (kernels/preprocess_impl.cuh), against the built-in ones, in one
# invocation on one GPU:
#   ROWS        rows per horizontal-pass item (built in: 2)
#   HWORDS      horizontal-pass source reads: 1 aligned words, 0 bytes (built in: 1)
#   MIN_BLOCKS  blocks per SM the registers must allow (built in: 5; 1 = no bound)
#   HVEC        horizontal coefficients: 1 one 16-byte load per four taps, 0 four 4-byte
#               loads (built in: 1)
#   DEVICE_DIV  1: each block makes its index dividers per tile (a 64-bit division each),
#               0: the host makes them once per batch (built in: 0)
#   CLAMP       1: rounding keeps Pillow's clamp at 255, which cannot apply (built in: 0)
# (Knobs tried on an H100 and removed, none faster: the source copy issued before the table
# loads, the copy in two parts with the first resampled meanwhile, the horizontal taps
# unrolled by 8: benchmarks/results/gpu-h100.md, fifth run.)
#
#   benchmarks/preprocess_variants.sh BUILD_DIR [KNOB=VALUE[,KNOB=VALUE...] ...]
#
# BUILD_DIR is a configured CUDA build (ninja) whose preprocess_bench is built. Each variant
# recompiles kernels/preprocess.cu with the same command plus -DROOST_PREPROCESS_KNOB=VALUE
# for each of its knobs, links its own preprocess_bench and runs it (batch 256, then 1024;
# the bench checks the kernel's output against the CPU reference and fails on a difference);
# the baseline binary runs first and last, so drift of the card shows. Prints the ptxas
# register report of each variant's float32 NCHW kernel too, and at the end a table of each
# variant's fp32 kernel time against the built-in knobs' (preprocess_variants_summary.awk).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: preprocess_variants.sh BUILD_DIR [KNOB=VALUE[,KNOB=VALUE...] ...]}" && pwd)
shift
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(DEVICE_DIV=1,HVEC=0,CLAMP=1 DEVICE_DIV=1 HVEC=0 CLAMP=1 MIN_BLOCKS=6)
cd "$BUILD"
COMMANDS=$(ninja -t commands benchmarks/preprocess_bench)
COMPILE=$(grep -m1 'preprocess\.cu' <<< "$COMMANDS")
LINK=$(grep -m1 -- '-o benchmarks/preprocess_bench ' <<< "$COMMANDS")
[ -n "$COMPILE" ] && [ -n "$LINK" ] || { echo "preprocess_variants: no CUDA kernel build in $BUILD" >&2; exit 1; }
OBJ=kernels/CMakeFiles/roost_kernels.dir/preprocess.cu.o

FAILED=0
run_bench() {  # label, binary
  for batch in 256 1024; do
    local out rc=0
    out=$("$2" --batch "$batch" --reps 30 --kernel-only) || rc=$?
    { grep -E "kernel only|no CUDA|CPU reference" <<< "$out" || true; } | sed "s|^|$1 batch $batch: |" |
      tee -a variants/results.txt
    [ "$rc" -eq 0 ] || { echo "$1 batch $batch: FAILED (exit $rc)"; FAILED=1; }
  done
}

build_variant() {  # knobs (KNOB=VALUE,...): compiles, archives and links one variant
  local tag=${1//[=,]/-} defines
  defines=$(tr ',' '\n' <<< "$1" | sed 's/^/-DROOST_PREPROCESS_/' | tr '\n' ' ')
  local obj=variants/preprocess-$tag.o lib=variants/libroost_kernels-$tag.a
  # Same flags, more definitions, another output; -MD dependency files are not wanted.
  local cmd=${COMPILE//$OBJ/$obj}
  cmd=$(sed -E 's/ -MD -MT [^ ]+ -MF [^ ]+//' <<< "$cmd")
  eval "$cmd $defines -Xptxas -v" > "variants/ptxas-$tag.log" 2>&1
  rm -f "$lib" && ar qc "$lib" "$obj" && ranlib "$lib"
  local link=${LINK//kernels\/libroost_kernels.a/$lib}
  eval "${link//-o benchmarks\/preprocess_bench /-o variants/preprocess_bench-$tag }"
}

mkdir -p variants
: > variants/results.txt
for v in "${VARIANTS[@]}"; do
  [[ $v =~ ^[A-Z_]+=[0-9]+(,[A-Z_]+=[0-9]+)*$ ]] || { echo "preprocess_variants: bad variant '$v'" >&2; exit 2; }
  build_variant "$v" &
done
wait
run_bench "built-in knobs" benchmarks/preprocess_bench
for v in "${VARIANTS[@]}"; do
  tag=${v//[=,]/-}
  { grep -A2 'preprocess_kernelIfLb1' "variants/ptxas-$tag.log" || true; } |
    { grep -E 'Used|spill' || true; } | tail -2 | sed "s|^|$v ptxas: |"
  run_bench "$v" "variants/preprocess_bench-$tag"
done
run_bench "built-in knobs again" benchmarks/preprocess_bench
echo
awk -f "$HERE/preprocess_variants_summary.awk" variants/results.txt || true
exit "$FAILED"
