#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS_PER_TARGET] — builds roost's libFuzzer targets with clang
# (ASan + UBSan, coverage-guided) and runs each for SECONDS_PER_TARGET seconds (default 60),
# one after the other. Prints, per target, the inputs executed and what was found: crashes
# and sanitizer reports, leaks, hangs (an input running past the per-input timeout) and
# out-of-memory, each with the code it happened in (the first stack frame outside the
# sanitizer runtime and the C/C++ runtime libraries: a roost source line or a library).
# Exits 1 when anything was found, except in libraries named in ROOST_FUZZ_ALLOW.
#
# libFuzzer runs in fork mode and goes on after a finding, so every target gets its whole time
# and one known crash does not hide the others. Seeds are regenerated every run (make_seeds
# from roost's writers, make_seeds.py from torch and PIL), tests/fuzz/regressions/<target>/
# is added to them so old findings are retried, and the corpus each target grows is kept in
# the build folder for the next run.
#
# Environment: ROOST_FUZZ_BUILD (build folder, default build-fuzz), CC/CXX (default clang 14),
# ROOST_FUZZ_JOBS (build parallelism, default 1), ROOST_FUZZ_ONLY (space-separated subset of
# targets), ROOST_FUZZ_TIMEOUT (seconds one input may take, default 10), ROOST_FUZZ_RSS_MB
# (memory limit, default 2048; one malloc above it counts as out-of-memory too),
# ROOST_FUZZ_ALLOW (space-separated library names, e.g. libhdf5_serial.so.103, whose findings
# are reported but do not fail the run), ROOST_PYTHON (default /usr/bin/python3).
# Replay a finding: BUILD/tests/fuzz/<target> BUILD/fuzz-run/<target>/artifacts/<file>
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
seconds=${1:-60}
build=$(realpath -m "${ROOST_FUZZ_BUILD:-build-fuzz}")
jobs=${ROOST_FUZZ_JOBS:-1}
per_input_timeout=${ROOST_FUZZ_TIMEOUT:-10}
rss_mb=${ROOST_FUZZ_RSS_MB:-2048}
allow=" ${ROOST_FUZZ_ALLOW:-} "
python=${ROOST_PYTHON:-/usr/bin/python3}
read -r -a targets <<<"${ROOST_FUZZ_ONLY:-fuzz_decode fuzz_pth fuzz_weights_h5 fuzz_pack fuzz_train_args}"

# libFuzzer and the sanitizer runtimes come with clang (Debian: clang, libclang-rt-14-dev),
# which launch/install-deps.sh does not install: the images and the test suite do not need it.
cxx=${CXX:-/usr/bin/clang++}
if ! command -v "$cxx" >/dev/null || ! "$cxx" -print-file-name=libclang_rt.fuzzer-x86_64.a | grep -q /; then
  echo "run.sh: needs clang with libFuzzer: apt-get install clang libclang-rt-14-dev (or set CXX)" >&2
  exit 2
fi
mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER="${CC:-/usr/bin/clang}" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOST_FUZZ=ON -DROOST_TESTS=OFF -DROOST_BENCHMARKS=OFF \
  -DROOST_CUDA=OFF -DROOST_NCCL=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$jobs" --target roost_fuzz

# Seeds: what the targets' inputs look like when nothing is wrong with them.
seeds=$build/fuzz-seeds
rm -rf "$seeds"
"$build/tests/fuzz/fuzz_make_seeds" "$seeds"
"$python" "$root/tests/fuzz/make_seeds.py" "$seeds" || echo "run.sh: make_seeds.py failed; fewer seeds"

# Sanitizer settings: stop at the first report (UBSan included) with a symbolized stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:symbolize=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0}
# One thread per fuzzer: libtorch's intra-op pool would only add noise and startup time.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# Where a report happened: the first stack frame that is not the sanitizer or libFuzzer runtime
# (linked into the target without a source line) nor libc/libstdc++; a roost source line
# relative to the repository, or a library's file name.
culprit() {
  local exe=$1
  awk -v exe="$exe" -v root="$root/" '
    /fuzz invariant failed:/ { sub(/.*fuzz invariant failed: /, ""); print "check: " $0; exit }
    /^ *#[0-9]+ 0x/ {
      if (index($0, "(" exe "+0x")) next
      if ($0 ~ /\/include\/c\+\+\/|libc\.so|libstdc\+\+|libgcc_s|ld-linux|sysdeps\/|csu\//) next
      if ($0 ~ / in (fuzzer::|__sanitizer|__asan|__ubsan|__interceptor)/) next
      if (match($0, /\/[^ ]+:[0-9]+/)) { loc = substr($0, RSTART, RLENGTH); sub(root, "", loc); print loc; exit }
      if (match($0, /\([^()]+\+0x/)) { m = substr($0, RSTART + 1, RLENGTH - 4); sub(/.*\//, "", m); print m; exit }
    }'
}

printf '\n%-16s %10s %8s %7s  %s\n' target inputs "inputs/s" corpus result
status=0
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/$t
  if [[ ! -x $exe ]]; then
    printf '%-16s %10s %8s %7s  %s\n' "$t" - - - "not built (HDF5 or torch missing?)"
    continue
  fi
  run=$build/fuzz-run/$t
  rm -rf "$run"
  mkdir -p "$run/artifacts" "$run/tmp" "$build/fuzz-corpus/$t"
  inputs=("$build/fuzz-corpus/$t")
  [[ -d $seeds/${t#fuzz_} ]] && inputs+=("$seeds/${t#fuzz_}")
  [[ -d $root/tests/fuzz/regressions/$t ]] && inputs+=("$root/tests/fuzz/regressions/$t")
  extra=()
  [[ -f $root/tests/fuzz/${t#fuzz_}.dict ]] && extra+=("-dict=$root/tests/fuzz/${t#fuzz_}.dict")
  # The scratch files the targets write go to the run's own folder (TMPDIR). The subshell
  # keeps bash's "Aborted" notices for the fuzzer's children out of the table.
  (cd "$run" && TMPDIR=$run/tmp "$exe" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$seconds" -timeout="$per_input_timeout" -rss_limit_mb="$rss_mb" \
    -print_final_stats=1 -artifact_prefix="$run/artifacts/" "${extra[@]}" "${inputs[@]}" \
    >"$run/log" 2>&1) 2>/dev/null || true
  # Fork mode reports progress as "#RUNS: cov: ... time: SECONDSs"; the last line is the total.
  last=$(grep -E '^#[0-9]+: cov:' "$run/log" | tail -1)
  runs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
  elapsed=$(sed -nE 's/.* time: ([0-9]+)s.*/\1/p' <<<"$last")
  rate=$([[ -n $runs && ${elapsed:-0} -gt 0 ]] && echo $((runs / elapsed)) || echo -)
  corpus=$(find "$build/fuzz-corpus/$t" -type f | wc -l)

  # Replay each finding (at most 8 per target) to say where it happened.
  declare -A seen=()
  fail=0 count=0 replayed=0
  while IFS= read -r -d '' artifact; do
    name=$(basename "$artifact")
    count=$((count + 1))
    [[ $replayed -lt 8 ]] || continue
    replayed=$((replayed + 1))
    where=$(cd "$run" && TMPDIR=$run/tmp timeout $((per_input_timeout + 30)) "$exe" -timeout="$per_input_timeout" \
      -rss_limit_mb="$rss_mb" "$artifact" 2>&1 | culprit "$exe" || true)
    key="${name%%-*} in ${where:-unknown (did not reproduce)}"
    seen[$key]=$(( ${seen[$key]:-0} + 1 ))
    [[ $allow == *" $where "* ]] || fail=1
    echo "$name: $key" >>"$run/findings"
  done < <(find "$run/artifacts" -type f -print0 | sort -z)
  if [[ $count -gt 0 ]]; then
    result="FOUND $count:"
    for key in "${!seen[@]}"; do result+=" [${seen[$key]}x $key]"; done
    [[ $replayed -lt $count ]] && result+=" (first $replayed replayed)"
    [[ $fail == 0 ]] && result+=" (allowed)" || status=1
  elif [[ -z $runs ]]; then
    result="did not run (see $run/log)"
    status=1
  else
    result="nothing found"
  fi
  unset seen
  printf '%-16s %10s %8s %7s  %s\n' "$t" "${runs:--}" "$rate" "$corpus" "$result"
done
echo "(logs, findings and artifacts: $build/fuzz-run/<target>/)"
exit $status
