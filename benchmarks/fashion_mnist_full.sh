#!/usr/bin/env bash
# fashion_mnist_full.sh — ResNet-18 trained from scratch on all of Fashion-MNIST (60k train
# images, the 10k test images as the validation split, 10 classes) with np ranks; prints the
# test accuracy of every epoch, the final and the best one, and the minutes the training took.
# The images are written by `roost data fashion-mnist` at SIZE px and packed into one HDF5
# file, so the run measures training, not reading 70k small files.
#
#   benchmarks/fashion_mnist_full.sh [OUT_DIR] [EXTRA roost train OPTIONS...]
#
# Environment: ROOST (default build/roost), NP (2), SIZE (32: the training resolution),
# DATA_SIZE (SIZE: the side the images are written at; 28 keeps the originals and lets the
# training crop resize them to SIZE), EPOCHS (9), BATCH (64 per rank), LR (0.1), LR_STEP (3),
# LR_GAMMA (0.2), SOURCE_DIR (the *-ubyte.gz files; default Debian's dataset-fashion-mnist),
# MPIRUN (mpirun), PYTHON (/usr/bin/python3, for the report only). The recipe: SGD with Nesterov momentum 0.9, weight
# decay 5e-4, one warm-up epoch, label smoothing 0.1, RandomResizedCrop keeping at least 70%
# of the image plus flips; validation takes the whole image (--resize-short SIZE).
# Extra options go last, so they override these (e.g. --threads 4, or --resume auto to go on
# after an interruption).
set -euo pipefail
ROOST=${ROOST:-build/roost}
NP=${NP:-2}
SIZE=${SIZE:-32}
DATA_SIZE=${DATA_SIZE:-$SIZE}
SOURCE=()
[ -n "${SOURCE_DIR:-}" ] && SOURCE=(--source-dir "$SOURCE_DIR")
OUT=${1:-outputs/fashion_mnist_full}
shift $(($# > 0 ? 1 : 0))
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
if [ ! -f "$OUT/fmnist.h5" ]; then
  "$ROOST" data fashion-mnist --out "$OUT/images" --classes 0,1,2,3,4,5,6,7,8,9 \
    --train-per-class 6000 --val-per-class 1000 --size "$DATA_SIZE" "${SOURCE[@]}" > /dev/null
  "$ROOST" pack --data-dir "$OUT/images" --out "$OUT/fmnist.h5" > /dev/null
  rm -rf "$OUT/images"
fi

t0=$(date +%s)
${MPIRUN:-mpirun} -np "$NP" "$ROOST" train --data-dir "$OUT/fmnist.h5" --output-dir "$OUT/run" \
  --image-size "$SIZE" --resize-short "$SIZE" --crop-scale-min 0.7 \
  --batch-size "${BATCH:-64}" --lr "${LR:-0.1}" --momentum 0.9 --nesterov --weight-decay 5e-4 \
  --warmup-epochs 1 --epochs "${EPOCHS:-9}" --lr-step "${LR_STEP:-3}" --lr-gamma "${LR_GAMMA:-0.2}" \
  --label-smoothing 0.1 --workers 1 --progress lines --log-every 100 "$@" > "$OUT/train.log" 2>&1 ||
  { tail -5 "$OUT/train.log" >&2; exit 1; }
t1=$(date +%s)

${PYTHON:-/usr/bin/python3} - "$OUT/run/metrics.jsonl" $((t1 - t0)) "$NP" "$SIZE" <<'PY'
import json, sys
path, seconds, np, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [json.loads(l) for l in open(path)]
print(f"Fashion-MNIST 60k/10k, ResNet-18 from scratch, np={np}, {size} px")
print("epoch | lr      | train acc | test acc | img/s")
for r in rows:
    print(f"{r['epoch']:5d} | {r['lr']:.5f} | {r['train_acc']:9.4f} | {r['val_acc']:8.4f} | {r['images_per_sec']:.1f}")
best = max(rows, key=lambda r: r["val_acc"])
print(f"final test acc {rows[-1]['val_acc']:.4f}, best {best['val_acc']:.4f} (epoch {best['epoch']}), "
      f"{seconds / 60:.1f} minutes of training")
PY
