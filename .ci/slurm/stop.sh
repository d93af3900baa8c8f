#!/usr/bin/env bash
# Stop the single-host Slurm cluster that .ci/slurm/start.sh started in $SLURM_STATE_DIR
# (default /tmp/mlperf-compliance-slurm): cancel every job, shut down slurmctld and both slurmd, stop munged,
# and wait until their processes are gone. Idempotent: fine when nothing runs.
#
#   .ci/slurm/stop.sh            stop, keep the state folder (logs, saved job state, munge key)
#   .ci/slurm/stop.sh --purge    stop, then delete the state folder
set -euo pipefail

PURGE=0
for arg in "$@"; do
    case "$arg" in
        --purge) PURGE=1 ;;
        -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "stop.sh: unknown argument '$arg' (only --purge)" >&2; exit 2 ;;
    esac
done

STATE=${SLURM_STATE_DIR:-/tmp/mlperf-compliance-slurm}
case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac
RUN="$STATE/run"
CONF="$STATE/etc/slurm.conf"
SOCKET="$RUN/munge.socket"
export SLURM_CONF="$CONF"
export PATH="$PATH:/usr/sbin:/sbin"
WAIT=${SLURM_STOP_TIMEOUT:-30}

say() { printf 'slurm-ci: %s\n' "$*" >&2; }

ours() {  # ours PID: PID is a daemon of this cluster (a stale PID file may name an unrelated process)
    local comm
    comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
    case "$comm" in
        munged) tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline" | grep -qxF -- "--socket=$SOCKET" ;;
        slurmctld | slurmd) tr '\0' '\n' 2>/dev/null <"/proc/$1/environ" | grep -qxF "SLURM_CONF=$CONF" ;;
        *) return 1 ;;
    esac
}

read_pid() {  # read_pid FILE: print the PID in FILE if it names a live daemon of this cluster
    local pid
    [ -s "$1" ] || return 0
    pid=$(cat "$1" 2>/dev/null) || return 0
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && ours "$pid" && echo "$pid"
    return 0
}

alive() {  # alive PID: running (a zombie waiting for PID 1 to reap it counts as gone)
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$st" != Z ] && [ -n "$st" ]
}

wait_gone() {  # wait_gone SECONDS PID...: 0 when all have exited
    local limit=$(($(date +%s) + $1)) p alive_pids
    shift
    while :; do
        alive_pids=
        for p in "$@"; do alive "$p" && alive_pids="$alive_pids $p"; done
        [ -z "$alive_pids" ] && return 0
        [ "$(date +%s)" -lt "$limit" ] || { echo "$alive_pids"; return 1; }
        sleep 0.1
    done
}

terminate() {  # terminate NAME PID...: SIGTERM, then SIGKILL whatever outlives the wait
    local name=$1 left
    shift
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    if ! left=$(wait_gone 10 "$@"); then
        say "$name did not exit on SIGTERM: SIGKILL to$left"
        # shellcheck disable=SC2086
        kill -KILL $left 2>/dev/null || true
        wait_gone 5 $left >/dev/null || say "WARNING: $name PID$left still alive"
    fi
}

if [ ! -d "$STATE" ]; then
    say "nothing to stop: $STATE does not exist"
    exit 0
fi

# The daemons delete their PID files before they have fully exited: read them all first.
CTLD=$(read_pid "$RUN/slurmctld.pid")
SLURMDS=()
for f in "$RUN"/slurmd-*.pid; do
    [ -e "$f" ] || continue
    p=$(read_pid "$f")
    [ -n "$p" ] && SLURMDS+=("$p")
done
MUNGED=$(read_pid "$RUN/munged.pid")

if [ -n "$CTLD" ] && command -v scontrol >/dev/null && [ -f "$SLURM_CONF" ]; then
    jobs=$(squeue -h -o '%A' 2>/dev/null || true)
    if [ -n "$jobs" ]; then
        say "cancelling jobs: $(echo $jobs)"
        # shellcheck disable=SC2086
        scancel $jobs 2>/dev/null || true
        # let the jobs end (SIGTERM, then SIGKILL after KillWait=5 s) while the daemons still run
        for _ in $(seq 150); do
            [ -z "$(squeue -h -o '%A' -t PENDING,RUNNING,SUSPENDED,COMPLETING 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
    say "scontrol shutdown"
    scontrol shutdown >/dev/null 2>&1 || say "scontrol shutdown failed; signalling the daemons"
fi

if [ -z "$CTLD" ] && [ ${#SLURMDS[@]} = 0 ] && [ -z "$MUNGED" ]; then
    say "nothing running in $STATE"
fi
DAEMONS=()
[ -n "$CTLD" ] && DAEMONS+=("$CTLD")
DAEMONS+=("${SLURMDS[@]}")
if [ ${#DAEMONS[@]} -gt 0 ]; then
    if left=$(wait_gone "$WAIT" "${DAEMONS[@]}"); then
        say "slurm daemons stopped"
    else
        # shellcheck disable=SC2086
        terminate "slurm daemons" $left
    fi
fi
# Any slurmstepd left behind (job steps of a node whose slurmd was killed) would keep the spool busy.
for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
    alive "$p" || continue
    tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "SLURM_CONF=$CONF" && terminate slurmstepd "$p"
done

if [ -n "$MUNGED" ]; then
    terminate munged "$MUNGED"
    say "munged stopped"
fi
rm -f "$RUN"/*.pid "$RUN"/munge.socket*

if [ "$PURGE" = 1 ]; then
    if [ -e "$STATE/.mlperf-compliance-slurm" ]; then
        rm -rf "$STATE"
        say "removed $STATE"
    else
        say "not removing $STATE: it lacks the .mlperf-compliance-slurm marker that start.sh writes"
        exit 1
    fi
fi
