#!/usr/bin/env bash
# finetune_vs_scratch.sh — does fine-tuning a pretrained backbone beat training from scratch
# on the embedded default task (Fashion-MNIST pullover vs coat, 120 train / 100 val per class)?
# The backbone is pretrained by roost itself on the other eight Fashion-MNIST classes, then
# both runs train the same epochs with the same recipe; the table compares val accuracy per
# epoch and each run's training_curves.png shows its curves. At 32 px the reference
# RandomResizedCrop (area 8%-100%) leaves crops of a few pixels, so every run here keeps at
# least half the image (--crop-scale-min 0.5, CROP_MIN to change it).
#
#   benchmarks/finetune_vs_scratch.sh [OUT_DIR] [EPOCHS]      (ROOST=build/roost, NP=2)
set -euo pipefail
ROOST=${ROOST:-build/roost}
NP=${NP:-2}
OUT=${1:-outputs/finetune_vs_scratch}
EPOCHS=${2:-10}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
PRE_PER_CLASS=${PRE_PER_CLASS:-1000}
SIZE=(--image-size 32 --resize-short 32 --crop-scale-min "${CROP_MIN:-0.5}")
[ -d "$OUT/eight" ] || "$ROOST" data fashion-mnist --out "$OUT/eight" --classes 0,1,3,5,6,7,8,9 \
  --train-per-class "$PRE_PER_CLASS" --val-per-class 100 --size 32 > /dev/null
[ -d "$OUT/two" ] || "$ROOST" data fashion-mnist --out "$OUT/two" --size 32 > /dev/null
train() { mpirun -np "$NP" "$ROOST" train --progress lines --log-every 1000 --threads 1 --workers 1 "${SIZE[@]}" "$@"; }

t0=$(date +%s)
train --data-dir "$OUT/eight" --output-dir "$OUT/pretrain" --epochs 8 --batch-size 32 --lr 0.02 --lr-step 6 \
  --resume auto > "$OUT/pretrain.log" 2>&1
t1=$(date +%s)
train --data-dir "$OUT/two" --output-dir "$OUT/finetune" --epochs "$EPOCHS" --pretrained "$OUT/pretrain/model.h5" \
  > "$OUT/finetune.log" 2>&1
t2=$(date +%s)
train --data-dir "$OUT/two" --output-dir "$OUT/scratch" --epochs "$EPOCHS" > "$OUT/scratch.log" 2>&1
t3=$(date +%s)

/usr/bin/python3 - "$OUT" $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) <<'PY'
import json, sys
out, pre_s, ft_s, sc_s = sys.argv[1], *map(int, sys.argv[2:])
rows = lambda run: [json.loads(l) for l in open(f"{out}/{run}/metrics.jsonl")]
pre, ft, sc = rows("pretrain"), rows("finetune"), rows("scratch")
print(f"pretraining on the other eight classes: {len(pre)} epochs, best val acc {max(r['val_acc'] for r in pre):.3f} ({pre_s} s)")
print("epoch | fine-tuned val acc | from scratch val acc")
for a, b in zip(ft, sc):
    print(f"{a['epoch']:5d} | {a['val_acc']:18.3f} | {b['val_acc']:20.3f}")
best_ft, best_sc = max(r["val_acc"] for r in ft), max(r["val_acc"] for r in sc)
print(f"best: fine-tuned {best_ft:.3f} ({ft_s} s), from scratch {best_sc:.3f} ({sc_s} s)")
json.dump({"finetune": ft, "scratch": sc, "pretrain": pre}, open(f"{out}/comparison.json", "w"), indent=1)
PY
