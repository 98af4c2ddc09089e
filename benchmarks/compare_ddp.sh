#!/usr/bin/env bash
# compare_ddp.sh — roost against PyTorch DDP on the same job, on this machine, in one invocation.
#
#   benchmarks/compare_ddp.sh [--image-sizes "64 224"] [--rounds 2] [--epochs 2] [--np 2]
#       [--batch-size 4] [--threads 1] [--workers 1] [--classes 2,4] [--train-per-class 32]
#       [--val-per-class 8] [--ceiling-steps 20] [--out DIR] [--build-dir DIR]
#       [--skip-yield] [--skip-ceiling] [--skip-scaling] [--mpirun-args "ARGS"] [--report-only]
#
# The job: ResNet-18 from scratch, the reference transforms at each --image-size (train
# RandomResizedCrop(size) + flip, val Resize(size*256/224) + CenterCrop(size), ImageNet
# normalisation), SGD lr 0.001 momentum 0.9, --batch-size images per rank, --threads intra-op
# threads and --workers decode workers per rank, on a Fashion-MNIST ImageFolder written by
# `roost data fashion-mnist` (default: pullover vs coat, 32 train / 8 val images per class,
# i.e. 8 steps per rank and epoch at np=2, small enough for 224 px on two busy cores; the
# reference set's shape is --train-per-class 120 --val-per-class 100; PNGs of side size*256/224). For every image size and every round
# it runs, in an order that alternates between rounds:
#   roost        mpirun -np N roost train --mpi-yield off ... (Open MPI's default: a rank waiting
#                in MPI spins in the progress engine)
#   roost+yield  the same with --mca mpi_yield_when_idle 1: a rank waiting in MPI gives its core
#                away instead of spinning; roost train's default (--mpi-yield auto) does this
#                itself when ranks x threads fill the cores (--skip-yield leaves it out)
#   ddp          mpirun -np N /usr/bin/python3 benchmarks/ddp_peer.py ... (DDP over Gloo,
#                DataLoader worker processes)
#   ceiling      mpirun -np N synthetic_bench --no-allreduce: the same model, batch, size and
#                threads on a resident random batch with no data loading and no gradient
#                exchange — what the ranks can compute at most (--skip-ceiling leaves it out)
# and once, at the end, both engines at np=1 for the scaling np=1 → N (--skip-scaling).
# Every rank runs under benchmarks/peak_mem.py, so memory is measured the same way for both
# engines: the peak over the run of the RSS summed over the rank's process tree (the rank and
# its DataLoader workers), and the same for PSS (shared pages counted once).
#
# Train img/s is the engines' own per-epoch figure (images of all ranks / rank 0's training
# time of the epoch, validation excluded); the first epoch warms up and is not counted, the
# median of the other epochs is the run's figure, and the table shows the median over rounds.
# Writes the table and PASS/MISS against the targets to stdout, DIR/compare-ddp.json, and
# every run's output under DIR/runs/; --report-only rebuilds the table from DIR/runs/ (after an
# interrupted invocation, say) without running anything. A run that something else reniced
# while it ran (a shared machine's watchdog, for example) is named in the output. The defaults
# took 15–20 minutes on the 2-core development machine while other jobs kept its load average
# near 9; ResNet-18 at 224 px is most of it.
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "compare_ddp.sh: error: $*" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
sizes="64 224" rounds=2 epochs=2 np=2 batch=4 threads=1 workers=1 classes=2,4
train_pc=32 val_pc=8 ceiling_steps=20 out=compare-ddp-results build="$repo/build"
yield=1 ceiling=1 scaling=1 mpirun_args="" report_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --skip-yield) yield=0; shift; continue ;;
    --skip-ceiling) ceiling=0; shift; continue ;;
    --skip-scaling) scaling=0; shift; continue ;;
    --report-only) report_only=1; shift; continue ;;
  esac
  [ $# -ge 2 ] || die "$1 needs a value (try --help)"
  case "$1" in
    --image-sizes) sizes=$2 ;;
    --rounds) rounds=$2 ;;
    --epochs) epochs=$2 ;;
    --np) np=$2 ;;
    --batch-size) batch=$2 ;;
    --threads) threads=$2 ;;
    --workers) workers=$2 ;;
    --classes) classes=$2 ;;
    --train-per-class) train_pc=$2 ;;
    --val-per-class) val_pc=$2 ;;
    --ceiling-steps) ceiling_steps=$2 ;;
    --out) out=$2 ;;
    --build-dir) build=$2 ;;
    --mpirun-args) mpirun_args=$2 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
  shift 2
done
for pair in rounds:rounds epochs:epochs np:np batch:batch-size threads:threads train_pc:train-per-class \
            val_pc:val-per-class ceiling_steps:ceiling-steps; do
  v=${pair%%:*}
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${pair#*:} needs a positive integer, got '${!v}'"
done
[[ $workers =~ ^[0-9]+$ ]] || die "--workers needs an integer >= 0, got '$workers'"
[[ $classes =~ ^[0-9](,[0-9])+$ ]] || die "--classes needs at least two comma-separated class numbers, got '$classes'"
[ -n "$sizes" ] || die "--image-sizes is empty"
for s in $sizes; do [[ $s =~ ^[1-9][0-9]*$ ]] && [ "$s" -ge 16 ] || die "--image-sizes: '$s' is not a size >= 16"; done
[ "$epochs" -ge 2 ] || echo "compare_ddp.sh: note: with --epochs 1 the warm-up epoch is the one counted" >&2
roost="$build/roost" bench="$build/benchmarks/synthetic_bench" python=/usr/bin/python3
[ -x "$roost" ] || die "$roost not found: build it (launch/build.sh) or pass --build-dir"
[ "$ceiling" = 0 ] || [ -x "$bench" ] || die "$bench not found: build it (ninja -C $build synthetic_bench) or --skip-ceiling"
command -v mpirun >/dev/null || die "mpirun not found (Debian: openmpi-bin)"
"$python" -c 'import torch, torchvision, torch.distributed as d; assert d.is_gloo_available()' 2>/dev/null ||
  die "$python cannot import torch and torchvision with Gloo (Debian: python3-torch python3-torchvision)"
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
  die "Fashion-MNIST not found (Debian: dataset-fashion-mnist)"
mkdir -p "$out/runs" || die "cannot create $out"
out=$(cd "$out" && pwd)
runs="$out/runs"
peak_mem="$repo/benchmarks/peak_mem.py" ddp_peer="$repo/benchmarks/ddp_peer.py"

if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
# No binding, as in scaling.sh: decode workers and the Gloo threads float over the cores.
mpirun_cmd() { local n=$1; shift; mpirun -np "$n" --oversubscribe --bind-to none $mpirun_args "$@"; }
free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# One run: engine size np round -> writes $runs/<name>/ (metrics.jsonl, mem.<rank>.json, run.json).
run_one() {
  local engine=$1 size=$2 n=$3 round=$4
  local resize=$(( (size * 256 + 112) / 224 ))
  local name="$engine-${size}px-np$n-r$round" data="$out/data-${size}px"
  local dir="$runs/$name"
  rm -rf "$dir" && mkdir -p "$dir"
  local load_before t0 t1 rc=0
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=$(date +%s.%N)
  case "$engine" in
    roost|roost+yield)
      local extra=() yield_opt=(--mpi-yield off)
      [ "$engine" = roost+yield ] && extra=(--mca mpi_yield_when_idle 1) yield_opt=(--mpi-yield on)
      mpirun_cmd "$n" "${extra[@]}" "$python" "$peak_mem" --out "$dir/mem" -- \
        "$roost" train --data-dir "$data" --output-dir "$dir" --epochs "$epochs" --batch-size "$batch" \
        --image-size "$size" --resize-short "$resize" --threads "$threads" --workers "$workers" \
        --lr 0.001 --momentum 0.9 --checkpoint-every 0 --progress none --seed 42 "${yield_opt[@]}" \
        >"$dir/log" 2>&1 || rc=$?
      ;;
    ddp)
      mpirun_cmd "$n" -x MASTER_ADDR=127.0.0.1 -x MASTER_PORT="$(free_port)" "$python" "$peak_mem" --out "$dir/mem" -- \
        "$python" "$ddp_peer" --data-dir "$data" --output-dir "$dir" --epochs "$epochs" --batch-size "$batch" \
        --image-size "$size" --resize-short "$resize" --threads "$threads" --workers "$workers" \
        --lr 0.001 --momentum 0.9 --seed 42 >"$dir/log" 2>&1 || rc=$?
      ;;
    ceiling)
      mpirun_cmd "$n" "$python" "$peak_mem" --out "$dir/mem" -- \
        "$bench" --arch resnet18 --batch-size "$batch" --image-size "$size" --threads "$threads" --no-allreduce \
        --num-warmup-batches 3 --num-iters "$(( ceiling_steps >= 10 ? ceiling_steps / 5 : 2 ))" \
        --num-batches-per-iter "$(( ceiling_steps >= 10 ? 5 : (ceiling_steps + 1) / 2 ))" \
        --json "$dir/synthetic.json" >"$dir/log" 2>&1 || rc=$?
      ;;
  esac
  t1=$(date +%s.%N)
  if [ "$rc" != 0 ]; then tail -n 30 "$dir/log" >&2; die "$engine at ${size}px np=$n failed (rc $rc, $dir/log)"; fi
  printf '{"engine": "%s", "image_size": %d, "np": %d, "round": %d, "wall_s": %s, "load_before": "%s", "load_after": "%s"}\n' \
    "$engine" "$size" "$n" "$round" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
    "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" >"$dir/run.json"
  echo "  $name: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s" >&2
}

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //; s/"//g')
if [ "$report_only" = 0 ]; then
echo "roost vs PyTorch DDP: resnet18, np=$np, $threads thread(s) and $workers decode worker(s) per rank, batch $batch per rank"
echo "image sizes: $sizes; $rounds round(s) of $epochs epoch(s) (the first epoch of each run is warm-up, not counted)"
echo "data: Fashion-MNIST classes $classes, $train_pc train / $val_pc val images per class (roost data fashion-mnist)"
echo "machine: $(hostname), $(nproc) cores, $cpu; torch $("$python" -c 'import torch; print(torch.__version__)'), $(mpirun --version 2>/dev/null | head -n 1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)

engines=(roost)
[ "$yield" = 1 ] && engines+=(roost+yield)
engines+=(ddp)
[ "$ceiling" = 1 ] && engines+=(ceiling)
for size in $sizes; do
  data="$out/data-${size}px"
  if [ ! -d "$data/train" ]; then
    "$roost" data fashion-mnist --out "$data" --classes "$classes" --train-per-class "$train_pc" \
      --val-per-class "$val_pc" --size $(( (size * 256 + 112) / 224 )) >"$runs/data-${size}px.log" 2>&1 ||
      { cat "$runs/data-${size}px.log" >&2; die "roost data fashion-mnist failed"; }
  fi
  for ((round = 1; round <= rounds; round++)); do
    echo "${size}px round $round/$rounds" >&2
    # Alternate the order so that neither engine always runs first (on a warmer page cache, or
    # beside the tail of the previous run's load).
    order=("${engines[@]}")
    if (( round % 2 == 0 )); then
      order=(); for ((i = ${#engines[@]} - 1; i >= 0; i--)); do order+=("${engines[i]}"); done
    fi
    for engine in "${order[@]}"; do run_one "$engine" "$size" "$np" "$round"; done
  done
  if [ "$scaling" = 1 ] && [ "$np" -gt 1 ]; then
    echo "${size}px np=1 (scaling)" >&2
    run_one roost "$size" 1 1
    run_one ddp "$size" 1 1
  fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - start )) s in all"
fi

"$python" - "$out" "$np" "$threads" "$workers" "$batch" "$epochs" "$rounds" "$classes" "$train_pc" "$val_pc" \
  "$(hostname)" "$(nproc)" "$cpu" <<'PY'
import glob, json, os, statistics, sys

out, np_, threads, workers, batch, epochs, rounds, classes, train_pc, val_pc, host, cores, cpu = sys.argv[1:]
np_, rounds = int(np_), int(rounds)
runs = os.path.join(out, "runs")


def load(d):
    run = json.load(open(os.path.join(d, "run.json")))
    mems = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(d, "mem.*.json")))]
    run["peak_rss_mib"] = max(m["peak_rss_mib"] for m in mems)
    pss = [m["peak_tree_pss_mib"] for m in mems if m["peak_tree_pss_mib"] is not None]
    run["peak_tree_pss_mib"] = max(pss) if pss else None
    run["rank_process_hwm_mib"] = max(m["rank_process_hwm_mib"] for m in mems)
    run["max_processes_per_rank"] = max(m["max_processes"] for m in mems)
    run["reniced_share"] = max(m.get("reniced_share", 0) for m in mems)
    if run["engine"] == "ceiling":
        s = json.load(open(os.path.join(d, "synthetic.json")))
        run["images_per_sec"] = s["total_img_sec"]
        run["epoch_time_s"] = run["val_acc"] = None
    else:
        hist = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl")) if l.strip()]
        counted = hist[1:] if len(hist) > 1 else hist
        run["images_per_sec"] = statistics.median(r["images_per_sec"] for r in counted)
        run["epoch_time_s"] = statistics.median(r["epoch_time_s"] for r in counted)
        run["val_acc"] = hist[-1]["val_acc"]
        run["per_epoch_images_per_sec"] = [r["images_per_sec"] for r in hist]
    return run


all_runs = [load(d) for d in sorted(glob.glob(os.path.join(runs, "*-np*-r*"))) if os.path.exists(os.path.join(d, "run.json"))]
sizes = sorted({r["image_size"] for r in all_runs})
engines = [e for e in ("roost", "roost+yield", "ddp", "ceiling") if any(r["engine"] == e for r in all_runs)]
label = {"roost": "roost, --mpi-yield off (spinning)", "roost+yield": "roost, mpi_yield_when_idle 1 (default here)", "ddp": "PyTorch DDP (Gloo)",
         "ceiling": "compute ceiling (synthetic_bench --no-allreduce)"}


def med(rs, key):
    v = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(v) if v else None


def agg(size, engine, n):
    rs = [r for r in all_runs if r["image_size"] == size and r["engine"] == engine and r["np"] == n]
    if not rs:
        return None
    return {"runs": len(rs), "images_per_sec": med(rs, "images_per_sec"),
            "images_per_sec_rounds": [round(r["images_per_sec"], 2) for r in sorted(rs, key=lambda r: r["round"])],
            "epoch_time_s": med(rs, "epoch_time_s"), "val_acc": med(rs, "val_acc"),
            "peak_rss_mib": med(rs, "peak_rss_mib"), "peak_tree_pss_mib": med(rs, "peak_tree_pss_mib"),
            "rank_process_hwm_mib": med(rs, "rank_process_hwm_mib"),
            "max_processes_per_rank": max(r["max_processes_per_rank"] for r in rs),
            "load_before": [r["load_before"] for r in sorted(rs, key=lambda r: r["round"])],
            "reniced": {r["round"]: r["reniced_share"] for r in rs if r["reniced_share"] > 0}}


fmt = lambda v, f="%.1f": "–" if v is None else f % v
result = {"host": host, "cores": int(cores), "cpu": cpu, "np": np_, "threads_per_rank": int(threads),
          "workers_per_rank": int(workers), "batch_size_per_rank": int(batch), "epochs": int(epochs),
          "rounds": rounds, "classes": classes, "train_per_class": int(train_pc), "val_per_class": int(val_pc),
          "sizes": {}, "targets": []}
print()
print("| image | engine | train img/s (median) | per round | epoch s | val acc | peak RSS/rank MiB | peak PSS/rank MiB | roost/DDP | share of ceiling |")
print("|---|---|---|---|---|---|---|---|---|---|")
for size in sizes:
    a = {e: agg(size, e, np_) for e in engines}
    ddp, ceil = a.get("ddp"), a.get("ceiling")
    for e in engines:
        x = a[e]
        if x is None:
            continue
        if ddp and e != "ceiling":
            x["vs_ddp"] = x["images_per_sec"] / ddp["images_per_sec"]
        if ceil and e != "ceiling":
            x["share_of_ceiling"] = x["images_per_sec"] / ceil["images_per_sec"]
        print(f"| {size} | {label[e]} | {fmt(x['images_per_sec'])} | {' '.join(fmt(v) for v in x['images_per_sec_rounds'])} "
              f"| {fmt(x['epoch_time_s'], '%.2f')} | {fmt(x['val_acc'], '%.3f')} | {fmt(x['peak_rss_mib'], '%.0f')} "
              f"| {fmt(x['peak_tree_pss_mib'], '%.0f')} | {fmt(x.get('vs_ddp'), '%.2f×')} "
              f"| {fmt(None if x.get('share_of_ceiling') is None else 100 * x['share_of_ceiling'], '%.1f%%')} |")
    # A single rank never waits for a peer, so roost's np=1 run (--mpi-yield off) is the np=1
    # figure of both roost launches.
    one = {e: agg(size, e, 1) for e in ("roost", "ddp")}
    one["roost+yield"] = one["roost"]
    scaling = {}
    for e in ("roost", "roost+yield", "ddp"):
        x = one[e]
        if x and a.get(e):
            scaling[e] = {"np1_images_per_sec": x["images_per_sec"], "np1_peak_rss_mib": x["peak_rss_mib"],
                          f"np{np_}_images_per_sec": a[e]["images_per_sec"],
                          "speedup": a[e]["images_per_sec"] / x["images_per_sec"],
                          "efficiency": a[e]["images_per_sec"] / x["images_per_sec"] / np_}
    result["sizes"][str(size)] = {"np": a, "scaling": scaling}

if any(v["scaling"] for v in result["sizes"].values()):
    print()
    print(f"| image | engine | np=1 img/s | np={np_} img/s (median) | speed-up | scaling efficiency |")
    print("|---|---|---|---|---|---|")
    for size in sizes:
        for e, s in result["sizes"][str(size)]["scaling"].items():
            print(f"| {size} | {label[e]} | {s['np1_images_per_sec']:.1f} | {s[f'np{np_}_images_per_sec']:.1f} "
                  f"| {s['speedup']:.2f}× | {100 * s['efficiency']:.0f}% |")

reniced = [(r["image_size"], r["engine"], r["np"], r["round"], r["reniced_share"]) for r in all_runs if r["reniced_share"] > 0]
if reniced:
    print("\nreniced by something else while running (share of the run):",
          ", ".join(f"{e} {s}px np={n} round {k} ({100 * f:.0f}%)" for s, e, n, k, f in sorted(reniced)))
result["reniced_runs"] = [dict(zip(("image_size", "engine", "np", "round", "share"), r)) for r in reniced]

# The targets, judged on each roost launch that ran.
print()
for size in sizes:
    a = result["sizes"][str(size)]["np"]
    for e in ("roost", "roost+yield"):
        x = a.get(e)
        if not x:
            continue
        checks = []
        if a.get("ddp"):
            need = 1.15 if size >= 224 else 1.5 if size <= 64 else None
            if need:
                checks.append((f"throughput ≥ {need}× DDP", x["vs_ddp"] >= need, f"{x['vs_ddp']:.2f}×"))
            checks.append(("peak RSS per rank ≤ DDP's", x["peak_rss_mib"] <= a["ddp"]["peak_rss_mib"],
                           f"{x['peak_rss_mib']:.0f} vs {a['ddp']['peak_rss_mib']:.0f} MiB"))
        if a.get("ceiling") and size >= 224:
            checks.append(("≥ 95% of the compute ceiling", x["share_of_ceiling"] >= 0.95,
                           f"{100 * x['share_of_ceiling']:.1f}%"))
        sc = result["sizes"][str(size)]["scaling"].get(e)
        if sc:
            checks.append((f"scaling efficiency np=1 → {np_} ≥ 90%", sc["efficiency"] >= 0.9,
                           f"{100 * sc['efficiency']:.0f}%"))
        for what, ok, value in checks:
            print(f"{'PASS' if ok else 'MISS'}  {size}px {label[e]}: {what} ({value})")
            result["targets"].append({"image_size": size, "engine": e, "target": what, "pass": ok, "value": value})
json.dump(result, open(os.path.join(out, "compare-ddp.json"), "w"), indent=1)
print(f"\nJSON: {os.path.join(out, 'compare-ddp.json')}; each run's output: {runs}/")
PY
