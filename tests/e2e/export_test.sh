#!/usr/bin/env bash
# export_test.sh — `roost export` end to end, checked by other runtimes:
#  1. a trained model as ONNX (plain, --fold-bn, --include-preprocessing, both): the ONNX
#     checker (full check, shape inference) accepts it and ONNX Runtime (npm onnxruntime-node)
#     gives the logits of roost's own forward pass (roost predict --logits) within 1e-4 of the
#     largest logit, for a batch of 5 real images and for a batch of 1; the metadata names
#     the classes and the preprocessing;
#  2. as .pth: torchvision loads it with strict=True and gives the same logits, and the file
#     equals tools/roost_weights.py to-pth's byte for byte (every depth too);
#  3. every depth (torchvision's own random ResNets 18..152, through tools/roost_weights.py)
#     exports and passes the checker, at opsets 11 and 17 (ResNet-18 at every opset 11..17);
#  4. bad input: one line, exit 2, no file written;
#  5. the registry: `models register --export onnx,pth` keeps both beside the version (with
#     checksums), `models download --format onnx` fetches a verified copy that passes the
#     checker, a damaged stored file is refused, and `roost export --model NAME:VERSION` works.
source "$(dirname "$0")/common.sh"

"$PYTHON" -c "import onnx, torch, torchvision, PIL, h5py" 2>/dev/null || { echo "SKIP: python3-onnx/torch/torchvision/h5py missing"; exit 77; }
NPM_DIR=${ROOST_NPM_DIR:-$WORK/npm}
ORT_VERSION=1.31.1
if [ ! -e "$NPM_DIR/node_modules/onnxruntime-node/package.json" ]; then
  command -v npm >/dev/null || { echo "SKIP: npm missing (ONNX Runtime comes from the npm registry)"; exit 77; }
  mkdir -p "$NPM_DIR"
  # --ignore-scripts: the package carries its CPU binaries; its install script would only fetch GPU ones.
  (cd "$NPM_DIR" && npm install --ignore-scripts --no-audit --no-fund "onnxruntime-node@$ORT_VERSION" > npm.log 2>&1) ||
    { echo "SKIP: npm install onnxruntime-node@$ORT_VERSION failed: $(tail -3 "$NPM_DIR/npm.log")"; exit 77; }
fi

make_tiny_dataset "$WORK/data" 8 3 32
"$MPIRUN" -np 1 "$ROOST" train --data-dir "$WORK/data" --output-dir "$WORK/out" --epochs 1 --batch-size 4 \
  --image-size 32 --workers 1 --threads 1 --progress none > "$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; fail "training"; }
MODEL="$WORK/out/model.h5"
mapfile -t IMAGES < <(find "$WORK/data/val" -type f | LC_ALL=C sort | head -5)
"$ROOST" predict --model "$MODEL" --json --logits "${IMAGES[@]}" > "$WORK/roost.jsonl" || fail "roost predict --logits"

# The same validation transform in Python (Pillow's resize, which roost's equals byte for
# byte): normalized input, and the 0..255 input --include-preprocessing takes.
"$PYTHON" - "$WORK" "${IMAGES[@]}" <<'PY'
import sys, numpy as np, torchvision.transforms as T
from PIL import Image
work, paths = sys.argv[1], sys.argv[2:]
crop = T.Compose([T.Resize(37), T.CenterCrop(32)])  # model.h5 records 32 / round(32*256/224)
raw = np.stack([np.asarray(crop(Image.open(p).convert("RGB")), dtype=np.float32).transpose(2, 0, 1) for p in paths])
mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
raw.astype(np.float32).tofile(f"{work}/input255.bin")
((raw / np.float32(255) - mean) / std).astype(np.float32).tofile(f"{work}/input.bin")
PY

cat > "$WORK/ort.js" <<'JS'
const ort = require(process.env.NPM_DIR + "/node_modules/onnxruntime-node");
const fs = require("fs");
(async () => {
  const [model, input, n, size] = process.argv.slice(2).map((v, i) => (i >= 2 ? Number(v) : v));
  const buf = fs.readFileSync(input);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const data = all.slice(0, n * 3 * size * size);
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ input: new ort.Tensor("float32", data, [n, 3, size, size]) });
  console.log(JSON.stringify({ dims: out.logits.dims, data: Array.from(out.logits.data) }));
})().catch((e) => { console.error(String(e)); process.exit(1); });
JS
export NPM_DIR

check() { "$PYTHON" -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" "$1"; }
# ORT's logits for the first N images of INPUT against roost's.
compare_ort() {  # onnx input n
  node "$WORK/ort.js" "$1" "$2" "$3" 32 > "$WORK/ort.json" || fail "ONNX Runtime could not run $1"
  "$PYTHON" - "$WORK/ort.json" "$WORK/roost.jsonl" "$3" "$1" <<'PY'
import json, sys, numpy as np
ort = json.load(open(sys.argv[1])); n = int(sys.argv[3])
assert ort["dims"] == [n, 2], ort["dims"]
got = np.array(ort["data"]).reshape(n, 2)
want = np.array([json.loads(l)["logits"] for l in open(sys.argv[2])][:n])
err = np.abs(got - want).max() / np.abs(want).max()
assert err <= 1e-4, f"{sys.argv[4]}: ONNX Runtime differs from roost by {err:.2e} of the largest logit"
print(f"  {sys.argv[4].split('/')[-1]} batch {n}: max difference {err:.1e} of the largest logit")
PY
}

for variant in plain fold pre fold-pre; do
  flags=()
  case $variant in *fold*) flags+=(--fold-bn) ;; esac
  input="$WORK/input.bin"
  case $variant in *pre) flags+=(--include-preprocessing); input="$WORK/input255.bin" ;; esac
  "$ROOST" export --model "$MODEL" --format onnx --out "$WORK/$variant.onnx" "${flags[@]}" 2>/dev/null || fail "export $variant"
  check "$WORK/$variant.onnx" || fail "$variant.onnx fails the ONNX checker"
  compare_ort "$WORK/$variant.onnx" "$input" 5
  compare_ort "$WORK/$variant.onnx" "$input" 1
done
"$PYTHON" - "$WORK/plain.onnx" "$WORK/fold.onnx" <<'PY'
import json, sys, onnx
m = onnx.load(sys.argv[1])
meta = {p.key: p.value for p in m.metadata_props}
assert json.loads(meta["class_names"]) == ["coat", "pullover"], meta
assert meta["image_size"] == "32" and meta["resize_short"] == "37" and meta["arch"] == "resnet18", meta
assert [i.name for i in m.graph.input] == ["input"] and [o.name for o in m.graph.output] == ["logits"]
assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
ops = lambda model: sorted({n.op_type for n in model.graph.node})
assert ops(m) == ["Add", "BatchNormalization", "Conv", "Flatten", "Gemm", "GlobalAveragePool", "MaxPool", "Relu"], ops(m)
assert "BatchNormalization" not in ops(onnx.load(sys.argv[2]))
PY
echo "ok: ONNX (plain, folded BatchNorm, with preprocessing) passes the checker and ONNX Runtime matches roost's logits"

"$ROOST" export --model "$MODEL" --format onnx --batch 5 --out "$WORK/b5.onnx" 2>/dev/null || fail "export --batch 5"
check "$WORK/b5.onnx" || fail "fixed-batch model fails the checker"
compare_ort "$WORK/b5.onnx" "$WORK/input.bin" 5

# 2. .pth into torchvision, strictly
"$ROOST" export --model "$MODEL" --format pth --out "$WORK/model.pth" 2>/dev/null || fail "export pth"
"$PYTHON" - "$WORK" <<'PY'
import json, sys, numpy as np, torch, torchvision
work = sys.argv[1]
net = torchvision.models.resnet18(num_classes=2)
net.load_state_dict(torch.load(f"{work}/model.pth"), strict=True)
net.eval()
x = torch.from_numpy(np.fromfile(f"{work}/input.bin", np.float32).reshape(5, 3, 32, 32))
with torch.no_grad():
    got = net(x).double().numpy()
want = np.array([json.loads(l)["logits"] for l in open(f"{work}/roost.jsonl")])
err = np.abs(got - want).max() / np.abs(want).max()
assert err <= 1e-4, f"torchvision with the exported .pth differs by {err:.2e}"
PY
mkdir -p "$WORK/py"
"$PYTHON" "$ROOST_SOURCE_DIR/tools/roost_weights.py" to-pth "$MODEL" "$WORK/py/model.pth" > /dev/null || fail "roost_weights.py to-pth"
cmp "$WORK/model.pth" "$WORK/py/model.pth" || fail "roost export --format pth differs from roost_weights.py to-pth"
echo "ok: the .pth loads strictly in torchvision, gives roost's logits, and equals roost_weights.py's byte for byte"

# 3. every depth, at the lowest and highest opset (ResNet-18 at all of them)
for arch in resnet18 resnet34 resnet50 resnet101 resnet152; do
  "$PYTHON" -c "
import sys, torch, torchvision
torch.manual_seed(0)
torch.save(getattr(torchvision.models, sys.argv[1])(num_classes=3).state_dict(), sys.argv[2])" "$arch" "$WORK/$arch.pth"
  "$PYTHON" "$ROOST_SOURCE_DIR/tools/roost_weights.py" to-h5 "$WORK/$arch.pth" "$WORK/$arch.h5" --arch "$arch" \
    --classes a,b,c > /dev/null || fail "roost_weights.py to-h5 $arch"
  opsets="11 17"; [ "$arch" = resnet18 ] && opsets="11 12 13 14 15 16 17"
  for opset in $opsets; do
    "$ROOST" export --model "$WORK/$arch.h5" --opset "$opset" --fold-bn --out "$WORK/$arch-$opset.onnx" 2>/dev/null ||
      fail "export $arch opset $opset"
    check "$WORK/$arch-$opset.onnx" || fail "$arch at opset $opset fails the ONNX checker"
  done
  mkdir -p "$WORK/roost-$arch" "$WORK/py-$arch"
  "$ROOST" export --model "$WORK/$arch.h5" --format pth --out "$WORK/roost-$arch/m.pth" 2>/dev/null || fail "export pth $arch"
  "$PYTHON" "$ROOST_SOURCE_DIR/tools/roost_weights.py" to-pth "$WORK/$arch.h5" "$WORK/py-$arch/m.pth" > /dev/null ||
    fail "roost_weights.py to-pth $arch"
  cmp -s "$WORK/roost-$arch/m.pth" "$WORK/py-$arch/m.pth" || fail "$arch: roost's .pth differs from roost_weights.py's"
  rm -rf "$WORK/$arch".* "$WORK/$arch"-*.onnx "$WORK/roost-$arch" "$WORK/py-$arch"
  echo "ok: $arch exports at opsets $opsets, and as a .pth equal byte for byte to roost_weights.py's"
done

# 4. bad input: one line, exit 2, nothing written
expect() {  # expected-substring, then the roost export arguments (writing $WORK/bad.onnx)
  local want=$1; shift
  local rc=0
  "$ROOST" export "$@" > "$WORK/o" 2> "$WORK/e" || rc=$?
  [ "$rc" -eq 2 ] || fail "roost export $* exited $rc, expected 2 ($(cat "$WORK/e"))"
  [ "$(wc -l < "$WORK/e")" -eq 1 ] && grep -q -- "$want" "$WORK/e" || fail "roost export $*: $(cat "$WORK/e")"
  ! ls "$WORK"/bad.* "$WORK"/nodir 2>/dev/null | grep -q . || fail "roost export $* left a file"
}
echo "not a model" > "$WORK/text.h5"
expect "not an HDF5 file" --model "$WORK/text.h5" --out "$WORK/bad.onnx"
expect "nowhere.h5 does not exist" --model "$WORK/nowhere.h5" --out "$WORK/bad.onnx"
expect "format must be onnx or pth" --model "$MODEL" --format tflite --out "$WORK/bad.onnx"
expect "opset must be in 11..17 (got 10)" --model "$MODEL" --opset 10 --out "$WORK/bad.onnx"
expect "opset must be in 11..17 (got 18)" --model "$MODEL" --opset 18 --out "$WORK/bad.onnx"
expect "batch must be at least 1" --model "$MODEL" --batch 0 --out "$WORK/bad.onnx"
expect "belong to --format onnx" --model "$MODEL" --format pth --fold-bn --out "$WORK/bad.pth"
expect "cannot write $WORK/nodir/m.onnx" --model "$MODEL" --out "$WORK/nodir/m.onnx"
expect "out is required" --model "$MODEL"
echo "ok: bad export input is one line and exit 2, with no file left"

# 5. exported files in the registry
command -v sqlite3 >/dev/null || { echo "SKIP (registry part): no sqlite3 program"; exit 0; }
WS=$WORK/ws
"$ROOST" submit --mpirun "$MPIRUN" --experiment ex --np 1 --workspace "$WS" --wait -- --data-dir "$WORK/data" \
  --epochs 1 --batch-size 4 --image-size 32 --workers 1 --threads 1 --progress none > "$WORK/submit.log" 2>&1 ||
  { cat "$WORK/submit.log"; fail "submit"; }
"$ROOST" models register --run 1 --name net --export onnx,pth --workspace "$WS" > "$WORK/reg.out" 2>&1 ||
  fail "register --export: $(cat "$WORK/reg.out")"
"$ROOST" models register --run 1 --name net --workspace "$WS" > /dev/null 2>&1 || fail "second version"
"$ROOST" models show --name net --version 1 --workspace "$WS" > "$WORK/show"
grep -q "file (onnx): .*/models/net/1/model.onnx  sha256 [0-9a-f]\{64\}" "$WORK/show" && grep -q "file (pth): " "$WORK/show" ||
  fail "models show lacks the exported files: $(cat "$WORK/show")"
"$ROOST" models download --name net --version 1 --format onnx --to "$WORK/dl" --workspace "$WS" > "$WORK/dl.out" 2>&1 ||
  fail "download --format onnx: $(cat "$WORK/dl.out")"
check "$WORK/dl/model.onnx" || fail "the downloaded ONNX fails the checker"
[ "$(sha256sum < "$WORK/dl/model.onnx" | cut -d' ' -f1)" = \
  "$(sqlite3 "$WS/roost.db" "SELECT sha256 FROM model_files WHERE name='net' AND version=1 AND format='onnx'")" ] ||
  fail "downloaded ONNX does not match the recorded checksum"
compare_ort "$WORK/dl/model.onnx" "$WORK/input.bin" 5
"$ROOST" export --model net:1 --workspace "$WS" --out "$WORK/byname.onnx" 2>/dev/null || fail "export --model net:1"
cmp -s "$WORK/byname.onnx" "$WORK/dl/model.onnx" || fail "export by registry name differs from the registered export"
rc=0
"$ROOST" models download --name net --version 2 --format pth --to "$WORK/dl2" --workspace "$WS" 2> "$WORK/e" || rc=$?
[ "$rc" = 2 ] && grep -q "has no pth file (it has: h5;" "$WORK/e" || fail "download of a missing format: exit $rc, $(cat "$WORK/e")"
printf 'X' | dd of="$WS/models/net/1/model.onnx" bs=1 seek=100 conv=notrunc 2>/dev/null
rc=0
"$ROOST" models download --name net --version 1 --format onnx --to "$WORK/dl3" --workspace "$WS" 2> "$WORK/e" || rc=$?
[ "$rc" = 1 ] && grep -q "checksum mismatch" "$WORK/e" && [ ! -e "$WORK/dl3/model.onnx" ] ||
  fail "a damaged stored ONNX was handed out: exit $rc, $(cat "$WORK/e")"
echo "ok: the registry keeps exported ONNX and .pth files, checksummed, and hands out only verified copies"

# A registered version served by name (roost serve --model NAME:VERSION).
"$ROOST" serve --model net:2 --workspace "$WS" --port 0 > "$WORK/serve.log" 2>&1 &
spid=$!
trap 'kill "$spid" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 300); do grep -q "listening" "$WORK/serve.log" && break; sleep 0.1; done
port=$(grep -o "127.0.0.1:[0-9]*" "$WORK/serve.log" | cut -d: -f2)
output_has '"name":"net"' -- curl -s -f "http://127.0.0.1:$port/v2/models/net/versions/2" || fail "serve net:2: $(cat "$WORK/serve.log")"
kill -TERM "$spid"; wait "$spid" || fail "roost serve net:2 did not stop cleanly"
echo "ok: roost serve --model net:2 serves the registered version"
