#!/usr/bin/env python3
"""ui_browser.py — drives headless Chromium through chromedriver's WebDriver HTTP API against a
running `roost ui`: the run list (rows and statuses), a finished run's charts, a training run's
chart growing without a reload, compare, models and a sweep's pages; screenshots into OUT_DIR. Hosts other than
loopback do not resolve in the browser, so the page must need nothing from the network.

usage: ui_browser.py BASE_URL OUT_DIR FINISHED_ID FINISHED_EPOCHS FAILED_ID RUNNING_ID MODEL:VERSION
       ui_browser.py --cancel BASE_URL TOKEN RUN_ID   (the page's cancel button, on a server with actions)
       ui_browser.py --sweep BASE_URL OUT_DIR SWEEP_ID TRIALS EPOCHS PARAM   (a finished sweep's pages)
"""
import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request


def fail(msg):
    sys.exit(f"FAIL: browser: {msg}")


class Driver:
    def __init__(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen(["chromedriver", f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                self.call("GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1500",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as res:
            return json.loads(res.read())["value"]

    def go(self, url):
        self.call("POST", f"/session/{self.session}/url", {"url": url})

    def js(self, script, *args):
        return self.call("POST", f"/session/{self.session}/execute/sync", {"script": script, "args": list(args)})

    def wait(self, script, what, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            value = self.js(script)
            if value:
                return value
            time.sleep(0.3)
        fail(f"timed out waiting for {what}")

    def shot(self, path):
        png = base64.b64decode(self.call("GET", f"/session/{self.session}/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def quit(self):
        try:
            self.call("DELETE", f"/session/{self.session}")
        finally:
            self.proc.terminate()
            self.proc.wait()


POINTS = "const c = document.querySelector('#chart-acc'); return c ? Number(c.dataset.points) : 0;"


def check_list(d, base, out, expected):
    d.go(base + "/#/")
    d.wait(f"return document.querySelectorAll('#runs tbody tr').length >= {len(expected)};", "the run rows")
    rows = d.js("return [...document.querySelectorAll('#runs tbody tr')].map(r => [r.dataset.runId, "
                "r.querySelector('.col-status').textContent]);")
    got = {int(i): s for i, s in rows}
    for run_id, status in expected.items():
        if got.get(run_id) != status:
            fail(f"run list: run {run_id} shows {got.get(run_id)!r}, expected {status!r} (rows {rows})")
    d.shot(f"{out}/runs.png")
    # Sorting by a column's head (newest first by default, then ascending) and filtering.
    d.js("document.querySelector('th[data-key=\"id\"]').click();")
    ids = d.js("return [...document.querySelectorAll('#runs tbody tr')].map(r => Number(r.dataset.runId));")
    if ids != sorted(expected):
        fail(f"run list sorted by id: {ids}")
    d.js("const f = document.querySelector('#filter'); f.value = 'failed'; f.dispatchEvent(new Event('input'));")
    rows = d.js("return [...document.querySelectorAll('#runs tbody tr')].map(r => r.dataset.status);")
    if rows != ["Failed"]:
        fail(f"run list filtered by 'failed': {rows}")


def check_finished(d, base, out, run_id, epochs):
    d.go(f"{base}/#/runs/{run_id}")
    points = d.wait(POINTS, "the accuracy chart")
    if points != epochs:
        fail(f"run {run_id}: the accuracy chart has {points} points, expected {epochs}")
    d.wait("const p = document.querySelector('#log'); return p && p.textContent.length > 0;", "the log")
    d.wait("const i = document.querySelector('img.curves'); return i && i.complete && i.naturalWidth > 0;",
           "the curves PNG")
    if d.js("return document.querySelectorAll('#charts .chart').length;") != 4:
        fail("the run page does not show its four charts")
    d.shot(f"{out}/run-finished.png")
    library = d.js("return document.querySelector('#chart-acc').dataset.library;")
    print(f"ok: browser: run {run_id}: the accuracy chart has {points} points ({library})")


def check_failed(d, base, run_id):
    d.go(f"{base}/#/runs/{run_id}")
    d.wait("const i = document.querySelector('#info'); return i && i.textContent.includes('Failed');",
           "the failed run's status")
    # Its rank's log, tailed into the page, holds the error that ended it.
    d.wait("const p = document.querySelector('#log'); return p && p.textContent.includes('garbage.h5');",
           "the failed rank's error in the log panel")


def check_live(d, base, out, run_id):
    d.go(f"{base}/#/runs/{run_id}")
    first = d.wait(POINTS, "a first epoch of the training run", 90)
    d.wait(f"const c = document.querySelector('#chart-acc'); return c && Number(c.dataset.points) > {first};",
           "the chart to grow", 90)
    now = d.js(POINTS)
    d.shot(f"{out}/run-live.png")
    print(f"ok: browser: the training run's chart grew from {first} to {now} points without a reload")


def check_models(d, base, out, model):
    d.go(f"{base}/#/models")
    d.wait(f"return document.querySelector('#models tr[data-model=\"{model}\"]') !== null;", f"model {model}'s row")
    # Its download link gives the registered file, as many bytes as the table says.
    got = d.js(f"const row = document.querySelector('#models tr[data-model=\"{model}\"]');"
               "const size = Number(row.children[5].textContent);"
               "return fetch(row.querySelector('a[href^=\"/files\"]').href).then(r => r.arrayBuffer())"
               ".then(b => [b.byteLength, size]);")
    if got[0] != got[1] or got[0] == 0:
        fail(f"model {model}: the download gave {got[0]} bytes, the table says {got[1]}")
    d.shot(f"{out}/models.png")


def check_rest(d, base, out, ids):
    d.go(f"{base}/#/compare?ids={ids[0]},{ids[1]}")
    series = d.wait("const c = document.querySelector('#compare-val_acc'); return c && Number(c.dataset.series);",
                    "the compare chart")
    if series != 2:
        fail(f"compare: {series} series, expected 2")
    d.shot(f"{out}/compare.png")
    # The SVG charts drawn where the build had no uPlot: one circle per point that has a value.
    svg = d.js("const u = window.uPlot; window.uPlot = undefined; const e = document.createElement('div');"
               "document.body.append(e); RoostChart.draw(e, {title: 't', series: [{label: 'a', xs: [1, 2, 3],"
               "ys: [0.5, 0.7, null]}]}); window.uPlot = u; e.remove();"
               "return [e.dataset.library, e.dataset.points, e.querySelectorAll('circle.pt').length];")
    if svg != ["svg", "2", 2]:
        fail(f"the SVG chart: {svg}, expected ['svg', '2', 2]")
    foreign = d.js("return performance.getEntriesByType('resource').map(e => e.name)"
                   f".filter(n => !n.startsWith('{base}'));")
    if foreign:
        fail(f"the page loaded resources from elsewhere: {foreign}")


def cancel(base, token, run_id):
    d = Driver()
    try:
        d.go(f"{base}/#token={token}")  # the address roost ui prints; the page keeps the token
        d.wait("return location.hash === '#/';", "the page to take the token")
        d.go(f"{base}/#/runs/{run_id}")
        d.wait("return document.querySelector('#cancel') !== null;", "the cancel button")
        d.js("document.querySelector('#cancel').click();")
        d.wait("const i = document.querySelector('#info'); return i && i.textContent.includes('Canceled');",
               "the run to show Canceled")
    finally:
        d.quit()
    print(f"ok: browser: run {run_id} canceled from its page")


def check_sweep_list(d, base, out, sweep_id, trials):
    d.go(f"{base}/#/")
    d.wait("return document.querySelector('nav a[href=\"#/sweeps\"]') !== null;", "the Sweeps link in the nav")
    d.js("document.querySelector('nav a[href=\"#/sweeps\"]').click();")
    row = d.wait(f"const r = document.querySelector('#sweeps tr[data-sweep-id=\"{sweep_id}\"]');"
                 "return r && [...r.children].map(c => c.textContent);", f"sweep {sweep_id}'s row")
    if "Completed" not in row[2] or row[3] != str(trials) or row[5] != "none":
        fail(f"sweep list: row {row}, expected Completed, {trials} trials, policy none")
    # The run list, still loading when the link was followed, does not end up on this page.
    time.sleep(0.5)
    if d.js("return [...document.querySelectorAll('#view h2')].map(h => h.textContent);") != ["Sweeps"]:
        fail("the sweep list shares its page with another view")
    d.shot(f"{out}/sweeps.png")


def check_sweep_charts(d, sweep_id, trials, epochs, param):
    curves = d.wait("const c = document.querySelector('#sweep-curves'); return c && c.dataset.points &&"
                    "[Number(c.dataset.series), Number(c.dataset.points)];", "the per-trial chart")
    if curves != [trials, epochs]:
        fail(f"sweep {sweep_id}: the per-trial chart has [series, points] {curves}, expected {[trials, epochs]}")
    chart = d.js(f"const c = document.querySelector('.param-chart[data-param=\"{param}\"]');"
                 "return c && [Number(c.dataset.series), Number(c.dataset.points), c.dataset.logX,"
                 "c.querySelectorAll('canvas, circle.pt').length > 0];")
    if chart != [1, trials, "0", True]:
        fail(f"sweep {sweep_id}: the {param} chart is {chart}, expected [1, {trials}, '0', True]")
    # The scatter form of the SVG fallback: points only, on a log scale where asked.
    svg = d.js("const u = window.uPlot; window.uPlot = undefined; const e = document.createElement('div');"
               "document.body.append(e); RoostChart.draw(e, {title: 't', scatter: true, logX: true, series: [{label: 'a',"
               "xs: [0.001, 0.01, 0.1], ys: [0.5, 0.7, 0.6]}]}); window.uPlot = u; e.remove();"
               "const xs = [...e.querySelectorAll('circle.pt')].map(c => Number(c.getAttribute('cx')));"
               "return [e.dataset.logX, e.querySelectorAll('polyline').length, xs];")
    xs = svg[2]
    if svg[:2] != ["1", 0] or len(xs) != 3 or abs((xs[1] - xs[0]) - (xs[2] - xs[1])) > 0.01:
        fail(f"the SVG scatter chart on a log scale: {svg}")


def check_sweep(base, out, sweep_id, trials, epochs, param):
    d = Driver()
    try:
        check_sweep_list(d, base, out, sweep_id, trials)
        d.go(f"{base}/#/sweeps/{sweep_id}")
        rows = d.wait(f"const r = document.querySelectorAll('#trials tr[data-trial]'); return r.length >= {trials} &&"
                      "[...r].map(x => [x.dataset.status, x.children[2].textContent]);", "the trial rows")
        if len(rows) != trials or any(st != "Completed" or not p.startswith(f"{param}=") for st, p in rows):
            fail(f"sweep {sweep_id}: trial rows {rows}, expected {trials} Completed with {param}")
        check_sweep_charts(d, sweep_id, trials, epochs, param)
        d.shot(f"{out}/sweep.png")
        # A trial's run link opens its run page, which names the sweep and the trial.
        d.js("document.querySelector('#trials tr[data-trial=\"1\"] a').click();")
        d.wait(f"const s = document.querySelector('#sweep-of-run');"
               f"return s && s.textContent.startsWith('sweep #{sweep_id}, trial 1: {param}=');", "the trial's run page")
    finally:
        d.quit()
    print(f"ok: browser: sweep {sweep_id}: {trials} trials, the per-trial and {param} charts, the trial's run page")


def main():
    if sys.argv[1] == "--cancel":
        return cancel(*sys.argv[2:5])
    if sys.argv[1] == "--sweep":
        base, out, sweep_id, trials, epochs, param = sys.argv[2:8]
        return check_sweep(base, out, int(sweep_id), int(trials), int(epochs), param)
    base, out, finished, epochs, failed, running, model = sys.argv[1:8]
    d = Driver()
    try:
        check_list(d, base, out, {int(finished): "Completed", int(failed): "Failed", int(running): "Running"})
        check_finished(d, base, out, int(finished), int(epochs))
        check_failed(d, base, int(failed))
        check_live(d, base, out, int(running))
        check_models(d, base, out, model)
        check_rest(d, base, out, [int(finished), int(running)])
    finally:
        d.quit()
    print("ok: browser: run list, run pages, compare and models")


if __name__ == "__main__":
    main()
