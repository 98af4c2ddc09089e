#!/usr/bin/env bash
# predict_test.sh — `roost predict` end to end, without mpirun: train one epoch on a tiny
# Fashion-MNIST tree, then classify validation images. Checks: one line per image (K with
# --top-k) with the image, a class name and a probability in (0, 1]; --json gives the same
# answers; model.h5 records the validation transform and predict uses it; the labels and
# probabilities are those torchvision computes from the same weights (converted with
# tools/roost_weights.py) and PIL's Resize/CenterCrop, when h5py and torchvision are there;
# every bad input exits 2 with one line.
source "$(dirname "$0")/common.sh"
TOOLS="$(cd "$(dirname "$0")/../../tools" && pwd)"

make_tiny_dataset "$WORK/data" 8 5 32
"$MPIRUN" -np 1 "$ROOST" train --data-dir "$WORK/data" --output-dir "$WORK/out" --epochs 1 \
  --batch-size 4 --image-size 32 --resize-short 36 --workers 1 --threads 1 \
  > "$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; fail "training exited $?"; }
MODEL="$WORK/out/model.h5"
[ -s "$MODEL" ] || fail "training wrote no model.h5"
mapfile -t CLASSES < <(ls "$WORK/data/train")
mapfile -t IMAGES < <(find "$WORK/data/val" -type f | sort)
N=${#IMAGES[@]}
[ "$N" -eq 10 ] || fail "expected 10 val images, found $N"

# Plain output: run in a clean environment, no MPI variables, no mpirun.
env -i PATH="$PATH" HOME="${HOME:-/tmp}" "$ROOST" predict --model "$MODEL" "${IMAGES[@]}" \
  > "$WORK/plain" 2> "$WORK/plain.err" || fail "predict exited $?: $(cat "$WORK/plain.err")"
[ "$(wc -l < "$WORK/plain")" -eq "$N" ] || fail "expected $N lines: $(cat "$WORK/plain")"
"$ROOST" predict --model "$MODEL" --json "${IMAGES[@]}" > "$WORK/json" || fail "predict --json exited $?"
"$ROOST" predict --model "$MODEL" --top-k 2 "${IMAGES[@]}" > "$WORK/top2" || fail "predict --top-k 2 exited $?"
# Explicit sizes override the file's (a 28-pixel crop of a 30-pixel resize still classifies).
"$ROOST" predict --model "$MODEL" --image-size 28 --resize-short 30 "${IMAGES[@]}" > "$WORK/small" \
  || fail "predict with explicit sizes exited $?"
[ "$(wc -l < "$WORK/small")" -eq "$N" ] || fail "explicit sizes: expected $N lines"

"$PYTHON" - "$WORK" "${CLASSES[*]}" "${IMAGES[@]}" <<'PY'
import json, sys
work, classes, images = sys.argv[1], sys.argv[2].split(" "), sys.argv[3:]
plain = [l.rstrip("\n").split("\t") for l in open(f"{work}/plain")]
for (path, label, prob), image in zip(plain, images):
    assert path == image, (path, image)
    assert label in classes, (label, classes)
    assert len(prob.split(".")[1]) == 4, prob
    assert 0 < float(prob) <= 1, prob
js = [json.loads(l) for l in open(f"{work}/json")]
assert [set(j) for j in js] == [{"image", "label", "probability"}] * len(images), js[0]
for j, (path, label, prob) in zip(js, plain):
    assert (j["image"], j["label"]) == (path, label), (j, path, label)
    assert abs(j["probability"] - float(prob)) <= 5e-5, (j, prob)
top2 = [l.rstrip("\n").split("\t") for l in open(f"{work}/top2")]
assert len(top2) == 2 * len(images), len(top2)
for i, image in enumerate(images):
    a, b = top2[2 * i], top2[2 * i + 1]
    assert a == plain[i], (a, plain[i])           # the first guess is the top-1 answer
    assert b[0] == image and b[1] != a[1] and b[1] in classes, (a, b)
    assert float(a[2]) >= float(b[2]) and abs(float(a[2]) + float(b[2]) - 1) <= 2e-4, (a, b)
print(f"ok: {len(images)} images, plain, --json and --top-k 2 agree")
PY

# The same answers from torchvision: model.h5 → .pth with the converter, PIL preprocessing
# with the sizes model.h5 records (which must be the training run's 36 / 32).
if "$PYTHON" -c 'import h5py, torch, torchvision, PIL' 2>/dev/null; then
  "$PYTHON" "$TOOLS/roost_weights.py" to-pth "$MODEL" "$WORK/model.pth" > /dev/null || fail "to-pth failed"
  "$PYTHON" - "$MODEL" "$WORK/model.pth" "$WORK/plain" <<'PY'
import sys
import h5py, torch, torchvision
from PIL import Image
from torchvision import transforms as T
model_h5, pth, plain = sys.argv[1:]
f = h5py.File(model_h5, "r")
size, short = int(f.attrs["image_size"]), int(f.attrs["resize_short"])
assert (size, short) == (32, 36), (size, short)
classes = [c.decode() if isinstance(c, bytes) else c for c in f.attrs["class_names"]]
net = torchvision.models.resnet18(num_classes=len(classes))
net.load_state_dict(torch.load(pth), strict=True)
net.eval()
tf = T.Compose([T.Resize(short), T.CenterCrop(size), T.ToTensor(),
                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
for path, label, prob in (l.rstrip("\n").split("\t") for l in open(plain)):
    with torch.no_grad():
        p = torch.softmax(net(tf(Image.open(path).convert("RGB")).unsqueeze(0)), 1)[0]
    k = int(p.argmax())
    assert classes[k] == label, (path, classes[k], label, p.tolist())
    assert abs(float(p[k]) - float(prob)) <= 1e-3, (path, float(p[k]), prob)
print("ok: labels and probabilities match torchvision + PIL on the converted weights")
PY
else
  echo "note: h5py, torchvision or PIL absent: parity with torchvision not checked"
fi

# Bad input: exit 2, one line "roost predict: error: ...".
echo "not an image" > "$WORK/bad.jpg"
echo "not a model" > "$WORK/text.h5"
head -c 4096 "$MODEL" > "$WORK/cut.h5"
"$ROOST" pack --data-dir "$WORK/data" --out "$WORK/pack.h5" > /dev/null 2>&1 || fail "pack failed"
cases=0
expect() {  # expected-substring, then the roost predict arguments
  local want=$1; shift
  local rc=0
  "$ROOST" predict "$@" > "$WORK/o" 2> "$WORK/e" || rc=$?
  [ "$rc" -eq 2 ] || fail "roost predict $* exited $rc, expected 2 (stderr: $(cat "$WORK/e"))"
  [ "$(wc -l < "$WORK/e")" -eq 1 ] || fail "roost predict $*: expected one stderr line, got: $(cat "$WORK/e")"
  grep -q "^roost predict: error: .*$want" "$WORK/e" || fail "roost predict $*: stderr lacks '$want': $(cat "$WORK/e")"
  cases=$((cases + 1))
}
IMG=${IMAGES[0]}
expect "model file .*nowhere.h5 does not exist" --model "$WORK/nowhere.h5" "$IMG"
expect "not an HDF5 file" --model "$WORK/text.h5" "$IMG"
expect "cut.h5" --model "$WORK/cut.h5" "$IMG"
expect "not a roost weights file" --model "$WORK/pack.h5" "$IMG"
expect "model file .* is not a file" --model "$WORK/out" "$IMG"
expect "image .*missing.png does not exist" --model "$MODEL" "$IMG" "$WORK/missing.png"
expect "cannot decode image .*bad.jpg" --model "$MODEL" "$WORK/bad.jpg"
mkdir -p "$WORK/empty/sub"
expect "directory .*empty holds no .jpg, .jpeg or .png files" --model "$MODEL" "$WORK/empty"
expect "no images given" --model "$MODEL"
expect "model is required" "$IMG"
expect "top-k must be at least 1" --model "$MODEL" --top-k 0 "$IMG"
expect "image-size expects an integer" --model "$MODEL" --image-size big "$IMG"
expect "resize-short .* must be at least image-size" --model "$MODEL" --image-size 64 --resize-short 40 "$IMG"
expect "bogus" --model "$MODEL" --bogus "$IMG"
if "$PYTHON" -c 'import h5py' 2>/dev/null; then
  cp "$MODEL" "$WORK/arch.h5"
  "$PYTHON" -c "
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'r+') as f:
    del f.attrs['arch']
    f.attrs.create('arch', np.bytes_('resnet7'))
" "$WORK/arch.h5"
  expect "unknown architecture 'resnet7'" --model "$WORK/arch.h5" "$IMG"
else
  echo "note: h5py absent: the unknown-architecture case is not checked"
fi
# Per file: every readable image is classified, one error line per bad one, exit 2.
rc=0
"$ROOST" predict --model "$MODEL" "${IMAGES[0]}" "$WORK/bad.jpg" "${IMAGES[1]}" > "$WORK/o" 2> "$WORK/e" || rc=$?
[ "$rc" = 2 ] || fail "a bad image among good ones exited $rc, want 2"
[ "$(cut -f1 "$WORK/o")" = "$(printf '%s\n%s' "${IMAGES[0]}" "${IMAGES[1]}")" ] || fail "good images not all classified: $(cat "$WORK/o")"
[ "$(wc -l < "$WORK/e")" = 1 ] && grep -q "cannot decode image .*bad.jpg" "$WORK/e" || fail "per-file error lines: $(cat "$WORK/e")"
# A directory is its images, recursively and sorted, like ImageFolder's classes.
"$ROOST" predict --model "$MODEL" "$WORK/data/val" > "$WORK/dir" || fail "predict on a directory exited $?"
[ "$(cut -f1 "$WORK/dir")" = "$(find "$WORK/data/val" -type f \( -name '*.png' -o -name '*.jpg' \) | LC_ALL=C sort)" ] ||
  fail "directory expansion differs: $(cut -f1 "$WORK/dir" | head -3)"
echo "ok: predict per file (2 classified, 1 error line, exit 2) and directories expanded sorted"
output_has "predict" -- "$ROOST" --help || fail "roost --help lacks predict"
output_has -e "--top-k" -- "$ROOST" predict --help || fail "roost predict --help lacks --top-k"
echo "ok: $cases bad-input cases exit 2 with one line"
