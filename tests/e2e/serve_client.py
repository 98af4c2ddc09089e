"""serve_client.py — the client side of serve_test.sh: talks to a running `roost serve` on
127.0.0.1 with Python's http.client and checks every answer.

  serve_client.py PORT SERVER_PID WORK  (WORK holds predict.jsonl from roost predict --json
                                         --logits, images.txt, input.bin: the images
                                         preprocessed in Python, and notimage.bin)
"""
import base64
import http.client
import json
import socket
import sys
import threading
import time

import numpy as np

PORT, PID, WORK = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
IMAGES = open(f"{WORK}/images.txt").read().split()
WANT = {row["image"]: row for row in map(json.loads, open(f"{WORK}/predict.jsonl"))}
CLASSES = ["coat", "pullover"]


def request(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


# Answers are compared within float rounding: roost predict runs its images as one batch, the
# server one by one or in batches of whatever arrives, and oneDNN's kernels (Winograd's tiles
# among them) split the work by batch size, which moves logits by ~1e-6 of their size.
PROB_TOL = 1e-5


def close(a, b, tol):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() <= tol * max(1.0, np.abs(b).max())


def rss_kb():
    for line in open(f"/proc/{PID}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


# Health and metadata
assert request("GET", "/v2/health/live")[0] == 200
assert request("GET", "/v2/health/ready")[0] == 200
status, _, body = request("GET", "/v2/models/model")
meta = json.loads(body)
assert status == 200 and meta["parameters"]["classes"] == CLASSES and meta["versions"] == ["1"], meta
assert meta["inputs"][0]["shape"] == [-1, 3, 32, 32], meta
assert request("GET", "/v2/models/model/versions/1/ready")[0] == 200
assert json.loads(request("GET", "/v2")[2])["name"] == "roost"
print("ok: health, readiness and metadata")

# One by one: every image as a TorchServe-style POST and a v2 BYTES request, against roost predict.
alone = {}
for path in IMAGES:
    raw = open(path, "rb").read()
    status, _, body = request("POST", "/predictions/model", raw)
    got = json.loads(body)
    assert status == 200, (status, body)
    assert got["label"] == WANT[path]["label"] and abs(got["probability"] - WANT[path]["probability"]) < PROB_TOL, (got, WANT[path])
    req = {"id": "r1", "inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": [base64.b64encode(raw).decode()]}]}
    status, _, body = request("POST", "/v2/models/model/infer", json.dumps(req))
    out = json.loads(body)
    assert status == 200 and out["id"] == "r1" and out["model_version"] == "1", body
    logits = out["outputs"][0]["data"]
    assert close(logits, WANT[path]["logits"], 1e-5), (logits, WANT[path]["logits"])
    alone[path] = (got["label"], got["probability"], logits)
print(f"ok: {len(IMAGES)} images one by one equal roost predict (labels, probabilities, logits)")

# FP32 input preprocessed by the client; the whole set in one request.
x = np.fromfile(f"{WORK}/input.bin", np.float32)
req = {"inputs": [{"name": "input", "shape": [len(IMAGES), 3, 32, 32], "datatype": "FP32", "data": x.tolist()}]}
status, _, body = request("POST", "/v2/models/model/infer", json.dumps(req))
assert status == 200, body
out = json.loads(body)
logits = np.array(out["outputs"][0]["data"]).reshape(len(IMAGES), 2)
for i, path in enumerate(IMAGES):
    assert close(logits[i], WANT[path]["logits"], 1e-4), (path, logits[i], WANT[path]["logits"])
assert out["outputs"][2]["data"] == [WANT[p]["label"] for p in IMAGES]
print("ok: an FP32 batch preprocessed by the client gives roost predict's logits")

# Load: 16 clients x 50 requests, every answer checked against the one-by-one answers.
failures = []


def client(seed):
    rng = np.random.default_rng(seed)
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    for _ in range(50):
        path = IMAGES[rng.integers(len(IMAGES))]
        conn.request("POST", "/predictions/model", body=open(path, "rb").read())
        r = conn.getresponse()
        got = json.loads(r.read())
        label, prob, _ = alone[path]
        if r.status != 200 or got["label"] != label or abs(got["probability"] - prob) > PROB_TOL:
            failures.append((path, r.status, got))
    conn.close()


threads = [threading.Thread(target=client, args=(s,)) for s in range(16)]
start = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not failures, failures[:3]
metrics = request("GET", "/metrics")[2].decode()
single = int(next(l for l in metrics.splitlines() if l.startswith('roost_batch_size_bucket{le="1"}')).split()[-1])
passes = int(next(l for l in metrics.splitlines() if l.startswith("roost_batch_size_count")).split()[-1])
assert passes > single, "no forward pass ever ran more than one image"
print(f"ok: 16 clients x 50 requests in {time.time() - start:.1f} s, every answer equal to the one-by-one one; "
      f"{passes - single} of {passes} forward passes batched several images")

# Bad input: the right 4xx and one line of JSON; the server stays up.
jpeg = open(f"{WORK}/truncated.jpg", "rb").read()
cases = [
    ("POST", "/predictions/model", b"\x00garbage" * 50, 400),
    ("POST", "/predictions/model", jpeg, 400),
    ("POST", "/predictions/model", b"", 400),
    ("POST", "/predictions/nosuch", b"x", 404),
    ("POST", "/v2/models/model/infer", b"{not json", 400),
    ("POST", "/v2/models/model/infer", b"", 400),
    ("POST", "/v2/models/model/infer", json.dumps({"inputs": []}).encode(), 400),
    ("POST", "/v2/models/model/infer", json.dumps({"inputs": [{"name": "input", "shape": [1, 3, 8, 8], "datatype": "FP32", "data": [0.0] * 192}]}).encode(), 400),
    ("POST", "/v2/models/model/infer", json.dumps({"inputs": [{"name": "input", "shape": [1, 3, 32, 32], "datatype": "INT8", "data": [0] * 3072}]}).encode(), 400),
    ("POST", "/v2/models/model/infer", json.dumps({"inputs": [{"name": "input", "shape": [1, 3, 32, 32], "datatype": "FP32", "data": [0.0] * 10}]}).encode(), 400),
    ("POST", "/v2/models/model/infer", json.dumps({"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": ["!!!"]}]}).encode(), 400),
    ("POST", "/v2/models/model/infer", json.dumps({"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": [base64.b64encode(b"junk").decode()]}]}).encode(), 400),
    ("POST", "/v2/models/model/versions/7/infer", b"{}", 404),
    ("GET", "/v2/models/nosuch", None, 404),
    ("GET", "/nowhere", None, 404),
]
for method, path, body, want in cases:
    status, _, data = request(method, path, body)
    err = json.loads(data)
    assert status == want and "error" in err and "\n" not in data.decode(), (method, path, status, data[:200])
# A huge declared Content-Length is refused before the body is read.
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
s.sendall(b"POST /predictions/model HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\nabc")
reply = s.recv(4096).decode(errors="replace")
s.close()
assert reply.startswith("HTTP/1.1 413"), reply[:100]
print(f"ok: {len(cases) + 1} kinds of bad request answered with the right 4xx and a one-line JSON error")

# Memory stays bounded under a few thousand bad requests.
for _ in range(200):
    request("POST", "/predictions/model", b"\xff\xd8" + b"\x00" * 5000)
before = rss_kb()
for i in range(3000):
    method, path, body, _ = cases[i % len(cases)]
    request(method, path, body)
after = rss_kb()
assert after - before < 30 * 1024, f"RSS grew from {before} to {after} kB over 3000 bad requests"
assert request("GET", "/v2/health/ready")[0] == 200
print(f"ok: 3000 bad requests, RSS {before} -> {after} kB, still ready")

# A client that sends half a request and stalls does not hold the server (--timeout-s 1).
slow = socket.create_connection(("127.0.0.1", PORT), timeout=10)
slow.sendall(b"POST /predictions/model HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
t0 = time.time()
assert request("GET", "/v2/health/live")[0] == 200
slow.settimeout(10)
try:
    closed = slow.recv(4096) is not None  # the server answers or closes after its read timeout
except socket.timeout:
    closed = False
slow.close()
assert closed and time.time() - t0 < 9, "a stalled client held its connection past the timeout"
print("ok: a stalled client is cut off after the read timeout while others are served")
