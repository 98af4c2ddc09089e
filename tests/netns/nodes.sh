#!/usr/bin/env bash
# nodes.sh — several "nodes" on this machine for multi-node tests and benchmarks: each node is a
# network namespace with its own address on a private veth link to a bridge in the root
# namespace, its own UTS hostname and an sshd that listens only on that address. mpirun, run in
# the root namespace (which has an address on the bridge), starts orted on the nodes over ssh.
# The filesystem is shared by all namespaces and stands in for a shared file system. Needs root,
# iproute2 (ip, tc), util-linux (unshare) and openssh (sshd, ssh, ssh-keygen).
#
#   nodes.sh up DIR N [SLOTS] [NETEM...]  N nodes of SLOTS slots (default 2); NETEM words go to
#                                         `tc qdisc add dev VETH root netem ...` on both ends of
#                                         every node's link (e.g. rate 10gbit delay 50us); a
#                                         kernel without netem gets tbf for `rate R` alone
#   nodes.sh kill DIR I                   node I (1-based) dies: every process in it gets SIGKILL,
#                                         then its link goes down; its address is appended to
#                                         DIR/killed
#   nodes.sh down DIR                     everything removed; idempotent, safe after a failed up
#
# up writes into DIR (a path without spaces: it ends up in an ssh command line):
#   hostfile    Open MPI syntax, one `ADDRESS slots=SLOTS` line per node
#   hosts       one address per line, in node order
#   ssh_config  ssh -F file: the client key, the nodes' host keys, batch mode, quick failure
#   env         `source` it: the OMPI_MCA_* settings that keep mpirun, orted and the ranks on
#               the private subnet over ssh
#   state       what down needs (slot, names, subnet), written before anything is created
# plus the keys, each node's sshd_config, pid file and log.
#
# Names and the subnet come from a slot K (1..250) taken under a lock as the lowest one whose
# bridge does not exist: bridge rnK-br, namespaces rnK-nI, veths rnK-hI (root side) and rnK-pI
# (node side), subnet 10.213.K.0/24 with the root namespace at .254 and node I at .I, hostname
# rnK-nodeI. Two harnesses up at once therefore never share a name or an address.
set -euo pipefail

die() { echo "nodes.sh: $*" >&2; exit 1; }
usage() { die "usage: nodes.sh up DIR N [SLOTS] [NETEM...] | kill DIR I | down DIR"; }

SSHD=/usr/sbin/sshd
SELF=$(readlink -f "$0")
LOCK=/run/roost-nodes.lock

# Node I's names, from the state file's K.
ns_of() { echo "rn$K-n$1"; }
host_veth() { echo "rn$K-h$1"; }
node_veth() { echo "rn$K-p$1"; }
addr_of() { echo "10.213.$K.$1"; }

load_state() {  # dir
  [ -f "$1/state" ] || return 1
  # shellcheck disable=SC1091
  source "$1/state"
}

# Takes the lowest free slot and creates its bridge while holding the lock, so a second `up`
# running at the same moment sees the bridge and moves on.
claim_slot() {  # dir
  local dir=$1 k
  exec 9>"$LOCK"
  flock 9
  for k in $(seq 1 250); do
    ip link show "rn$k-br" >/dev/null 2>&1 && continue
    ip -4 addr show | grep -q " 10\.213\.$k\." && continue
    K=$k BRIDGE=rn$k-br SUBNET=10.213.$k.0/24
    printf 'K=%s\nN=%s\nBRIDGE=%s\nSUBNET=%s\n' "$K" "$N" "$BRIDGE" "$SUBNET" > "$dir/state"
    ip link add "$BRIDGE" type bridge
    flock -u 9
    return 0
  done
  flock -u 9
  die "no free slot: 250 harnesses are up (nodes.sh down DIR removes one)"
}

make_keys() {  # dir
  local dir=$1
  rm -f "$dir/id_ed25519" "$dir/id_ed25519.pub"
  ssh-keygen -q -t ed25519 -N '' -C roost-nodes-client -f "$dir/id_ed25519"
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  chmod 600 "$dir/authorized_keys"
  : > "$dir/known_hosts"
}

write_ssh_config() {  # dir
  cat > "$1/ssh_config" <<EOF
Host *
  User root
  IdentityFile $1/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $1/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  ServerAliveInterval 2
  ServerAliveCountMax 3
  LogLevel ERROR
EOF
}

# netem on a device. A kernel without sch_netem (tc: "Specified qdisc kind is unknown") can
# still limit the rate: `rate R` alone becomes tbf (burst 1mb), said on stderr; anything else
# is refused there.
shape() {  # dev netem-words...
  local dev=$1
  shift
  local err
  err=$(tc qdisc add dev "$dev" root netem "$@" 2>&1) && return 0
  [[ $err == *"qdisc kind is unknown"* ]] || die "tc qdisc add dev $dev root netem $*: $err"
  [ $# -eq 2 ] && [ "$1" = rate ] ||
    die "this kernel has no netem qdisc (sch_netem): only 'rate R' can be had here (as tbf), not '$*'"
  echo "nodes.sh: no netem in this kernel: $dev limited by tbf rate $2 burst 1mb latency 100ms" >&2
  tc qdisc add dev "$dev" root tbf rate "$2" burst 1mb latency 100ms
}

# Node I: namespace, veth to the bridge, address, netem, host key and sshd.
make_node() {  # dir i slots netem...
  local dir=$1 i=$2 slots=$3
  shift 3
  local ns hv nv addr
  ns=$(ns_of "$i") hv=$(host_veth "$i") nv=$(node_veth "$i") addr=$(addr_of "$i")
  ip netns add "$ns"
  ip link add "$hv" type veth peer name "$nv"
  ip link set "$nv" netns "$ns"
  ip link set "$hv" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev "$nv"
  ip -n "$ns" link set "$nv" up
  if [ $# -gt 0 ]; then
    shape "$hv" "$@"
    ip netns exec "$ns" "$SELF" __shape "$nv" "$@"
  fi
  rm -f "$dir/host_key_$i" "$dir/host_key_$i.pub"
  ssh-keygen -q -t ed25519 -N '' -C "rn$K-node$i" -f "$dir/host_key_$i"
  echo "$addr $(cut -d' ' -f1,2 "$dir/host_key_$i.pub")" >> "$dir/known_hosts"
  cat > "$dir/sshd_config_$i" <<EOF
ListenAddress $addr
Port 22
HostKey $dir/host_key_$i
PidFile $dir/sshd_$i.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
X11Forwarding no
PrintMotd no
MaxStartups 100:30:200
EOF
  mkdir -p /run/sshd
  "$SSHD" -t -f "$dir/sshd_config_$i" || die "node $i: sshd_config_$i is refused"
  # The hostname is set in a UTS namespace of the node's own: sshd and everything it starts
  # (orted, the ranks) see it, so Open MPI tells the nodes apart.
  ip netns exec "$ns" unshare --uts sh -c "hostname rn$K-node$i && exec $SSHD -f $dir/sshd_config_$i -E $dir/sshd_$i.log"
  echo "$addr slots=$slots" >> "$dir/hostfile"
  echo "$addr" >> "$dir/hosts"
}

write_env() {  # dir
  cat > "$1/env" <<EOF
# Open MPI over ssh to the nodes of $1, on their private subnet only.
export OMPI_MCA_plm_rsh_agent="ssh -F $1/ssh_config"
export OMPI_MCA_plm_rsh_no_tree_spawn=1
export OMPI_MCA_oob_tcp_if_include=$SUBNET
export OMPI_MCA_btl_tcp_if_include=$SUBNET
export OMPI_MCA_btl=self,vader,tcp
export OMPI_MCA_pml=ob1
export OMPI_MCA_osc=^ucx
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ROOST_NODES_DIR=$1
EOF
}

# Every node answers over ssh with its own hostname.
check_nodes() {  # dir
  local dir=$1 i name
  for i in $(seq 1 "$N"); do
    for _ in $(seq 50); do
      name=$(ssh -F "$dir/ssh_config" "$(addr_of "$i")" hostname 2>/dev/null) && break
      sleep 0.1
    done
    [ "${name:-}" = "rn$K-node$i" ] ||
      die "node $i: ssh to $(addr_of "$i") answers '${name:-nothing}' (log: $dir/sshd_$i.log)"
  done
}

cmd_up() {  # dir n [slots] [netem...]
  [ $# -ge 2 ] || usage
  local dir=$1
  N=$2
  local slots=${3:-2}
  shift $(($# >= 3 ? 3 : 2))
  [[ $N =~ ^[1-9][0-9]?$ ]] || die "N must be 1..99, got '$N'"
  [[ $slots =~ ^[1-9][0-9]*$ ]] || die "SLOTS must be a positive integer, got '$slots'"
  [ "$(id -u)" -eq 0 ] || die "needs root (namespaces, veths, sshd)"
  for p in ip tc unshare flock ssh ssh-keygen "$SSHD"; do
    command -v "$p" >/dev/null || die "$p is not installed"
  done
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [[ $dir != *[[:space:]]* ]] || die "DIR must not contain spaces: $dir"
  [ ! -f "$dir/state" ] || die "$dir already holds a harness (nodes.sh down $dir first)"
  UP_DIR=$dir
  trap 'echo "nodes.sh: up failed, removing what it made" >&2; cmd_down "$UP_DIR"' EXIT
  claim_slot "$dir"
  ip addr add "10.213.$K.254/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  make_keys "$dir"
  write_ssh_config "$dir"
  : > "$dir/hostfile"
  : > "$dir/hosts"
  : > "$dir/killed"
  local i
  for i in $(seq 1 "$N"); do make_node "$dir" "$i" "$slots" "$@"; done
  write_env "$dir"
  check_nodes "$dir"
  trap - EXIT
  echo "nodes.sh: $N nodes up on $SUBNET ($(paste -sd' ' "$dir/hosts")), bridge $BRIDGE"
}

# SIGKILL to every process in the namespace until none is left (a process may be forking).
kill_all_in() {  # ns
  local ns=$1 pids
  for _ in $(seq 100); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.05
  done
  echo "nodes.sh: processes left in $ns: $(ip netns pids "$ns" 2>/dev/null | paste -sd' ')" >&2
}

cmd_kill() {  # dir i
  [ $# -eq 2 ] || usage
  load_state "$1" || die "$1 holds no harness (no state file)"
  [[ $2 =~ ^[1-9][0-9]*$ ]] && [ "$2" -le "$N" ] || die "node must be 1..$N, got '$2'"
  local ns
  ns=$(ns_of "$2")
  ip netns pids "$ns" >/dev/null 2>&1 || die "node $2 ($ns) does not exist"
  kill_all_in "$ns"
  ip -n "$ns" link set "$(node_veth "$2")" down 2>/dev/null || true
  ip link set "$(host_veth "$2")" down 2>/dev/null || true
  addr_of "$2" >> "$1/killed"
  echo "nodes.sh: node $2 ($(addr_of "$2")) killed, link down"
}

cmd_down() {  # dir
  [ $# -eq 1 ] || usage
  load_state "$1" || return 0
  local i ns
  for i in $(seq 1 "$N"); do
    ns=$(ns_of "$i")
    if ip netns pids "$ns" >/dev/null 2>&1; then
      kill_all_in "$ns"
      ip netns del "$ns" 2>/dev/null || true
    fi
    ip link del "$(host_veth "$i")" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -f "$1/state"
}

[ $# -ge 1 ] || usage
case $1 in
  up) shift; cmd_up "$@" ;;
  kill) shift; cmd_kill "$@" ;;
  down) shift; cmd_down "$@" ;;
  __shape) shift; shape "$@" ;;  # internal: shape inside a node's namespace
  *) usage ;;
esac
