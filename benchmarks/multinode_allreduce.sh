#!/usr/bin/env bash
# multinode_allreduce.sh — roost's hierarchical allreduce against the flat ring, across nodes
# emulated on this machine (network namespaces linked through a shaped veth each).
#
#   benchmarks/multinode_allreduce.sh [--nodes 2] [--slots 2] [--netem "rate 10gbit delay 50us"]
#       [--min-bytes 64K] [--max-bytes 64M] [--iters 10] [--backends ring,hier] [--skip-train]
#       [--train-args "ARGS"] [--build-dir DIR] [--out DIR]
#
# Needs root: tests/netns/nodes.sh brings up --nodes namespaces of --slots slots, every link
# shaped with the --netem words (`tc qdisc ... netem WORDS`; a kernel without sch_netem can
# have `rate R` alone, as tbf), and removes them at exit. Then, under mpirun across the nodes
# (ranks placed by slot, so ranks 0..slots-1 share node 1):
#   allreduce   build/benchmarks/allreduce_bench --backends ring,hier, float32 sum, sizes x4
#               from --min-bytes to --max-bytes: ring is roost's flat ring over all ranks (with
#               two nodes of two ranks, two of its four links cross the network), hier the
#               hierarchical allreduce; busbw = algbw * 2(n-1)/n for both (nccl-tests);
#   train       build/benchmarks/synthetic_bench, a short ResNet-18 run on a resident batch
#               (--train-args, default below) with --allreduce-path ring, then hier: images/s.
# Every rank yields the CPU while it waits in MPI (OMPI_MCA_mpi_yield_when_idle=1, as roost
# train --mpi-yield auto decides on a full node), because on a machine with fewer cores than
# ranks a spinning rank takes the CPU from the rank it waits for.
#
# Writes DIR (default multinode-results) /allreduce.txt|json, /train-ring.txt|json,
# /train-hier.txt|json and prints a table of hier/ring busbw per size and the img/s of both.
set -euo pipefail

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "multinode_allreduce.sh: error: $*" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
nodes=2 slots=2 netem="rate 10gbit delay 50us" min=64K max=64M iters=10 backends=ring,hier train=1
train_args="--arch resnet18 --batch-size 16 --image-size 64 --threads 1 --num-warmup-batches 3 --num-iters 4 --num-batches-per-iter 5"
build="$repo/build" out=multinode-results
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --skip-train) train=0; shift; continue ;;
  esac
  [ $# -ge 2 ] || die "$1 needs a value (try --help)"
  case "$1" in
    --nodes) nodes=$2 ;;
    --slots) slots=$2 ;;
    --netem) netem=$2 ;;
    --min-bytes) min=$2 ;;
    --max-bytes) max=$2 ;;
    --iters) iters=$2 ;;
    --backends) backends=$2 ;;
    --train-args) train_args=$2 ;;
    --build-dir) build=$2 ;;
    --out) out=$2 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
  shift 2
done
for v in nodes slots iters; do [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--$v needs a positive integer, got '${!v}'"; done
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for exe in allreduce_bench synthetic_bench; do
  [ -x "$build/benchmarks/$exe" ] || die "$build/benchmarks/$exe is missing (build with -DROOST_BENCHMARKS=ON)"
done
[ -z "${ROOST_NODE_SPLIT:-}" ] || die "unset ROOST_NODE_SPLIT: the nodes here are real namespaces"

mkdir -p "$out"
out=$(cd "$out" && pwd)
harness=$(mktemp -d /tmp/roost-multinode.XXXXXX)
trap '"$repo/tests/netns/nodes.sh" down "$harness" >/dev/null 2>&1 || true; rm -rf "$harness"' EXIT
# shellcheck disable=SC2086
"$repo/tests/netns/nodes.sh" up "$harness" "$nodes" "$slots" $netem
# shellcheck disable=SC1091
source "$harness/env"
export OMPI_MCA_mpi_yield_when_idle=1
np=$((nodes * slots))
run() { mpirun --allow-run-as-root --hostfile "$harness/hostfile" -np "$np" --map-by slot "$@"; }

echo "# $nodes nodes x $slots ranks, links: $netem; $(nproc) cores on this machine"
run "$build/benchmarks/allreduce_bench" --backends "$backends" --min-bytes "$min" --max-bytes "$max" \
  --iters "$iters" --warmup 2 --json "$out/allreduce.json" | tee "$out/allreduce.txt"
if [ "$train" = 1 ]; then
  for path in ring hier; do
    # shellcheck disable=SC2086
    run "$build/benchmarks/synthetic_bench" $train_args --allreduce-path "$path" --json "$out/train-$path.json" \
      | tee "$out/train-$path.txt"
  done
fi

python3 - "$out" "$train" <<'PY'
import json, sys
out, train = sys.argv[1], sys.argv[2] == "1"
rows = json.load(open(f"{out}/allreduce.json"))
by = {}
for r in rows:
    by.setdefault(r["size"], {})[r["backend"]] = r
print("\n| size | ring busbw (GB/s) | hier busbw (GB/s) | hier / ring |")
print("|---:|---:|---:|---:|")
for size in sorted(by):
    b = by[size]
    if "ring" in b and "hier" in b:
        ratio = b["hier"]["busbw"] / b["ring"]["busbw"]
        print(f"| {size} | {b['ring']['busbw']:.3f} | {b['hier']['busbw']:.3f} | {ratio:.2f}x |")
if train:
    t = {p: json.load(open(f"{out}/train-{p}.json")) for p in ("ring", "hier")}
    print("\n| training | img/s (total) | shared update |")
    print("|---|---:|---|")
    for p in ("ring", "hier"):
        print(f"| --allreduce-path {p} | {t[p]['total_img_sec']:.1f} ± {t[p]['total_img_sec_conf']:.1f} | {'on' if t[p]['shared_update'] else 'off'} |")
    print(f"\nhier / ring img/s: {t['hier']['total_img_sec'] / t['ring']['total_img_sec']:.2f}x")
PY
