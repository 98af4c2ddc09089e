#!/usr/bin/env bash
# package_lists_test.sh — the Docker images install exactly what launch/install-deps.sh
# installs, without Docker: each docker/Dockerfile* must COPY and RUN launch/install-deps.sh,
# and every other package it installs (apt-get/apt install, dpkg -i) or leaves out of the list
# (install-deps.sh --without) must be named below with the reason. Fails naming each
# difference. Also checks that `install-deps.sh --list` prints the script's PACKAGES list.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" - "$ROOT" <<'EOF'
import fnmatch, glob, os, re, shlex, subprocess, sys

ROOT = sys.argv[1]
DEPS = "launch/install-deps.sh"

# What each image may do beyond the shared list; patterns are fnmatch patterns so that a
# version bump (cuda-toolkit-13-0 -> 13-1) needs no change here.
EXPECT = {
    "docker/Dockerfile.cpu": {"without": {}, "extras": {}},
    "docker/Dockerfile": {
        "without": {
            "libtorch-dev": "Debian's CPU libtorch 1.13; the image builds against a CUDA libtorch "
                            "2.x, whose headers the 1.13 ones in /usr/include would mix with",
        },
        "extras": {
            "ca-certificates": "HTTPS to NVIDIA's apt repository and to pytorch.org (libtorch)",
            "cuda-keyring": "NVIDIA's apt repository: its signing key and source entry",
            "cuda-toolkit-[0-9]*-[0-9]*": "nvcc for roost's kernels; the CUDA libraries libtorch's CMake config needs",
            "libcudnn[0-9]*-dev-cuda-[0-9]*": "cuDNN, which libtorch's CMake config looks for",
            "libnccl-dev": "NCCL gradient allreduce on GPU (ROOST_NCCL=ON)",
        },
    },
}

problems = []

# --- the list: the PACKAGES=( ... ) array as written, and what --list prints ---------------
text = open(os.path.join(ROOT, DEPS)).read()
m = re.search(r"^PACKAGES=\((.*?)^\)", text, re.S | re.M)
if not m:
    sys.exit(f"FAIL: {DEPS}: no PACKAGES=( ... ) list")
written = [w for line in m.group(1).splitlines() for w in line.split("#")[0].split()]
listed = subprocess.run([os.path.join(ROOT, DEPS), "--list"], check=True, capture_output=True,
                        text=True).stdout.split()
if written != listed:
    problems.append(f"{DEPS} --list prints {listed}, but its PACKAGES list is {written}")
LIST = set(written)

# --- a Dockerfile's installs ------------------------------------------------------------------
def instructions(path):
    """(INSTRUCTION, text) pairs, continuation lines joined and comment lines dropped."""
    out, buf = [], ""
    for line in open(os.path.join(ROOT, path)).read().splitlines():
        if re.match(r"\s*#", line) or (not line.strip() and not buf):
            continue
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out

def deb_name(token):  # /tmp/cuda-keyring_1.1-1_all.deb -> cuda-keyring; pkg=1.2 -> pkg
    base = os.path.basename(token)
    if base.endswith(".deb"):
        return base[:-4].split("_")[0]
    return re.split(r"[=/]", token)[0]

OPTIONS_WITH_VALUE = {"-o", "--option", "-t", "--target-release", "-c", "--config-file"}

def simple_commands(run_text):
    lex = shlex.shlex(run_text, posix=True, punctuation_chars=";&|")
    lex.whitespace_split = True
    cmd = []
    for tok in lex:
        if tok and set(tok) <= set(";&|"):
            if cmd:
                yield cmd
            cmd = []
        else:
            cmd.append(tok)
    if cmd:
        yield cmd

def analyse(path):
    args = {}
    copied, deps_runs, installs = False, [], []
    for word, rest in instructions(path):
        if word == "ARG" and "=" in rest:
            k, v = rest.split("=", 1)
            args[k.strip()] = v.strip().strip('"')
        elif word in ("COPY", "ADD"):
            srcs = [s for s in rest.split()[:-1] if not s.startswith("--")]
            copied |= any(s in (DEPS, "launch", "launch/", ".", "./") for s in srcs)
        elif word == "RUN":
            if rest.startswith("["):
                problems.append(f"{path}: exec-form RUN is not checked: {rest}")
                continue
            expanded = re.sub(r"\$\{(\w+)\}|\$(\w+)",
                              lambda m: args.get(m.group(1) or m.group(2), m.group(0)), rest)
            for cmd in simple_commands(expanded):
                while cmd and (re.match(r"^\w+=", cmd[0]) or cmd[0] in ("sudo", "$SUDO", "env")):
                    cmd = cmd[1:]
                if not cmd:
                    continue
                prog = os.path.basename(cmd[0])
                if prog in ("bash", "sh") and len(cmd) > 1:
                    prog, cmd = os.path.basename(cmd[1]), cmd[1:]
                if prog == "install-deps.sh":
                    if not copied:
                        problems.append(f"{path}: runs {DEPS} before copying it into the image")
                    deps_runs.append(cmd[1:])
                elif prog in ("apt-get", "apt", "aptitude") and "install" in cmd:
                    rest_ = cmd[cmd.index("install") + 1:]
                    skip = False
                    for tok in rest_:
                        if skip:
                            skip = False
                        elif tok in OPTIONS_WITH_VALUE:
                            skip = True
                        elif not tok.startswith("-"):
                            installs.append(deb_name(tok))
                elif prog == "dpkg" and ("-i" in cmd or "--install" in cmd):
                    installs += [deb_name(t) for t in cmd if t.endswith(".deb")]
    return deps_runs, installs

dockerfiles = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docker", "Dockerfile*")))
for df in dockerfiles:
    if df not in EXPECT:
        problems.append(f"{df}: not covered by this test: add it to EXPECT with its exceptions")
        continue
    want = EXPECT[df]
    runs, installs = analyse(df)
    if len(runs) != 1:
        problems.append(f"{df}: runs {DEPS} {len(runs)} times, expected once")
        continue
    run = runs[0]
    without = [run[i + 1] for i, a in enumerate(run[:-1]) if a == "--without"]
    unknown_args = [a for i, a in enumerate(run) if a != "--without" and (i == 0 or run[i - 1] != "--without")]
    if unknown_args:
        problems.append(f"{df}: {DEPS} is run with {unknown_args}; only --without PKG belongs there")
    for p in sorted(set(without) - set(want["without"])):
        problems.append(f"{df}: leaves {p} out (--without) with no reason given in this test")
    for p in sorted(set(want["without"]) - set(without)):
        problems.append(f"{df}: should leave {p} out ({want['without'][p]}) but installs it")
    for p in sorted(set(without) - LIST):
        problems.append(f"{df}: --without {p}: not in {DEPS}")
    for p in installs:
        if p in want["without"]:
            problems.append(f"{df}: installs {p}, which it must leave out ({want['without'][p]})")
        elif p in LIST:
            problems.append(f"{df}: installs {p} by itself, which {DEPS} already installs: remove it")
        elif not any(fnmatch.fnmatchcase(p, pat) for pat in want["extras"]):
            problems.append(f"{df}: installs {p}, which {DEPS} does not list: add it there "
                            f"(both images get it), or allow it in this test with the reason")
    for pat in want["extras"]:
        if not any(fnmatch.fnmatchcase(p, pat) for p in installs):
            problems.append(f"{df}: allowed extra {pat} is no longer installed: remove it from this test")
    print(f"{df}: {len(LIST - set(without))} packages from {DEPS}"
          + (f" (less {', '.join(sorted(without))})" if without else "")
          + (f" + {', '.join(sorted(set(installs)))}" if installs else ""))

if problems:
    print("FAIL:", *problems, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(dockerfiles)} Dockerfiles install {DEPS}'s {len(LIST)} packages, exceptions all explained")
EOF
