#!/usr/bin/env bash
# unreadable_test.sh — image files that cannot be decoded (real files, 2 real MPI ranks):
#  1. a few among readable ones: each is named in a warning and counted in the metrics, and
#     training goes on;
#  2. every training (or validation) image of an epoch unreadable: a one-line error naming
#     the split and exit 2 on every rank, no metrics record of zeros, summary.json says why;
#  3. that happening in a later epoch (files gone bad on a resumed run): the earlier epochs'
#     metrics, model and checkpoint stay;
#  4. every file of one class unreadable (the others fine): exit 2 naming the class, where a
#     run once trained a one-class problem and reported it as a result; per-class counts in
#     the log and summary.json;
#  5. with --sync-bn on two ranks, a step whose whole batch is unreadable on one rank.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 4 2 32
COMMON=(--batch-size 2 --image-size 32 --resize-short 36 --workers 1 --threads 1 --progress none)
spoil() {  # files: overwritten with bytes that are no image
  for f in "$@"; do echo "not an image" > "$f"; done
}
train() {  # np data out epochs [more options]: the job's exit status
  local np=$1 data=$2 out=$3 epochs=$4; shift 4
  local rc=0
  timeout 300 "$MPIRUN" -np "$np" "$ROOST" train --data-dir "$data" --output-dir "$out" --epochs "$epochs" \
    "${COMMON[@]}" "$@" > "$out.log" 2>&1 || rc=$?
  [ "$rc" -ne 124 ] || fail "the job hung: $(tail -5 "$out.log")"
  return "$rc"
}
records() { if [ -f "$1/metrics.jsonl" ]; then wc -l < "$1/metrics.jsonl"; else echo 0; fi; }
status() { "$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" "$1/summary.json"; }

# 1. Two unreadable training images among eight.
cp -r "$WORK/data" "$WORK/some"
spoiled=()
for class in "$WORK"/some/train/*; do spoiled+=("$(ls "$class"/* | head -1)"); done
spoil "${spoiled[@]}"
train 2 "$WORK/some" "$WORK/some-out" 1 || fail "a run with two unreadable images failed: $(tail -5 "$WORK/some-out.log")"
for f in "${spoiled[@]}"; do
  grep -q "skipping unreadable image $f" "$WORK/some-out.log" || fail "no warning names $f"
done
grep -q '"skipped_images": 2' "$WORK/some-out/metrics.jsonl" || fail "metrics lack 2 skipped images: $(cat "$WORK/some-out/metrics.jsonl")"
grep -q "images read per class this epoch: coat 3/4 train, 2/2 val; pullover 3/4 train, 2/2 val" "$WORK/some-out.log" ||
  fail "no per-class counts in the log: $(grep "per class" "$WORK/some-out.log")"
"$PYTHON" -c "
import json, sys
c = json.load(open(sys.argv[1]))['images_read_per_class']
assert c == {'coat': {'train_read': 3, 'train_images': 4, 'val_read': 2, 'val_images': 2},
             'pullover': {'train_read': 3, 'train_images': 4, 'val_read': 2, 'val_images': 2}}, c
" "$WORK/some-out/summary.json" || fail "summary.json per-class counts"

# 2. Every training image unreadable; then every validation image.
cp -r "$WORK/data" "$WORK/notrain"
spoil "$WORK"/notrain/train/*/*
rc=0; train 2 "$WORK/notrain" "$WORK/notrain-out" 1 || rc=$?
[ "$rc" -eq 2 ] || fail "all training images unreadable: exit $rc, expected 2: $(tail -5 "$WORK/notrain-out.log")"
grep -q "error: epoch 1: none of the training images could be read (8 skipped as unreadable this epoch)" \
  "$WORK/notrain-out.log" || fail "no clear error: $(tail -5 "$WORK/notrain-out.log")"
[ "$(records "$WORK/notrain-out")" -eq 0 ] || fail "an epoch of zeros was recorded"
[ "$(status "$WORK/notrain-out")" = "failed: no readable training images" ] || fail "summary: $(status "$WORK/notrain-out")"

cp -r "$WORK/data" "$WORK/noval"
spoil "$WORK"/noval/val/*/*
rc=0; train 1 "$WORK/noval" "$WORK/noval-out" 1 || rc=$?
[ "$rc" -eq 2 ] || fail "all validation images unreadable: exit $rc, expected 2"
[ "$(grep -c "error:" "$WORK/noval-out.log")" -eq 1 ] || fail "expected one error line: $(grep error: "$WORK/noval-out.log")"
grep -q "error: epoch 1: none of the validation images could be read (4 skipped" "$WORK/noval-out.log" ||
  fail "no clear error: $(tail -5 "$WORK/noval-out.log")"
[ "$(records "$WORK/noval-out")" -eq 0 ] || fail "an epoch of zeros was recorded"

# 3. Epoch 1 trains; the files go bad; the resumed epoch 2 fails and epoch 1's outputs stay.
cp -r "$WORK/data" "$WORK/later"
train 2 "$WORK/later" "$WORK/later-out" 1 --checkpoint-every 1 || fail "epoch 1: $(tail -5 "$WORK/later-out.log")"
cp "$WORK/later-out/model.h5" "$WORK/model-epoch1.h5"
checkpoints=$(ls "$WORK/later-out/checkpoints")
spoil "$WORK"/later/train/*/*
rc=0; train 2 "$WORK/later" "$WORK/later-out" 2 --checkpoint-every 1 --resume auto || rc=$?
[ "$rc" -eq 2 ] || fail "epoch 2 unreadable: exit $rc, expected 2: $(tail -5 "$WORK/later-out.log")"
grep -q "error: epoch 2: none of the training images could be read" "$WORK/later-out.log" || fail "no clear error"
[ "$(records "$WORK/later-out")" -eq 1 ] || fail "epoch 1's record changed: $(cat "$WORK/later-out/metrics.jsonl")"
grep -q '"epoch": 1' "$WORK/later-out/metrics.jsonl" || fail "epoch 1's record is gone"
cmp -s "$WORK/model-epoch1.h5" "$WORK/later-out/model.h5" || fail "model.h5 changed"
[ "$(ls "$WORK/later-out/checkpoints")" = "$checkpoints" ] || fail "checkpoints changed: $(ls "$WORK/later-out/checkpoints")"

# 4. One class unreadable in training, then in validation.
cp -r "$WORK/data" "$WORK/noclass"
spoil "$WORK"/noclass/train/coat/*
rc=0; train 2 "$WORK/noclass" "$WORK/noclass-out" 1 || rc=$?
[ "$rc" -eq 2 ] || fail "a class with no readable training image: exit $rc, expected 2: $(tail -5 "$WORK/noclass-out.log")"
[ "$(grep -c "error:" "$WORK/noclass-out.log")" -eq 1 ] &&
  grep -q "error: epoch 1: none of the 4 training images of class 'coat' could be read" "$WORK/noclass-out.log" ||
  fail "no one-line error naming the class: $(grep error: "$WORK/noclass-out.log")"
[ "$(records "$WORK/noclass-out")" -eq 0 ] || fail "an epoch without a class was recorded as a result"
cp -r "$WORK/data" "$WORK/novalclass"
spoil "$WORK"/novalclass/val/pullover/*
rc=0; train 2 "$WORK/novalclass" "$WORK/novalclass-out" 1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "none of the 2 validation images of class 'pullover' could be read" "$WORK/novalclass-out.log" ||
  fail "a class with no readable validation image: exit $rc: $(grep error: "$WORK/novalclass-out.log")"

# 5. Synchronized BatchNorm over two ranks, one image per rank and step, one of them
# unreadable: that rank's batch is empty for a step, yet the other rank's BatchNorm
# collectives need it; the run must train on (it once could hang there).
cp -r "$WORK/data" "$WORK/syncbn"
spoil "$(ls "$WORK"/syncbn/train/coat/* | head -1)"
rc=0
timeout 120 "$MPIRUN" -np 2 "$ROOST" train --data-dir "$WORK/syncbn" --output-dir "$WORK/syncbn-out" --epochs 1 \
  --sync-bn --batch-size 1 --image-size 48 --workers 1 --threads 1 --progress none > "$WORK/syncbn-out.log" 2>&1 || rc=$?
[ "$rc" -ne 124 ] || fail "--sync-bn with an empty batch on one rank hung: $(tail -5 "$WORK/syncbn-out.log")"
[ "$rc" -eq 0 ] || fail "--sync-bn with an empty batch on one rank: exit $rc: $(tail -5 "$WORK/syncbn-out.log")"
grep -q '"skipped_images": 1' "$WORK/syncbn-out/metrics.jsonl" || fail "the unreadable image was not counted"
"$PYTHON" -c "
import json, math, sys
r = json.loads(open(sys.argv[1]).readline())
assert all(math.isfinite(r[k]) for k in ('train_loss', 'val_loss')), r
" "$WORK/syncbn-out/metrics.jsonl" || fail "non-finite metrics after an empty synchronized batch"
echo "ok: unreadable images are named and counted; a pass or a class with none readable is a clear error, earlier outputs kept; an empty batch under --sync-bn trains on"
