# common.sh — shared setup for roost's end-to-end test scripts (sourced, not run).
set -euo pipefail
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
ROOST=${ROOST:?set ROOST to the roost binary}
MPIRUN=${MPIRUN:-mpirun}
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d /tmp/roost-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# output_has GREP_ARGS... -- COMMAND...: COMMAND succeeds and its whole output matches.
# (`COMMAND | grep -q` under pipefail fails when grep, done at its first match, leaves a
# COMMAND that still writes to die of SIGPIPE: roost's --help output takes several writes.)
output_has() {
  local args=() out rc=0
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  out=$("$@") || rc=$?
  [ "$rc" -eq 0 ] || { echo "output_has: $* exited $rc" >&2; return 1; }
  grep -q "${args[@]}" <<< "$out"
}

# A tiny two-class ImageFolder tree from the embedded Fashion-MNIST data.
make_tiny_dataset() {  # dir train_per_class val_per_class size
  if [ ! -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    echo "SKIP: dataset-fashion-mnist is not installed"; exit 77
  fi
  "$ROOST" data fashion-mnist --out "$1" --train-per-class "$2" --val-per-class "$3" --size "$4" >/dev/null
}
