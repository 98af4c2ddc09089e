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
ln -s "$WORK/loop" "$WORK/loop"
expect "data dir .*loop: Too many levels of symbolic links" train --data-dir "$WORK/loop" --output-dir "$WORK/out"
expect "has no train/ folder" train --data-dir "$WORK/empty" --output-dir "$WORK/out"
expect "no class folders" train --data-dir "$WORK/noclasses" --output-dir "$WORK/out"
expect "class mismatch" train --data-dir "$WORK/mismatch" --output-dir "$WORK/out"
expect "has no .jpg" train --data-dir "$WORK/emptyclass" --output-dir "$WORK/out"
expect "cannot be created" train --data-dir "$WORK/data" --output-dir "$WORK/afile/out"
expect "unknown architecture" train $OK --arch resnet7
expect "preprocess must be" train $OK --preprocess tpu
expect "unexpected argument" train $OK stray
expect "pretrained .* is not a file" train $OK --pretrained "$WORK/nowhere.pth"
head -c 3000 /dev/urandom > "$WORK/cut.pth"
expect "pretrained: .*cut.pth is not a zip-format torch.save file" train $OK --pretrained "$WORK/cut.pth"
expect "timeline /proc/x: cannot write into /proc" train $OK --timeline /proc/x
expect "workers must be auto or in \[0, 256\] (got 100000)" train $OK --workers 100000
expect "threads must be in \[0, 1024\] (got 100000)" train $OK --threads 100000
expect "give one of them" train $OK --resume auto --overwrite
expect "roost launch runs .roost train." launch -np 2 -- predict x
expect "no command" launch -np 2
WORLD_SIZE=2 RANK=0 expect "WORLD_SIZE=2 is set (torchrun's way" train $OK
expect "out is required" data fashion-mnist
expect "at least 2" data fashion-mnist --out "$WORK/x" --classes 3
expect "image size must be in 8..4096, got 100000" data fashion-mnist --out "$WORK/x" --size 100000

grep -q '"epoch": 1' "$WORK/out/metrics.jsonl" || fail "existing output was touched"
# A start refused before MPI leaves its reason in an existing rank-0 log (a rerun's).
mkdir -p "$WORK/out/logs" && : >> "$WORK/out/logs/rank-0.log"
"$ROOST" train $OK --epochs=-3 2> /dev/null || true
grep -q "error --epochs must be at least 1" "$WORK/out/logs/rank-0.log" || fail "the refusal is not in rank 0's log"
# Under mpirun, an error every rank finds is printed once (by rank 0), not once per rank.
rc=0
"$MPIRUN" -np 2 "$ROOST" train $OK --epochs 1 > "$WORK/o" 2> "$WORK/e" || rc=$?
[ "$rc" = 2 ] || fail "a used output dir under mpirun exited $rc, want 2"
[ "$(cat "$WORK/o" "$WORK/e" | grep -c "roost train: error:")" = 1 ] ||
  fail "the error is not printed exactly once: $(grep error: "$WORK/o" "$WORK/e")"
grep -q "error .*holds the outputs of an earlier run" "$WORK/out/logs/rank-0.log" || fail "the error is not in rank 0's log"
grep -q '"epoch": 1' "$WORK/out/metrics.jsonl" || fail "existing output was touched"
output_has "train" -- "$ROOST" --help || fail "roost --help lacks train"
output_has -e "--batch-size" -- "$ROOST" train --help || fail "roost train --help lacks --batch-size"
echo "ok: $cases bad-input cases exit 2 with one clear line"
