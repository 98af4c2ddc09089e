#!/usr/bin/env bash
# train_matrix.sh — synthetic training throughput on one GPU, roost against Python torch, in
# one invocation: ResNet-18 and ResNet-50, batch 64/128/256, bf16 and fp16 autocast,
# channels-last; roost's eager step and its CUDA-graph step (train_bench --cuda-graphs both,
# one process per row), the Python peer eager and, where its torch has it, torch.compile.
# Prints a Markdown table with the GPU's name and writes the rows as JSON lines.
#
#   benchmarks/train_matrix.sh BUILD_DIR [OUT_DIR]
#
# Environment: ARCHS, BATCHES, AMPS (space-separated lists; defaults as above), STEPS (20),
# WARMUP (8), PYTHON (python3), COMPILE_ROWS ("resnet50:128:bf16 resnet50:256:bf16": the rows
# the peer also runs torch.compile for; "" for none — each compile takes about a minute).
# fp16 runs without loss scaling in train_bench and with GradScaler in the peer.
set -uo pipefail
BUILD=${1:?usage: train_matrix.sh BUILD_DIR [OUT_DIR]}
OUT=${2:-/tmp/roost-train-matrix}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
ARCHS=${ARCHS:-resnet18 resnet50}
BATCHES=${BATCHES:-64 128 256}
AMPS=${AMPS:-bf16 fp16}
STEPS=${STEPS:-20}
WARMUP=${WARMUP:-8}
COMPILE_ROWS=${COMPILE_ROWS-resnet50:128:bf16 resnet50:256:bf16}
mkdir -p "$OUT"
ROWS=$OUT/rows.jsonl
: > "$ROWS"
num() { awk -v v="$1" 'BEGIN { if (v == "" || v == "failed") print "failed"; else if (v == "-") print "-"; else printf "%.0f", v }'; }
field() { sed -n "s/.*\"$1\": \"\{0,1\}\([^,\"}]*\).*/\1/p" <<< "$2" | head -1; }
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
TORCH=$($PY -c 'import torch; print(torch.__version__)' 2>/dev/null)
echo "| GPU: ${GPU:-unknown} | roost eager | roost CUDA graphs | torch $TORCH eager | torch.compile | graphs / torch eager |"
echo "|---|---|---|---|---|---|"
for arch in $ARCHS; do
  for amp in $AMPS; do
    for batch in $BATCHES; do
      common=(--arch "$arch" --batch-size "$batch" --amp "$amp" --channels-last --steps "$STEPS" --warmup "$WARMUP")
      r=$("$BUILD/benchmarks/train_bench" "${common[@]}" --mode synthetic --cuda-graphs both --json 2> "$OUT/err.log" | tail -1)
      eager=$(field synthetic_img_s "$r")
      graphs=$(field synthetic_graphs_img_s "$r")
      p=$($PY "$ROOT/benchmarks/train_peer.py" "${common[@]}" --json 2>> "$OUT/err.log" | tail -1)
      peer=$(field img_s "$p")
      compiled="-"
      if [[ " $COMPILE_ROWS " == *" $arch:$batch:$amp "* ]]; then
        c=$($PY "$ROOT/benchmarks/train_peer.py" "${common[@]}" --compile --json 2>> "$OUT/err.log" | tail -1)
        compiled=$(field img_s "$c")
        compiled=${compiled:-failed}
      fi
      ratio=$(awk -v g="${graphs:-0}" -v p="${peer:-0}" 'BEGIN { if (p > 0 && g > 0) printf "%.2fx", g / p; else print "-" }')
      printf '{"arch": "%s", "batch": %s, "amp": "%s", "roost_eager": %s, "roost_graphs": %s, "torch_eager": %s, "torch_compile": "%s"}\n' \
        "$arch" "$batch" "$amp" "${eager:-0}" "${graphs:-0}" "${peer:-0}" "$compiled" >> "$ROWS"
      echo "| $arch b$batch $amp | $(num "$eager") | $(num "$graphs") | $(num "$peer") | $(num "$compiled") | $ratio |"
    done
  done
done
