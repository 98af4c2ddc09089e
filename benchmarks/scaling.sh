#!/usr/bin/env bash
# scaling.sh — how roost's training throughput scales with the number of ranks on this machine.
#
#   benchmarks/scaling.sh [--arch resnet18] [--batch-size 32] [--image-size 64] [--max-np N]
#                         [--out DIR] [--threads 1] [--build-dir DIR] [--num-iters 10]
#                         [--num-batches-per-iter 10] [--num-warmup-batches 10]
#                         [--skip-ceiling] [--skip-real] [--mpirun-args "ARGS"]
#
# For np = 1, 2, 4, … up to --max-np (default: nproc, the slots of this machine; the largest
# is always included) it runs, each under `mpirun -np N`:
#   synthetic  build/benchmarks/synthetic_bench: resident random batch, gradients averaged by
#              roost's synchronizer (Horovod's synthetic benchmark method);
#   ceiling    the same with --no-allreduce: what the ranks compute when nothing is exchanged;
#   real       `roost train` for one epoch on a Fashion-MNIST ImageFolder made by `roost data`
#              (PNG decode and augmentation included), images_per_sec from metrics.jsonl
#              (the epoch's training part; validation is not timed).
# Scaling efficiency at N is per-rank img/s at N over per-rank img/s at 1 (1.0 = linear).
# Every rank gets --threads intra-op threads (default 1), so N ranks use N cores and np=1 is a
# one-core baseline rather than the whole machine.
#
# Writes a table to stdout and DIR/scaling.json; DIR/scaling.png when /usr/bin/python3 has
# matplotlib (Debian: python3-matplotlib), otherwise it says so and skips the plot. The raw
# output of every run stays in DIR/runs/.
set -euo pipefail

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "scaling.sh: error: $*" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
arch=resnet18 batch=32 image=64 max_np=$(nproc) out=scaling-results threads=1
build="$repo/build" iters=10 per_iter=10 warmup=10 ceiling=1 real=1 mpirun_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --skip-ceiling) ceiling=0; shift; continue ;;
    --skip-real) real=0; shift; continue ;;
  esac
  [ $# -ge 2 ] || die "$1 needs a value (try --help)"
  case "$1" in
    --arch) arch=$2 ;;
    --batch-size) batch=$2 ;;
    --image-size) image=$2 ;;
    --max-np) max_np=$2 ;;
    --out) out=$2 ;;
    --threads) threads=$2 ;;
    --build-dir) build=$2 ;;
    --num-iters) iters=$2 ;;
    --num-batches-per-iter) per_iter=$2 ;;
    --num-warmup-batches) warmup=$2 ;;
    --mpirun-args) mpirun_args=$2 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
  shift 2
done
for pair in batch:batch-size image:image-size max_np:max-np threads:threads iters:num-iters \
            per_iter:num-batches-per-iter; do
  v=${pair%%:*}
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${pair#*:} needs a positive integer, got '${!v}'"
done
[[ $warmup =~ ^[0-9]+$ ]] || die "--num-warmup-batches needs an integer >= 0, got '$warmup'"
case "$arch" in resnet18|resnet34|resnet50|resnet101|resnet152) ;; *) die "--arch: unknown architecture '$arch'" ;; esac
bench="$build/benchmarks/synthetic_bench" roost="$build/roost"
[ -x "$bench" ] || die "$bench not found: build it (ninja -C $build synthetic_bench) or pass --build-dir"
[ "$real" = 0 ] || [ -x "$roost" ] || die "$roost not found: build it (ninja -C $build roost), pass --build-dir, or --skip-real"
command -v mpirun >/dev/null || die "mpirun not found (Debian: openmpi-bin)"
mkdir -p "$out/runs" || die "cannot create $out"
out=$(cd "$out" && pwd)

# Open MPI refuses root unless told; --oversubscribe lets --max-np exceed the detected slots.
# No binding: a rank may use several threads, and on a shared machine the kernel can move a
# rank off a core that another job is busy on.
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
mpirun_cmd() { local np=$1; shift; mpirun -np "$np" --oversubscribe --bind-to none $mpirun_args "$@"; }

# The value of "key": number in a one-line JSON record.
json_num() { grep -o "\"$2\": *[-0-9.eE+]*" "$1" | tail -n 1 | sed 's/.*: *//'; }

nps=()
for ((n = 1; n < max_np; n *= 2)); do nps+=("$n"); done
nps+=("$max_np")

synthetic() {  # np mode(synthetic|ceiling) -> "per_rank conf total"
  local np=$1 mode=$2 extra=()
  [ "$mode" = ceiling ] && extra=(--no-allreduce)
  local json="$out/runs/$mode-np$np.json" log="$out/runs/$mode-np$np.log"
  mpirun_cmd "$np" "$bench" --arch "$arch" --batch-size "$batch" --image-size "$image" --threads "$threads" \
    --num-warmup-batches "$warmup" --num-iters "$iters" --num-batches-per-iter "$per_iter" \
    --json "$json" "${extra[@]}" >"$log" 2>&1 || { cat "$log" >&2; die "synthetic_bench failed at np=$np ($log)"; }
  echo "$(json_num "$json" img_sec_per_rank) $(json_num "$json" img_sec_per_rank_conf) $(json_num "$json" total_img_sec)"
}

data="$out/fashion-mnist-64"
real_run() {  # np -> "per_rank total"
  local np=$1 dir="$out/runs/real-np$np"
  rm -rf "$dir"
  mpirun_cmd "$np" "$roost" train --data-dir "$data" --output-dir "$dir" --epochs 1 --progress none \
    --arch "$arch" --batch-size "$batch" --image-size "$image" --threads "$threads" \
    >"$dir.log" 2>&1 || { cat "$dir.log" >&2; die "roost train failed at np=$np ($dir.log)"; }
  local total
  total=$(json_num "$dir/metrics.jsonl" images_per_sec)
  [ -n "$total" ] || die "no images_per_sec in $dir/metrics.jsonl"
  echo "$(awk -v t="$total" -v n="$np" 'BEGIN { printf "%.3f", t / n }') $total"
}

if [ "$real" = 1 ] && [ ! -d "$data/train" ]; then
  # At least 8 steps per rank at the largest np, so one epoch is mostly steady-state steps.
  per_class=$(( (8 * batch * max_np + 1) / 2 ))
  [ "$per_class" -ge 120 ] || per_class=120
  "$roost" data fashion-mnist --out "$data" --size 64 --train-per-class "$per_class" --val-per-class 32 \
    >"$out/runs/data.log" 2>&1 || { cat "$out/runs/data.log" >&2; die "roost data fashion-mnist failed"; }
fi

# Other work on the machine skews every figure: the load averages go into the output.
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //; s/"//g')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "roost scaling: $arch, batch $batch per rank, ${image}px, $threads thread(s) per rank, np = ${nps[*]}"
echo "machine: $(hostname), $(nproc) cores, $cpu"
echo "load average before the runs: $load_before"
rows=()
for np in "${nps[@]}"; do
  # Assignments from $(…) so that a failed run (die in the subshell) stops the script.
  echo "np=$np: synthetic..." >&2
  res=$(synthetic "$np" synthetic)
  read -r s_rank s_conf s_total <<<"$res"
  c_rank="" c_conf="" c_total="" r_rank="" r_total=""
  if [ "$ceiling" = 1 ]; then
    echo "np=$np: ceiling (--no-allreduce)..." >&2
    res=$(synthetic "$np" ceiling)
    read -r c_rank c_conf c_total <<<"$res"
  fi
  if [ "$real" = 1 ]; then
    echo "np=$np: roost train, one epoch..." >&2
    res=$(real_run "$np")
    read -r r_rank r_total <<<"$res"
  fi
  rows+=("$np $s_rank $s_conf $s_total ${c_rank:--} ${c_conf:--} ${c_total:--} ${r_rank:--} ${r_total:--}")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average after the runs: $load_after"

# Table and JSON from the rows; efficiency relative to the np=1 row of the same column.
printf '%s\n' "${rows[@]}" >"$out/runs/rows.txt"
awk -v arch="$arch" -v batch="$batch" -v image="$image" -v threads="$threads" -v host="$(hostname)" \
    -v cores="$(nproc)" -v cpu="$cpu" -v load_before="$load_before" -v load_after="$load_after" \
    -v json="$out/scaling.json" '
  function eff(v, base) { return (v == "-" || base == "-" || base == 0) ? "-" : sprintf("%.2f", v / base) }
  function jnum(v) { return v == "-" ? "null" : v }
  { for (i = 1; i <= 9; i++) f[NR, i] = $i; if (NR == 1) { b2 = $2; b5 = $5; b8 = $8 } }
  END {
    printf "\n| ranks | synthetic img/s per rank | total img/s | efficiency | no-allreduce img/s per rank | efficiency | roost train img/s per rank | total img/s | efficiency |\n"
    printf "|---|---|---|---|---|---|---|---|---|\n"
    printf "{\"arch\": \"%s\", \"batch_size\": %d, \"image_size\": %d, \"threads_per_rank\": %d, \"host\": \"%s\", \"cores\": %d, \"cpu\": \"%s\",\n", arch, batch, image, threads, host, cores, cpu > json
    printf " \"load_average_before\": \"%s\", \"load_average_after\": \"%s\", \"runs\": [\n", load_before, load_after > json
    for (r = 1; r <= NR; r++) {
      ceil_cell = f[r, 5] == "-" ? "-" : sprintf("%.1f ±%.1f", f[r, 5], f[r, 6])
      printf "| %d | %.1f ±%.1f | %.1f | %s | %s | %s | %s | %s | %s |\n", f[r, 1], f[r, 2], f[r, 3], f[r, 4],
        eff(f[r, 2], b2), ceil_cell, eff(f[r, 5], b5),
        f[r, 8] == "-" ? "-" : sprintf("%.1f", f[r, 8]), f[r, 9] == "-" ? "-" : sprintf("%.1f", f[r, 9]), eff(f[r, 8], b8)
      printf "  {\"np\": %d, \"synthetic\": {\"img_sec_per_rank\": %s, \"conf\": %s, \"total_img_sec\": %s, \"efficiency\": %s}, ", f[r, 1], f[r, 2], f[r, 3], f[r, 4], jnum(eff(f[r, 2], b2)) > json
      printf "\"no_allreduce\": {\"img_sec_per_rank\": %s, \"conf\": %s, \"total_img_sec\": %s, \"efficiency\": %s}, ", jnum(f[r, 5]), jnum(f[r, 6]), jnum(f[r, 7]), jnum(eff(f[r, 5], b5)) > json
      printf "\"roost_train\": {\"img_sec_per_rank\": %s, \"total_img_sec\": %s, \"efficiency\": %s}}%s\n", jnum(f[r, 8]), jnum(f[r, 9]), jnum(eff(f[r, 8], b8)), r < NR ? "," : "" > json
    }
    printf "]}\n" > json
  }' "$out/runs/rows.txt"
echo
echo "efficiency: per-rank img/s at N over per-rank img/s at 1 (1.00 = linear scaling)"
echo "JSON: $out/scaling.json"

if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  /usr/bin/python3 - "$out/scaling.json" "$out/scaling.png" <<'EOF'
# Total throughput against ranks (with the linear ideal from np=1) and efficiency.
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
d = json.load(open(sys.argv[1]))
nps = [r["np"] for r in d["runs"]]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for key, label in [("synthetic", "synthetic"), ("no_allreduce", "no allreduce"), ("roost_train", "roost train")]:
    tot = [r[key]["total_img_sec"] for r in d["runs"]]
    eff = [r[key]["efficiency"] for r in d["runs"]]
    if any(v is None for v in tot):
        continue
    ax1.plot(nps, tot, marker="o", label=label)
    ax2.plot(nps, eff, marker="o", label=label)
base = d["runs"][0]["synthetic"]["total_img_sec"]
ax1.plot(nps, [base * n for n in nps], linestyle="--", color="grey", label="linear (synthetic)")
ax1.set(xlabel="ranks", ylabel="img/s (all ranks)", xticks=nps)
ax2.set(xlabel="ranks", ylabel="scaling efficiency", xticks=nps, ylim=(0, 1.1))
ax1.legend(); ax2.legend()
fig.suptitle(f"roost {d['arch']}, batch {d['batch_size']}/rank, {d['image_size']}px, {d['threads_per_rank']} thread(s)/rank, {d['host']}")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
EOF
  echo "plot: $out/scaling.png"
else
  echo "plot: skipped (/usr/bin/python3 has no matplotlib; Debian package python3-matplotlib)"
fi
