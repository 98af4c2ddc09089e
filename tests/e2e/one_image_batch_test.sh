#!/usr/bin/env bash
# one_image_batch_test.sh — a shard whose last training batch holds one image, at 32 px where
# the last stage's maps are 1x1 (BatchNorm would see one value per channel and turn its
# running statistics into NaN): the batch is skipped with a warning and the model stays
# finite, on one rank and on two. With --sync-bn over two ranks the statistics count both
# ranks' values, so the batch trains (and the job must not hang on BatchNorm's collectives).
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 4 2 32
cp "$(ls "$WORK"/data/train/*/* | head -1)" "$WORK/extra.png"
mv "$WORK/extra.png" "$(dirname "$(ls "$WORK"/data/train/*/* | head -1)")/extra.png"  # 9 images
for run in 1 2 2-sync; do
  # np 1: batches of 2 leave one image; np 2: 5 images per rank (padded), batches 2, 2, 1.
  np=${run%-sync} out=$WORK/out$run extra=()
  [ "$run" = 2-sync ] && extra=(--sync-bn)
  timeout 300 "$MPIRUN" -np $np "$ROOST" train --data-dir "$WORK/data" --output-dir "$out" --epochs 1 \
    --batch-size 2 --image-size 32 --resize-short 36 --workers 1 --threads 1 --progress none "${extra[@]}" \
    > "$out.log" 2>&1 || { cat "$out.log"; fail "$run run"; }
  if [ "$run" = 2-sync ]; then
    grep -q "is skipped" "$out.log" && fail "$run: skipped a batch that synchronized BatchNorm can take"
  else
    grep -q "a training batch of one image at --image-size 32 is skipped" "$out.log" || fail "np $np: no warning"
  fi
  grep -q "nan" "$out/metrics.jsonl" && fail "$run: NaN metrics: $(cat "$out/metrics.jsonl")"
  "$PYTHON" - "$out/model.h5" <<'PY' || fail "$run: model not finite"
import sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
bad = [k for k in f.keys() if np.issubdtype(f[k].dtype, np.floating) and not np.isfinite(f[k][()]).all()]
assert not bad, f"non-finite tensors: {bad[:5]}"
PY
done
echo "ok: a one-image training batch at 32 px is skipped and the model stays finite"
