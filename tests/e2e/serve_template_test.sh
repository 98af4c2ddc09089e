#!/usr/bin/env bash
# serve_template_test.sh — launch/k8s/serve.yaml without Kubernetes: a Deployment whose
# container runs the image's entrypoint with `serve` and a model, probes on the v2 health
# endpoints at the port the server is told to use, and a Service that reaches that port.
set -euo pipefail
YAML=$(cd "$(dirname "$0")/../.." && pwd)/launch/k8s/serve.yaml
/usr/bin/python3 -c "import yaml" 2>/dev/null || { echo "SKIP: python3-yaml missing"; exit 77; }
/usr/bin/python3 - "$YAML" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
kinds = {d["kind"]: d for d in docs}
assert set(kinds) == {"Deployment", "Service"}, kinds.keys()
dep, svc = kinds["Deployment"], kinds["Service"]
pod = dep["spec"]["template"]
assert dep["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items(), "the Service selects no pod"
c = pod["spec"]["containers"][0]
args = [str(a) for a in c["args"]]
assert args[0] == "serve" and "--model" in args, args
port = int(args[args.index("--port") + 1])
named = {p["name"]: p["containerPort"] for p in c["ports"]}
assert named["http"] == port, (named, port)
assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
assert c["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
for probe in (c["readinessProbe"], c["livenessProbe"]):
    assert probe["httpGet"]["port"] in ("http", port)
assert svc["spec"]["ports"][0]["targetPort"] in ("http", port)
assert pod["spec"]["terminationGracePeriodSeconds"] >= 10
print("ok: serve.yaml: Deployment with v2 health probes on the served port, Service in front")
PY
