# slurm_cluster.sh — a one-node Slurm cluster on this machine for tests (sourced): munged with
# its own key and socket, slurmctld and slurmd with a private slurm.conf and state folder, all
# under $1, stopped by slurm_cluster_stop. Debian's slurm-wlm 22.05 and munge. Sets SLURM_CONF.
# slurm_cluster_start returns 77 (with a message) where the daemons cannot start.

slurm_cluster_start() {  # dir
  local dir=$1 p
  for p in munged mungekey slurmctld slurmd sbatch scontrol sinfo; do
    command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || { echo "SKIP: $p is not installed"; return 77; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: the Slurm test starts slurmd, which needs root"; return 77; }
  export PATH=$PATH:/usr/sbin
  SLURM_DIR=$dir
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  mungekey --create --keyfile "$dir/munge/munge.key" 2>"$dir/log/mungekey.err" ||
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
  chmod 600 "$dir/munge/munge.key"
  munged --force --key-file "$dir/munge/munge.key" --socket "$dir/munge/munge.sock" \
    --pid-file "$dir/munge/munged.pid" --log-file "$dir/log/munged.log" --seed-file "$dir/munge/munged.seed" ||
    { echo "SKIP: munged does not start: $(tail -3 "$dir/log/munged.log" 2>/dev/null)"; return 77; }

  # Ports from the PID so that two test runs on one machine do not collide.
  local port=$((20000 + ($$ % 20000))) cpus host
  cpus=$(nproc)
  host=$(hostname -s)
  export SLURM_CONF=$dir/slurm.conf
  cat > "$SLURM_CONF" <<CONF
ClusterName=roosttest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=roost Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  slurmctld -c -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 ||
    { echo "SKIP: slurmctld does not start: $(tail -3 "$dir/log/slurmctld.log" "$dir/log/slurmctld.out" 2>/dev/null)"; return 77; }
  slurmd -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 ||
    { echo "SKIP: slurmd does not start: $(tail -3 "$dir/log/slurmd.log" "$dir/log/slurmd.out" 2>/dev/null)"; return 77; }
  local i
  for i in $(seq 60); do
    sinfo -h -o %T 2>/dev/null | grep -qx idle && return 0
    sleep 0.5
  done
  echo "SKIP: the Slurm node did not become idle: $(sinfo 2>&1 | tail -2); $(tail -3 "$dir/log/slurmd.log" 2>/dev/null)"
  return 77
}

slurm_cluster_stop() {
  [ -n "${SLURM_DIR:-}" ] || return 0
  local f
  for f in slurmd slurmctld munge/munged; do
    [ -f "$SLURM_DIR/$f.pid" ] && kill "$(cat "$SLURM_DIR/$f.pid")" 2>/dev/null
  done
  sleep 0.5
  for f in slurmd slurmctld munge/munged; do
    [ -f "$SLURM_DIR/$f.pid" ] && kill -9 "$(cat "$SLURM_DIR/$f.pid")" 2>/dev/null
  done
  return 0
}
