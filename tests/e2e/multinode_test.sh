#!/usr/bin/env bash
# multinode_test.sh — roost across nodes: two network namespaces on this machine, each a node
# with its own hostname, its own address on a private veth link and an sshd reachable only
# there (tests/netns/nodes.sh); mpirun in the root namespace starts the ranks over ssh, and all
# traffic between the ranks stays on those links (the nodes have no other interface).
# A. `roost submit --target hosts` of 2 nodes × 1 rank completes; the ranks' logs name the two
#    hosts, each alone on its node (MPI_Comm_split_type); the rank-to-rank traffic crossed the
#    links; and every tensor of model.h5 (parameters and BatchNorm buffers) and every loss and
#    accuracy of metrics.jsonl equal, bitwise, those of `mpirun -np 2 roost train` on one node
#    with the same global batch and `--shared-update off`. roost promises that: with two ranks
#    each gradient element is the sum of two numbers, which rounds the same in either order, so
#    the ring over TCP (across nodes) and the shared-memory allreduce (one node) agree.
# B. node lost -> restart: the same run with `--max-restarts 1 --min-np 1` and a discovery
#    script listing the nodes not killed; node 2 is killed (every process SIGKILLed, link down)
#    in epoch 2; the job is launched again with --resume auto on node 1 alone and the run ends
#    Completed with 1 restart in `roost runs show` and its --json. The samples traced
#    (ROOST_TRACE_SAMPLES) show every epoch trained each sample exactly once: the completed
#    epoch on two nodes, and the lost epoch again from its start on one.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/submit_common.sh"
NODES_SH=$(cd "$(dirname "$0")/../netns" && pwd)/nodes.sh

[ "$(id -u)" -eq 0 ] || { echo "SKIP: network namespaces and sshd need root"; exit 77; }
for p in ip tc unshare ssh ssh-keygen /usr/sbin/sshd; do
  command -v "$p" >/dev/null || { echo "SKIP: $p is not installed (launch/install-deps.sh installs it)"; exit 77; }
done
probe=roost-probe-$$
ip netns add "$probe" 2>/dev/null || { echo "SKIP: ip netns add fails here (no CAP_SYS_ADMIN?)"; exit 77; }
ip netns del "$probe"

N=$WORK/nodes
trap '"$NODES_SH" down "$N" || true; rm -rf "$WORK"' EXIT
"$NODES_SH" up "$N" 2 1 > "$WORK/nodes.log" 2>&1 || { cat "$WORK/nodes.log"; fail "nodes.sh up"; }
mapfile -t ADDR < "$N/hosts"
on_nodes() { (source "$N/env" && "$@"); }  # Open MPI set up for the nodes, in a subshell

hosts=$(on_nodes "$MPIRUN" -np 2 --hostfile "$N/hostfile" hostname | sort -u | wc -l)
[ "$hosts" = 2 ] || fail "mpirun -np 2 over the hostfile ran on $hosts distinct host(s), want 2"

make_tiny_dataset "$WORK/data" 16 4 32  # 32 train images: 4 steps of 2 × 4 per epoch
run_dir() { echo "$WS/experiments/mn/runs/$1"; }
# What node 2 sent over its link (the root side of its veth receives it).
link_bytes() { cat "/sys/class/net/rn$(sed -n 's/^K=//p' "$N/state")-h2/statistics/rx_bytes"; }

# --- A. two nodes, then the same global batch on one node ------------------------------------
before=$(link_bytes)
on_nodes "$ROOST" submit --mpirun "$MPIRUN" --experiment mn --workspace "$WS" --target hosts --hostfile "$N/hostfile" \
  --nodes 2 --procs-per-node 1 --wait -- --data-dir "$WORK/data" --epochs 2 --shared-update off "${TINY[@]}" \
  > "$WORK/a.out" 2>&1 || { cat "$WORK/a.out"; fail "submit across 2 nodes exited $?"; }
A=$(run_dir 1)/outputs
grep -q "rank 0 of 2 on host rn[0-9]*-node1, 1 rank(s) on this node" "$A/logs/rank-0.log" ||
  fail "rank 0 is not alone on node 1: $(grep 'on host' "$A/logs/rank-0.log")"
grep -q "rank 1 of 2 on host rn[0-9]*-node2, 1 rank(s) on this node" "$A/logs/rank-1.log" ||
  fail "rank 1 is not alone on node 2: $(grep 'on host' "$A/logs/rank-1.log")"
# Each step's ring sends half the 44.7 MB of ResNet-18 gradients each way; 8 steps at least.
received=$(($(link_bytes) - before))
[ "$received" -gt $((8 * 20000000)) ] || fail "node 2's link carried only $received bytes"

"$MPIRUN" -np 2 "$ROOST" train --data-dir "$WORK/data" --output-dir "$WORK/one" --epochs 2 --shared-update off \
  "${TINY[@]}" > "$WORK/one.out" 2>&1 || { cat "$WORK/one.out"; fail "the one-node run exited $?"; }
"$PYTHON" - "$A" "$WORK/one" <<'PY' || fail "two nodes and one node differ"
import json, sys
import h5py, numpy as np
a, b = (h5py.File(f"{d}/model.h5", "r") for d in sys.argv[1:])
keys = [k.decode() if isinstance(k, bytes) else k for k in a.attrs["keys"]]
differ = [k for k in keys if a[k][()].tobytes() != b[k][()].tobytes()]
assert not differ, f"{len(differ)} of {len(keys)} tensors differ, first {differ[:3]}"
fields = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "best_val_acc", "world_size")
rows = [[{k: r[k] for k in fields} for r in map(json.loads, open(f"{d}/metrics.jsonl"))] for d in sys.argv[1:]]
assert rows[0] == rows[1], rows
print(f"ok: {len(keys)} tensors and {len(rows[0])} epochs of metrics bitwise equal on 2 nodes and on 1")
PY

# --- B. node 2 lost in epoch 2 -> restart on node 1 --------------------------------------------
TRACE=$WORK/trace
mkdir -p "$TRACE"
# The nodes not killed, one slot each. It runs when the job failed and before it is launched
# again, so the trace's length then marks where the restart's samples begin.
cat > "$WORK/discover.sh" <<EOF
#!/bin/sh
cat "$TRACE"/rank-0.txt 2>/dev/null | wc -l >> "$WORK/marks"
grep -vxF -f "$N/killed" "$N/hosts" | sed 's/\$/:1/'
EOF
chmod +x "$WORK/discover.sh"
id=$(on_nodes "$ROOST" submit --mpirun "$MPIRUN" --experiment mn --workspace "$WS" --target hosts \
  --hostfile "$N/hostfile" --nodes 2 --procs-per-node 1 --max-restarts 1 --min-np 1 --max-np 2 \
  --host-discovery-script "$WORK/discover.sh" --mpirun-arg=-x --mpirun-arg=ROOST_TRACE_SAMPLES="$TRACE" -- \
  --data-dir "$WORK/data" --epochs 3 "${TINY[@]}") || fail "submit with restarts"
for _ in $(seq 900); do
  grep -q "epoch 2/3 step 2/" "$(run_dir "$id")/logs/rank-0.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "epoch 2/3 step 2/" "$(run_dir "$id")/logs/rank-0.log" || fail "run $id never reached epoch 2 step 2"
"$NODES_SH" kill "$N" 2 > /dev/null
wait_status "$id" Completed 120
"$ROOST" runs show "$id" --workspace "$WS" > "$WORK/show"
grep -q "^restarts: *1$" "$WORK/show" || fail "runs show gives no restart count: $(cat "$WORK/show")"
grep -q "restart 1 of 1: node ${ADDR[1]} was lost .*np 1 on ${ADDR[0]}" "$WORK/show" || fail "runs show: $(cat "$WORK/show")"
grep -A1 "^restarts:" "$WORK/show"
"$ROOST" runs show "$id" --workspace "$WS" --json | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
notes = [e["note"] for e in d["history"] if e.get("note", "").startswith("restart ")]
assert d["restarts"] == 1 and len(notes) == 1 and d["status"] == "Completed", (d["restarts"], notes, d["status"])
' || fail "runs show --json"
[ "$(db "SELECT count(*) FROM metrics WHERE run_id = $id")" = 3 ] || fail "run $id: not 3 epochs of metrics"

"$PYTHON" - "$TRACE" "$(tail -1 "$WORK/marks")" <<'PY' || fail "samples across the restart"
import collections, sys
trace, mark = sys.argv[1], int(sys.argv[2])
n = 32
def read(rank):
    return [tuple(map(int, l.split())) for l in open(f"{trace}/rank-{rank}.txt")]
r0, r1 = read(0), read(1)
before, after = r0[:mark] + r1, r0[mark:]
lost = max(e for e, _ in before)  # the epoch node 2 died in (0-based)
assert lost == 1, f"the kill came in epoch {lost + 1}, expected 2"
def once(pairs, epoch, who):
    c = collections.Counter(i for e, i in pairs if e == epoch)
    assert sorted(c) == list(range(n)) and set(c.values()) == {1}, f"{who}, epoch {epoch + 1}: {sorted(c.items())}"
once(before, 0, "two nodes")
partial = sum(1 for e, _ in before if e == lost)
assert 0 < partial < n, f"epoch 2 before the kill trained {partial} samples"
assert min(e for e, _ in after) == lost, "the restart did not begin with the lost epoch"
for e in range(lost, 3):
    once(after, e, "one node after the restart")
print(f"ok: epoch 1 on two nodes, epoch 2 ({partial} samples before the kill) and 3 again on one, each sample once")
PY
echo "ok: multinode"
