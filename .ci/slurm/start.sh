#!/usr/bin/env bash
# Start a single-host Slurm cluster of two simulated nodes (node1, node2) for tests and CI.
#
# Idempotent: when the cluster in $SLURM_STATE_DIR is already up and healthy it only prints the env line.
# Every piece of state (config, munge key, sockets, PID files, logs, spool, saved state) lives in
# $SLURM_STATE_DIR (default /tmp/mlperf-compliance-slurm). Progress goes to stderr; stdout carries one line,
#   export SLURM_CONF=<path>
# so a caller can do: eval "$(.ci/slurm/start.sh | tail -n1)"
#
# Optional settings: SLURM_PORT_BASE (default 16817: controller on it, node1 and node2 on the next two ports),
# SLURM_PROCTRACK (force a ProctrackType, e.g. proctrack/linuxproc), SLURM_START_TIMEOUT (seconds, default 60).
set -euo pipefail

STATE=${SLURM_STATE_DIR:-/tmp/mlperf-compliance-slurm}
PORT_BASE=${SLURM_PORT_BASE:-16817}
TIMEOUT=${SLURM_START_TIMEOUT:-60}
NODES=(node1 node2)
export PATH="$PATH:/usr/sbin:/sbin"
umask 022   # munged refuses group- or world-writable folders for its key, socket and logs

case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac
CONF="$STATE/etc/slurm.conf"
RUN="$STATE/run"
LOG="$STATE/log"
SOCKET="$RUN/munge.socket"
export SLURM_CONF="$CONF"

say() { printf 'slurm-ci: %s\n' "$*" >&2; }

show_logs() {
    local f
    for f in "$LOG"/munged.log "$LOG"/slurmctld.log "$LOG"/slurmd-*.log "$LOG"/*.stderr; do
        [ -s "$f" ] || continue
        printf '\n===== last lines of %s =====\n' "$f" >&2
        tail -n 25 "$f" >&2
    done
}

die() {
    printf 'slurm-ci: ERROR: %s\n' "$*" >&2
    show_logs
    printf 'slurm-ci: state is in %s; run .ci/slurm/stop.sh to clean up\n' "$STATE" >&2
    exit 1
}

emit_env() { printf 'export SLURM_CONF=%q\n' "$CONF"; }

ours() {  # ours PID: PID is a daemon of this cluster (a stale PID file may name an unrelated process)
    local comm
    comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
    case "$comm" in
        munged) tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline" | grep -qxF -- "--socket=$SOCKET" ;;
        slurmctld | slurmd) tr '\0' '\n' 2>/dev/null <"/proc/$1/environ" | grep -qxF "SLURM_CONF=$CONF" ;;
        *) return 1 ;;
    esac
}

pid_alive() {  # pid_alive FILE: the PID in FILE names a live daemon of this cluster
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && ours "$pid"
}

node_states() {  # "node1 idle" lines, one per node
    sinfo -h -N -o '%N %t' 2>/dev/null | sort -u
}

all_nodes_usable() {  # every node up (idle, allocated, mixed, completing), none down or drained
    local states n
    states=$(node_states) || return 1
    for n in "${NODES[@]}"; do
        grep -Eq "^$n (idle|alloc|mix|comp)$" <<<"$states" || return 1
    done
}

all_nodes_idle() {
    local states n
    states=$(node_states) || return 1
    for n in "${NODES[@]}"; do
        grep -Eq "^$n idle$" <<<"$states" || return 1
    done
}

healthy() {
    local n
    [ -f "$CONF" ] || return 1
    pid_alive "$RUN/munged.pid" || return 1
    pid_alive "$RUN/slurmctld.pid" || return 1
    for n in "${NODES[@]}"; do pid_alive "$RUN/slurmd-$n.pid" || return 1; done
    scontrol ping 2>/dev/null | grep -q 'is UP' || return 1
    all_nodes_usable
}

# ---------------------------------------------------------------- already running?
if command -v sbatch >/dev/null && healthy; then
    say "cluster in $STATE is already up"
    emit_env
    exit 0
fi

# ---------------------------------------------------------------- packages
if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v munged >/dev/null || ! command -v mungekey >/dev/null; then
    say "installing slurm-wlm and munge"
    t0=$(date +%s.%N)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2 || die "apt-get update failed"
    apt-get install -y --no-install-recommends slurm-wlm munge >&2 || die "apt-get install slurm-wlm munge failed"
    say "installed in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
    for c in sbatch slurmctld slurmd munged mungekey; do command -v "$c" >/dev/null || die "$c missing after install"; done
fi

T_START=$(date +%s.%N)
elapsed() { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }

# A half-running cluster (a daemon died, a node is down) is stopped first and started anew.
if compgen -G "$RUN/*.pid" >/dev/null; then
    say "cluster in $STATE is not healthy: stopping what is left of it, then starting it anew"
    "$(dirname "$0")/stop.sh" >&2 || die "stop.sh failed"
fi

# ---------------------------------------------------------------- folders
mkdir -p "$STATE"/{etc,state,smoke} "$LOG" "$RUN"
for n in "${NODES[@]}"; do mkdir -p "$STATE/spool/$n"; done
touch "$STATE/.mlperf-compliance-slurm"   # marks the folder as ours, so stop.sh --purge may delete it
mkdir -p "$STATE/munge"
chmod 0700 "$STATE/munge"
chmod 0755 "$STATE" "$RUN"   # munged refuses a socket whose folder is not 0755 ("Socket is inaccessible")
# munged also checks every folder above the socket: none may be writable by others without the sticky bit

# ---------------------------------------------------------------- config
if [ -n "${SLURM_PROCTRACK:-}" ]; then
    PROCTRACK=$SLURM_PROCTRACK
elif [ -d /sys/fs/cgroup ] && [ -w /sys/fs/cgroup ]; then
    PROCTRACK=proctrack/cgroup
else
    PROCTRACK=proctrack/linuxproc   # /sys/fs/cgroup is read-only (or absent): no cgroup process tracking
fi

HW=$(slurmd -C 2>/dev/null | head -n1) || die "slurmd -C failed"
# "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
HW=$(sed -E 's/^NodeName=[^ ]+ *//' <<<"$HW")
[[ "$HW" == *CPUs=* ]] || die "could not read the hardware from 'slurmd -C'"
HOST=$(hostname -s)

{
    cat <<EOF
# Written by .ci/slurm/start.sh: a two-node cluster on one host, all state in $STATE
ClusterName=mlperf-ci
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT_BASE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=$PROCTRACK
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.txt
MinJobAge=3600
KillWait=5
InactiveLimit=0
ReturnToService=2
MailProg=/bin/true
EOF
    port=$PORT_BASE
    for n in "${NODES[@]}"; do
        port=$((port + 1))
        echo "NodeName=$n NodeHostname=$HOST NodeAddr=127.0.0.1 Port=$port $HW State=UNKNOWN"
    done
    echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=EXCLUSIVE"
} >"$CONF.new"
mv "$CONF.new" "$CONF"

# Without a cgroup.conf every job step fails, yet the job reads COMPLETED 0:0: always write one.
cat >"$STATE/etc/cgroup.conf" <<EOF
CgroupPlugin=autodetect
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF

# ---------------------------------------------------------------- munge
[ -s "$STATE/munge/munge.key" ] || mungekey -c -k "$STATE/munge/munge.key" >&2 || die "mungekey -c failed"
chmod 0600 "$STATE/munge/munge.key"
rm -f "$SOCKET" "$SOCKET.lock"
munged --key-file="$STATE/munge/munge.key" --socket="$SOCKET" --pid-file="$RUN/munged.pid" \
    --log-file="$LOG/munged.log" --seed-file="$STATE/munge/munge.seed" \
    </dev/null >"$LOG/munged.stderr" 2>&1 || die "munged did not start"
for _ in $(seq 50); do [ -S "$SOCKET" ] && break; sleep 0.1; done
[ -S "$SOCKET" ] || die "munged socket $SOCKET did not appear"
munge -n --socket="$SOCKET" | unmunge --socket="$SOCKET" >/dev/null 2>&1 || die "munge round trip failed"

# ---------------------------------------------------------------- slurm daemons
deadline=$(($(date +%s) + TIMEOUT))
slurmctld </dev/null >"$LOG/slurmctld.stderr" 2>&1 || die "slurmctld did not start"
# slurmd registers at once with a controller that answers, but retries only after a pause: start it second.
until scontrol ping 2>/dev/null | grep -q 'is UP'; do
    [ "$(date +%s)" -lt "$deadline" ] || die "slurmctld did not answer 'scontrol ping' within ${TIMEOUT}s"
    sleep 0.05
done
say "slurmctld up after $(elapsed) s"
for n in "${NODES[@]}"; do
    slurmd -N "$n" </dev/null >"$LOG/slurmd-$n.stderr" 2>&1 || die "slurmd -N $n did not start"
done
until all_nodes_idle; do
    [ "$(date +%s)" -lt "$deadline" ] || die "nodes not idle within ${TIMEOUT}s: $(node_states | tr '\n' ' ')"
    if [ "$(date +%s)" -gt $((deadline - TIMEOUT + 5)) ]; then  # past the first 5 s, a missing daemon is fatal
        for n in "${NODES[@]}"; do pid_alive "$RUN/slurmd-$n.pid" || die "slurmd -N $n is not running"; done
    fi
    sleep 0.1
done
say "both nodes idle after $(elapsed) s"

# ---------------------------------------------------------------- smoke test
# One job per node writes a file. A job can read COMPLETED 0:0 although its command never ran (missing
# cgroup.conf), so the file, not the state, is the proof.
declare -A JOB
for n in "${NODES[@]}"; do
    out="$STATE/smoke/$n.ok"
    rm -f "$out"
    JOB[$n]=$(sbatch --parsable -w "$n" -J "smoke-$n" -o "$STATE/smoke/%j.out" \
        --wrap "echo ran on \$SLURMD_NODENAME > '$out.tmp' && mv '$out.tmp' '$out'") \
        || die "sbatch of the smoke job on $n failed"
    JOB[$n]=${JOB[$n]%%;*}
done
for n in "${NODES[@]}"; do
    state=
    until [[ "$state" =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)$ ]]; do
        [ "$(date +%s)" -lt "$deadline" ] || die "smoke job ${JOB[$n]} on $n did not finish within ${TIMEOUT}s (state ${state:-unknown})"
        sleep 0.2
        state=$(scontrol show job -o "${JOB[$n]}" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | cut -d= -f2) || state=
    done
    [ "$state" = COMPLETED ] || die "smoke job ${JOB[$n]} on $n ended $state: $(scontrol show job -o "${JOB[$n]}" 2>&1)"
    [ -s "$STATE/smoke/$n.ok" ] || die "smoke job ${JOB[$n]} on $n reads COMPLETED but its command did not run"
done
say "smoke jobs ran on ${NODES[*]}; cluster ready after $(elapsed) s (ProctrackType=$PROCTRACK)"
emit_env
