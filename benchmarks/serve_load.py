"""serve_load.py — the load generator of serve_bench.sh: C clients, each on its own keep-alive
connection, POST the same image to /predictions/model back to back for S seconds (after one
warm-up request each); prints one JSON line: requests/s and p50/p99 latency in ms of the
answered requests, and errors (non-200 answers and failed connections, which are reopened).

  serve_load.py PORT IMAGE CLIENTS SECONDS
"""
import http.client
import json
import sys
import threading
import time

port, image, clients, seconds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
body = open(image, "rb").read()
latencies, errors = [], [0]
lock = threading.Lock()
start_gate = threading.Barrier(clients + 1)


def post(conn):
    """Status of one request, or None when the connection failed (it is then reopened)."""
    try:
        conn.request("POST", "/predictions/model", body=body)
        r = conn.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        conn.close()
        return None


def client():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for attempt in range(5):  # a server with a short listen backlog may refuse a burst of connects
        if post(conn) == 200:
            break
        time.sleep(0.2 * (attempt + 1))
    try:
        start_gate.wait(timeout=300)
    except threading.BrokenBarrierError:
        return
    # The wait at the gate may outlast the server's keep-alive timeout: start on a fresh
    # connection rather than count the server's closing of an idle one as an error.
    conn.close()
    mine, bad = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        if post(conn) != 200:
            bad += 1  # counted as an error; its time is not a latency
            continue
        mine.append(time.monotonic() - t0)
    with lock:
        latencies.extend(mine)
        errors[0] += bad


threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads:
    t.start()
start_gate.wait(timeout=300)
t0 = time.monotonic()
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
latencies.sort()
pick = lambda q: 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
print(json.dumps({"clients": clients, "requests": len(latencies), "rps": len(latencies) / elapsed,
                  "p50_ms": pick(0.5), "p99_ms": pick(0.99), "errors": errors[0]}))
