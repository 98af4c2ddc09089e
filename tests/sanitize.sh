#!/usr/bin/env bash
# tests/sanitize.sh [CTEST_ARGS...] — the unit and MPI tests under AddressSanitizer and
# UndefinedBehaviorSanitizer: a g++ build with ROOST_SANITIZE=ON (CPU only, no benchmarks) of
# just the test programs, then ctest -L unit and ctest -L mpi. Prints how long each part took.
# Extra arguments go to both ctest runs (e.g. -R Pack). libtorch, Open MPI, HDF5 and the image
# libraries are not instrumented: errors inside them are found only where roost's own
# instrumented code reads or writes the memory.
#
# Environment: ROOST_SANITIZE_BUILD (build folder, default build-sanitize), ROOST_SANITIZE_JOBS
# (build parallelism, default: the number of cores), CC/CXX (default gcc/g++).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ROOST_SANITIZE_BUILD:-build-sanitize}
jobs=${ROOST_SANITIZE_JOBS:-$(nproc)}

# halt_on_error: the first UBSan report fails the test (ROOST_SANITIZE also compiles without
# recovery; this covers a build folder configured before that).
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Process-lifetime caches of uninstrumented libraries (tests/lsan.supp says which and why).
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
asan=abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

t0=$(date +%s)
mkdir -p "$build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="${CC:-gcc}" -DCMAKE_CXX_COMPILER="${CXX:-g++}" \
  -DROOST_SANITIZE=ON -DROOST_CUDA=OFF -DROOST_NCCL=OFF -DROOST_TESTS=ON -DROOST_BENCHMARKS=OFF \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
# Only the programs behind the unit and mpi labels (not the roost binary, e2e or GPU tests).
# (The target list is read once: grep -q on ninja's pipe would end ninja with SIGPIPE, which
# pipefail turns into "no such target".)
all_targets=$(ninja -C "$build" -t targets all)
targets=()
for t in roost_unit_tests roost_cli_tests roost_model_tests roost_run_tests roost_sweep_tests roost_ui_tests roost_mpi_tests \
         roost_mpi_sync_tests; do
  grep -q "^$t: phony" <<<"$all_targets" && targets+=("$t")
done
# The build runs each unit test program once to list its tests (gtest_discover_tests); leak
# checking at that exit would only repeat what the test run reports.
ASAN_OPTIONS=$asan:detect_leaks=0 cmake --build "$build" -j "$jobs" --target "${targets[@]}"
t1=$(date +%s)

status=0
# Unit tests: one process each, with LeakSanitizer.
ASAN_OPTIONS=$asan:detect_leaks=1 ctest --test-dir "$build" -L unit --output-on-failure --timeout 1800 "$@" ||
  status=1
t2=$(date +%s)
# MPI tests without LeakSanitizer: Open MPI allocates in MPI_Init (its component frameworks,
# the hwloc topology, PMIx) memory it never frees, and LeakSanitizer reports it at the exit of
# every rank. The unit tests above check roost's ring and thread communicator for leaks; the
# MPI communicator and the gradient synchronizer are checked here for memory errors only.
ASAN_OPTIONS=$asan:detect_leaks=0 ctest --test-dir "$build" -L mpi --output-on-failure --timeout 1800 "$@" ||
  status=1
t3=$(date +%s)

echo "sanitize.sh: build $((t1 - t0)) s, unit tests $((t2 - t1)) s, mpi tests $((t3 - t2)) s," \
  "total $((t3 - t0)) s; $([[ $status == 0 ]] && echo passed || echo FAILED)"
exit $status
