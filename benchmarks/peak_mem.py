#!/usr/bin/env python3
"""peak_mem.py — peak memory of one rank's process tree, measured the same way for any engine.

    mpirun -np N /usr/bin/python3 benchmarks/peak_mem.py --out PREFIX [--interval 0.1] [--pss-interval 2]
        -- CMD [ARGS...]

Runs CMD as a child (it inherits mpirun's environment, so an MPI program initialises as if
mpirun had started it directly) and, until it exits, polls /proc every --interval seconds for
the child and all of its descendants (DataLoader worker processes, for example). Each poll
sums over the tree:
  rss  resident set size (VmRSS): what `ps` and `top` show; pages shared between the processes
       of the tree (a forked worker's copy-on-write pages, the libraries) count once per process;
  pss  proportional set size (smaps_rollup): a page shared by k processes counts 1/k in each, so
       the tree's sum counts memory shared inside the tree once (and a library page shared with
       the other rank half).
PSS is read every --pss-interval seconds only (each read walks the page tables: ~10 ms of CPU
for a 500 MB process, which would steal from the measured job). The peak of each sum is
written with the rank's own exact high-water mark (VmHWM of the child, last read before it
exited), the largest number of processes seen in the tree, and getrusage(RUSAGE_CHILDREN)
.ru_maxrss (the largest single descendant's peak, by the kernel). Polling can miss a peak
shorter than the interval; VmHWM cannot, so peak_rss_mib, the figure to compare, is the larger
of the tree's polled peak and the rank process's VmHWM (for a single-process rank: its VmHWM).

On a shared machine something else may renice a long run; reniced_share is the share of polls
that found the child at another niceness than it started with (0 when nothing changed it).

Writes PREFIX.<rank>.json (rank from OMPI_COMM_WORLD_RANK, PMI_RANK or 0), sizes in MiB, and
exits with the child's status. SIGTERM/SIGINT/SIGHUP are passed on to the child.
"""
import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time


def rank_of_env():
    for key in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if os.environ.get(key, "").isdigit():
            return int(os.environ[key])
    return 0


def children(pid):
    """Direct children of pid, from /proc/PID/task/*/children (one file per thread)."""
    kids = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return kids


def tree(root):
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children(pid))
    return pids


def status_kib(pid, keys):
    """Selected 'Key:   N kB' fields of /proc/PID/status, in KiB (missing: absent)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    out[k] = int(v.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def nice_of(pid):
    """The scheduling niceness of pid (field 19 of /proc/PID/stat), None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[16])
    except (OSError, ValueError, IndexError):
        return None


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="writes OUT.<rank>.json")
    p.add_argument("--interval", type=float, default=0.1, help="seconds between polls")
    p.add_argument("--pss-interval", type=float, default=2.0,
                   help="seconds between PSS reads (0 = never): smaps_rollup walks the page tables, "
                        "about 10 ms of CPU for a 500 MB process, so it is read less often than RSS")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        p.error("no command given (peak_mem.py --out PREFIX -- CMD ...)")

    rank = rank_of_env()
    start = time.perf_counter()
    child = subprocess.Popen(cmd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: child.send_signal(s))

    peak_rss = peak_pss = hwm = 0
    max_procs = polls = pss_polls = reniced_polls = 0
    nice_start = nice_of(child.pid)
    next_pss = time.perf_counter() + min(a.pss_interval, 0.5)
    while child.poll() is None:
        rss = pss = 0
        pids = tree(child.pid)
        with_pss = a.pss_interval > 0 and time.perf_counter() >= next_pss
        for pid in pids:
            fields = status_kib(pid, ("VmRSS", "VmHWM"))
            rss += fields.get("VmRSS", 0)
            if pid == child.pid:
                hwm = max(hwm, fields.get("VmHWM", 0))
            if with_pss:
                pss += pss_kib(pid)
        if with_pss:
            peak_pss = max(peak_pss, pss)
            pss_polls += 1
            next_pss = time.perf_counter() + a.pss_interval
        peak_rss = max(peak_rss, rss)
        nice = nice_of(child.pid)
        if nice is not None and nice_start is not None and nice != nice_start:
            reniced_polls += 1
        max_procs = max(max_procs, len(pids))
        polls += 1
        time.sleep(a.interval)
    code = child.wait()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # ru_maxrss in KiB on Linux

    mib = lambda kib: round(kib / 1024.0, 1)
    record = {
        "rank": rank, "cmd": cmd, "exit_code": code, "wall_s": round(time.perf_counter() - start, 3),
        "interval_s": a.interval, "polls": polls,
        "pss_interval_s": a.pss_interval, "pss_polls": pss_polls, "max_processes": max_procs,
        "peak_rss_mib": mib(max(peak_rss, hwm)), "peak_tree_rss_mib": mib(peak_rss),
        "peak_tree_pss_mib": mib(peak_pss) if pss_polls else None,
        "nice_at_start": nice_start, "reniced_share": round(reniced_polls / max(polls, 1), 3),
        "rank_process_hwm_mib": mib(hwm), "largest_descendant_maxrss_mib": mib(usage.ru_maxrss),
    }
    with open(f"{a.out}.{rank}.json", "w") as f:
        json.dump(record, f)
        f.write("\n")
    # A child killed by a signal shows as -N; report it the way a shell would.
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
