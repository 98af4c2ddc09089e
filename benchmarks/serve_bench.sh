#!/usr/bin/env bash
# serve_bench.sh — requests/s and p50/p99 latency of image classification over HTTP at 1, 4,
# 16 and 64 concurrent clients, for roost serve with batching (--max-batch 16), roost serve
# without it (--max-batch 1) and a Python peer (torchvision's same model and weights behind
# ThreadingHTTPServer, serve_peer.py), one after the other on this machine in one invocation.
# The load comes from serve_load.py (Python threads, keep-alive connections, the same JPEG).
#
#   benchmarks/serve_bench.sh [SECONDS_PER_POINT=10] [CLIENTS="1 4 16 64"] [SIZE=224]
#
# Needs build/roost, /usr/bin/python3 with torch and torchvision. Prints a table and the
# targets of the serving issue: batching >= 1.5x batch-1 at 16 clients; roost >= 2x the
# Python peer's requests/s at 16 clients with no worse p99.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_POINT=${1:-10}
CLIENTS=${2:-"1 4 16 64"}
SIZE=${3:-224}
ROOST=${ROOST:-build/roost}
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/roost-serve-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
RESIZE=$(( (SIZE * 256 + 112) / 224 ))

# The same random ResNet-18 (2 classes) for both servers, and one 500x375 JPEG photo-sized image.
"$PY" - "$WORK" <<'PY'
import sys, numpy as np, torch, torchvision
from PIL import Image
work = sys.argv[1]
torch.manual_seed(0)
torch.save(torchvision.models.resnet18(num_classes=2).state_dict(), f"{work}/model.pth")
rng = np.random.default_rng(0)
img = (rng.random((375, 500, 3)) * 64 + np.linspace(0, 180, 500)[None, :, None]).astype(np.uint8)
Image.fromarray(img).save(f"{work}/image.jpg", quality=90)
PY
"$PY" tools/roost_weights.py to-h5 "$WORK/model.pth" "$WORK/model.h5" --arch resnet18 --classes a,b \
  --image-size "$SIZE" --resize-short "$RESIZE" > /dev/null

wait_port() {  # log
  for _ in $(seq 600); do
    grep -q "listening" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start: $(cat "$1")" >&2; exit 1
}
run_points() {  # label port
  for c in $CLIENTS; do
    timeout $((SECONDS_PER_POINT * 6 + 60)) "$PY" benchmarks/serve_load.py "$2" "$WORK/image.jpg" "$c" "$SECONDS_PER_POINT" |
      "$PY" -c "import json,sys; r=json.load(sys.stdin); print('$1', r['clients'], round(r['rps'],1), round(r['p50_ms'],1), round(r['p99_ms'],1), r['errors'])"
  done
}

results=$WORK/results.txt
for mode in batched batch1; do
  port=$((18400 + RANDOM % 1000))
  batch=16; [ $mode = batch1 ] && batch=1
  "$ROOST" serve --model "model=$WORK/model.h5" --port "$port" --max-batch "$batch" --max-delay-ms 5 \
    --max-queue 1024 > "$WORK/$mode.log" 2>&1 &
  PIDS+=($!)
  wait_port "$WORK/$mode.log"
  run_points "roost-$mode" "$port" >> "$results"
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
done
port=$((19400 + RANDOM % 1000))
"$PY" benchmarks/serve_peer.py "$WORK/model.pth" resnet18 a,b "$SIZE" "$RESIZE" "$port" > "$WORK/peer.log" 2>&1 &
PIDS+=($!)
wait_port "$WORK/peer.log"
run_points "python-peer" "$port" >> "$results"

echo "serve_bench: ResNet-18 at $SIZE px, one JPEG of 500x375, ${SECONDS_PER_POINT} s per point, $(nproc) core(s): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '%-20s %8s %10s %9s %9s %7s\n' server clients requests/s p50_ms p99_ms errors
awk '{printf "%-20s %8s %10s %9s %9s %7s\n", $1, $2, $3, $4, $5, $6}' "$results"
"$PY" - "$results" <<'PY'
import sys
rows = {(r[0], int(r[1])): (float(r[2]), float(r[4])) for r in (l.split() for l in open(sys.argv[1]))}
c = 16 if ("roost-batched", 16) in rows else max(k[1] for k in rows)
b, one, peer = rows[("roost-batched", c)], rows[("roost-batch1", c)], rows[("python-peer", c)]
print(f"at {c} clients: batching {b[0] / one[0]:.2f}x batch-1 requests/s (target 1.5x): "
      f"{'PASS' if b[0] >= 1.5 * one[0] else 'MISS'}")
print(f"at {c} clients: roost {b[0] / peer[0]:.2f}x the Python peer's requests/s (target 2x), p99 {b[1]:.0f} vs "
      f"{peer[1]:.0f} ms: {'PASS' if b[0] >= 2 * peer[0] and b[1] <= peer[1] else 'MISS'}")
PY
