#!/usr/bin/env bash
# mpijob_template_test.sh — launch/k8s/mpijob.yaml without a cluster: it parses as a Kubeflow
# MPIJob (kubeflow.org/v2beta1) with no misspelt spec fields, the launcher's mpirun starts
# workers × slotsPerWorker ranks of roost train with --resume auto and an output folder (named
# after the job) on the PVC the workers mount, each worker asks for slotsPerWorker GPUs and
# runs sshd, and the workers' preStop script is valid bash.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
if ! "$PYTHON" -c 'import yaml' 2>/dev/null; then
  echo "SKIP: python3-yaml is not installed (launch/install-deps.sh installs it)"; exit 77
fi
exec "$PYTHON" - "$ROOT/launch/k8s/mpijob.yaml" <<'EOF'
import os, subprocess, sys
import yaml

path = sys.argv[1]
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)

docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
jobs = [d for d in docs if d.get("kind") == "MPIJob"]
if len(jobs) != 1:
    sys.exit(f"FAIL: {path}: expected one MPIJob, found {len(jobs)}")
job = jobs[0]
check(job.get("apiVersion") == "kubeflow.org/v2beta1", f"apiVersion is {job.get('apiVersion')!r}")
name = job["metadata"]["name"]
spec = job["spec"]

# Fields of v2beta1's MPIJobSpec, RunPolicy and ReplicaSpec: a misspelt one would be dropped
# or refused by the API server, not noticed here otherwise.
KNOWN = {
    "spec": {"slotsPerWorker", "runLauncherAsWorker", "runPolicy", "mpiReplicaSpecs",
             "sshAuthMountPath", "launcherCreationPolicy", "mpiImplementation"},
    "runPolicy": {"cleanPodPolicy", "ttlSecondsAfterFinished", "activeDeadlineSeconds",
                  "backoffLimit", "schedulingPolicy", "suspend", "managedBy"},
    "replica": {"replicas", "template", "restartPolicy"},
}
check(set(spec) <= KNOWN["spec"], f"unknown spec fields {sorted(set(spec) - KNOWN['spec'])}")
check(set(spec.get("runPolicy", {})) <= KNOWN["runPolicy"],
      f"unknown runPolicy fields {sorted(set(spec.get('runPolicy', {})) - KNOWN['runPolicy'])}")
replicas = spec["mpiReplicaSpecs"]
check(set(replicas) == {"Launcher", "Worker"}, f"replica types {sorted(replicas)}")
for kind, r in replicas.items():
    check(set(r) <= KNOWN["replica"], f"{kind}: unknown fields {sorted(set(r) - KNOWN['replica'])}")

slots = spec.get("slotsPerWorker")
check(isinstance(slots, int) and slots >= 1, f"slotsPerWorker is {slots!r}")
workers = replicas["Worker"]["replicas"]
check(replicas["Launcher"]["replicas"] == 1, "one launcher")
launcher = replicas["Launcher"]["template"]["spec"]["containers"][0]
worker_pod = replicas["Worker"]["template"]["spec"]
worker = worker_pod["containers"][0]
check(launcher["image"] == worker["image"], "launcher and workers run the same image")

# The launcher: roost launch -np workers×slots ... -- roost[-entrypoint] train ... --resume auto --output-dir DIR
# (roost launch: mpirun, with SIGTERM to the launcher pod relayed to the ranks as a clean stop)
argv = [str(a) for a in launcher.get("command", []) + launcher.get("args", [])]
check(argv[:2] == ["roost", "launch"], f"launcher runs {argv[:2]}, not roost launch")
check("--" in argv, "roost launch has no -- before the ranks' command")
def option(args, name):  # value of --name VALUE or --name=VALUE
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None
np_ = next((option(argv, o) for o in ("-np", "-n", "--np", "-c") if option(argv, o)), None)
check(np_ is not None and int(np_) == workers * slots,
      f"mpirun -np {np_} but {workers} workers × {slots} slots = {workers * slots} GPUs")
train_at = next((i for i in range(len(argv) - 1)
                 if os.path.basename(argv[i]) in ("roost", "roost-entrypoint") and argv[i + 1] == "train"), None)
if train_at is None:
    sys.exit(f"FAIL: the launcher does not run roost train: {' '.join(argv)}")
train = argv[train_at + 2:]
check(option(train, "--resume") == "auto", "roost train lacks --resume auto")
out, data = option(train, "--output-dir"), option(train, "--data-dir")
check(out is not None and data is not None, "roost train lacks --output-dir or --data-dir")

# The shared volume: a PVC mounted in the workers (where the ranks run, rank 0 writing).
pvcs = {v["name"] for v in worker_pod.get("volumes", []) if "persistentVolumeClaim" in v}
mounts = [m["mountPath"] for m in worker.get("volumeMounts", []) if m["name"] in pvcs]
check(bool(mounts), "workers mount no PersistentVolumeClaim")
def on_shared(p):
    return p is not None and any(os.path.commonpath([p, m]) == m for m in mounts)
check(on_shared(out), f"--output-dir {out} is not on the shared volume {mounts}")
check(on_shared(data), f"--data-dir {data} is not on the shared volume {mounts}")
check(out is not None and os.path.basename(out.rstrip("/")) == name,
      f"--output-dir {out} is not named after the job ({name}): a second job would resume the first one's run")

# The workers: slotsPerWorker GPUs each, sshd for mpirun, a valid preStop script.
gpus = worker.get("resources", {}).get("limits", {}).get("nvidia.com/gpu")
check(gpus is not None and int(gpus) == slots, f"worker nvidia.com/gpu limit {gpus} != slotsPerWorker {slots}")
check("sshd" in " ".join(map(str, worker.get("command", []) + worker.get("args", []))), "workers do not run sshd")
pre = worker.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
check(pre[:2] == ["/bin/bash", "-c"] and len(pre) == 3, "workers lack a bash preStop hook")
if len(pre) == 3:
    r = subprocess.run(["bash", "-n", "-c", pre[2]], capture_output=True, text=True)
    check(r.returncode == 0, f"preStop script: {r.stderr.strip()}")
check(worker_pod.get("terminationGracePeriodSeconds", 30) >= 60,
      "terminationGracePeriodSeconds leaves the ranks too little time to checkpoint")

if problems:
    print(f"FAIL: {path}:", *problems, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"ok: {name}: {workers} workers × {slots} GPUs, roost train --resume auto into {out} on the shared PVC")
EOF
