#!/usr/bin/env bash
# serve_test.sh — `roost serve` as a user runs it, on 127.0.0.1 only, with real processes:
#  1. health, metadata, predictions (TorchServe POST and v2 BYTES/FP32) equal to roost predict,
#     16 concurrent clients x 50 requests all answered right with batching on, bad requests of
#     every kind answered with the right 4xx, memory bounded, a stalled client cut off
#     (serve_client.py);
#  2. a full queue answers 503 with Retry-After;
#  3. SIGTERM: the request in flight is answered, the server exits 0;
#  4. the eager batch policy: a lone request does not wait --max-delay-ms.
source "$(dirname "$0")/common.sh"
"$PYTHON" -c "import numpy, PIL, torchvision" 2>/dev/null || { echo "SKIP: numpy/PIL/torchvision missing"; exit 77; }

make_tiny_dataset "$WORK/data" 8 4 32
"$MPIRUN" -np 1 "$ROOST" train --data-dir "$WORK/data" --output-dir "$WORK/out" --epochs 1 --batch-size 4 \
  --image-size 32 --workers 1 --threads 1 --progress none > "$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; fail "training"; }
find "$WORK/data/val" -type f | LC_ALL=C sort > "$WORK/images.txt"
"$ROOST" predict --model "$WORK/out/model.h5" --json --logits $(cat "$WORK/images.txt") > "$WORK/predict.jsonl" ||
  fail "roost predict"
"$PYTHON" - "$WORK" <<'PY'
import sys, numpy as np, torchvision.transforms as T
from PIL import Image
work = sys.argv[1]
paths = open(f"{work}/images.txt").read().split()
crop = T.Compose([T.Resize(37), T.CenterCrop(32)])
raw = np.stack([np.asarray(crop(Image.open(p).convert("RGB")), np.float32).transpose(2, 0, 1) for p in paths])
mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
((raw / np.float32(255) - mean) / std).astype(np.float32).tofile(f"{work}/input.bin")
Image.open(paths[0]).convert("RGB").resize((200, 200)).save(f"{work}/full.jpg", quality=90)
data = open(f"{work}/full.jpg", "rb").read()
open(f"{work}/truncated.jpg", "wb").write(data[: len(data) // 2])
PY

start_server() {  # log [options...]: starts roost serve on a free port; sets PID and PORT
  local log=$1; shift
  "$ROOST" serve --model "$WORK/out/model.h5" --port 0 "$@" > "$log" 2>&1 &
  PID=$!
  trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT  # no server outlives a failed test
  for _ in $(seq 300); do
    PORT=$(grep -o "listening on http://127.0.0.1:[0-9]*" "$log" | grep -o "[0-9]*$" || true)
    [ -n "$PORT" ] && return 0
    kill -0 "$PID" 2>/dev/null || { cat "$log"; fail "roost serve did not start"; }
    sleep 0.1
  done
  fail "roost serve did not say where it listens: $(cat "$log")"
}

# 1.
# Two batch workers: the load below also runs forward passes side by side.
start_server "$WORK/serve.log" --max-batch 8 --max-delay-ms 10 --timeout-s 1 --batch-workers 2
"$PYTHON" "$(dirname "$0")/serve_client.py" "$PORT" "$PID" "$WORK" || { kill "$PID"; cat "$WORK/serve.log"; fail "serve_client.py"; }
# curl as users send an image: raw body (curl's default form Content-Type), PUT (-T, as
# TorchServe's docs do) and a multipart form (-F data=@...): each the answer roost predict gives.
img=$(head -1 "$WORK/images.txt")
for how in "--data-binary @$img" "-T $img" "-F data=@$img"; do
  curl -s -f $how "http://127.0.0.1:$PORT/predictions/model" > "$WORK/curl.json" || fail "curl $how failed"
  "$PYTHON" -c "
import json, sys
got, want = json.load(open(sys.argv[1])), json.loads(open(sys.argv[2]).readline())
assert got['label'] == want['label'] and abs(got['probability'] - want['probability']) < 1e-5, (got, want)
" "$WORK/curl.json" "$WORK/predict.jsonl" || fail "curl $how: $(cat "$WORK/curl.json")"
done
echo "ok: curl --data-binary, -T and -F all get roost predict's answer"
kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?
[ "$rc" = 0 ] || fail "roost serve exited $rc after SIGTERM"

# 2. and 3.: the first image of a batch waits a second for batch-mates (--batch-policy delay:
# the eager default would run it at once, nothing else being decoded).
start_server "$WORK/slow.log" --max-queue 1 --max-batch 64 --max-delay-ms 1000 --batch-policy delay
"$PYTHON" - "$PORT" "$PID" "$(head -1 "$WORK/images.txt")" <<'PY'
import http.client, json, os, signal, sys, threading, time
port, pid, image = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
body = open(image, "rb").read()
def post(out):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/predictions/model", body=body)
    r = c.getresponse()
    out.append((r.status, r.getheader("Retry-After"), json.loads(r.read())))
first, second = [], []
a = threading.Thread(target=post, args=(first,)); a.start()
time.sleep(0.3)
post(second)  # the queue holds the first image: no room
assert second[0][0] == 503 and second[0][1] == "1" and "queue is full" in second[0][2]["error"], second
print("ok: a full queue answers 503 with Retry-After: 1")
b = threading.Thread(target=post, args=(second,)); b.start()  # arrives while the server stops
time.sleep(0.1)
os.kill(pid, signal.SIGTERM)
a.join(); b.join()
assert first[0][0] == 200 and first[0][2]["label"] in ("coat", "pullover"), first
print("ok: SIGTERM while a request waits for its batch: it is answered", first[0][2]["label"])
PY
rc=0; wait "$PID" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/slow.log"; fail "roost serve exited $rc after SIGTERM"; }
grep -q "roost serve: stopped" "$WORK/slow.log" || fail "no stop message: $(cat "$WORK/slow.log")"
echo "ok: roost serve stops gracefully on SIGTERM (exit 0)"

# The eager default: a lone request does not wait --max-delay-ms for batch-mates that are not coming.
start_server "$WORK/eager.log" --max-batch 64 --max-delay-ms 3000
t0=$(date +%s%N)
curl -s -f --data-binary @"$(head -1 "$WORK/images.txt")" "http://127.0.0.1:$PORT/predictions/model" > /dev/null ||
  fail "eager: the request failed"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 2000 ] || fail "eager: a lone request took $ms ms with --max-delay-ms 3000"
kill -TERM "$PID"; wait "$PID" || fail "roost serve exited $? after SIGTERM"
echo "ok: a lone request is answered in $ms ms although --max-delay-ms is 3000 (eager batches)"

# Bad options: one line, exit 2.
rc=0; "$ROOST" serve --model "$WORK/nowhere.h5" > /dev/null 2> "$WORK/e" || rc=$?
[ "$rc" = 2 ] && [ "$(wc -l < "$WORK/e")" = 1 ] && grep -q "nowhere.h5: no such file" "$WORK/e" || fail "missing model: exit $rc, $(cat "$WORK/e")"
rc=0; "$ROOST" serve --model "$WORK/out/model.h5" --max-batch 0 > /dev/null 2> "$WORK/e" || rc=$?
[ "$rc" = 2 ] && grep -q "max-batch must be in" "$WORK/e" || fail "--max-batch 0: exit $rc, $(cat "$WORK/e")"
echo "ok: bad serve options are one line and exit 2"
