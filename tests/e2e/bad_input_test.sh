#!/usr/bin/env bash
# bad_input_test.sh — every bad value gets exit code 2 and one line on stderr naming the
# problem, and nothing already in the output dir is lost.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 2 2 16
mkdir -p "$WORK/empty" "$WORK/noclasses/train" "$WORK/noclasses/val" "$WORK/mismatch"
cp -r "$WORK/data/train" "$WORK/mismatch/train" && cp -r "$WORK/data/val" "$WORK/mismatch/val"
mv "$WORK/mismatch/val/$(ls "$WORK/mismatch/val" | head -1)" "$WORK/mismatch/val/other-class"
mkdir -p "$WORK/emptyclass" && cp -r "$WORK/data/train" "$WORK/data/val" "$WORK/emptyclass/"
rm -f "$WORK/emptyclass/train/$(ls "$WORK/emptyclass/train" | head -1)"/*
touch "$WORK/afile"
OK="--data-dir $WORK/data --output-dir $WORK/out"
mkdir -p "$WORK/out" && echo '{"epoch": 1}' > "$WORK/out/metrics.jsonl"

cases=0
expect() {  # expected-substring, then the roost arguments
  local want=$1; shift
  local rc=0
  "$ROOST" "$@" > "$WORK/o" 2> "$WORK/e" || rc=$?
  [ "$rc" -eq 2 ] || fail "roost $* exited $rc, expected 2 (stderr: $(cat "$WORK/e"))"
  [ "$(wc -l < "$WORK/e")" -eq 1 ] || fail "roost $*: expected one stderr line, got: $(cat "$WORK/e")"
  grep -q -- "$want" "$WORK/e" || fail "roost $*: stderr lacks '$want': $(cat "$WORK/e")"
  cases=$((cases + 1))
}

expect "bogus" train $OK --bogus
expect "unknown command" frobnicate
expect "epochs expects an integer" train $OK --epochs abc
expect "epochs must be at least 1" train $OK --epochs=-3
expect "batch-size expects an integer" train $OK --batch-size 4x
expect "batch-size must be at least 1" train $OK --batch-size 0
expect "lr must be positive" train $OK --lr=-0.01
expect "lr expects a number" train $OK --lr fast
expect "data-dir is required" train --output-dir "$WORK/out"
expect "does not exist" train --data-dir "$WORK/nowhere" --output-dir "$WORK/out"
expect "has no train/ folder" train --data-dir "$WORK/empty" --output-dir "$WORK/out"
expect "no class folders" train --data-dir "$WORK/noclasses" --output-dir "$WORK/out"
expect "class mismatch" train --data-dir "$WORK/mismatch" --output-dir "$WORK/out"
expect "has no .jpg" train --data-dir "$WORK/emptyclass" --output-dir "$WORK/out"
expect "cannot be created" train --data-dir "$WORK/data" --output-dir "$WORK/afile/out"
expect "unknown architecture" train $OK --arch resnet7
expect "preprocess must be" train $OK --preprocess tpu
expect "unexpected argument" train $OK stray
expect "pretrained .* is not a file" train $OK --pretrained "$WORK/nowhere.pth"
expect "out is required" data fashion-mnist
expect "at least 2" data fashion-mnist --out "$WORK/x" --classes 3

grep -q '"epoch": 1' "$WORK/out/metrics.jsonl" || fail "existing output was touched"
"$ROOST" --help | grep -q "train" || fail "roost --help lacks train"
"$ROOST" train --help | grep -q -- "--batch-size" || fail "roost train --help lacks --batch-size"
echo "ok: $cases bad-input cases exit 2 with one clear line"
