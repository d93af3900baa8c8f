#!/usr/bin/env bash
# Check, on a cluster that .ci/slurm/start.sh has started, the behaviours the pipeline relies on:
#   1. two exclusive jobs pinned to node1 and node2 run in parallel;
#   2. scancel of a running job: state CANCELLED, its processes get SIGTERM, a daemonised child dies too
#      (with proctrack/cgroup; with proctrack/linuxproc that part is only reported);
#   3. scontrol show job -o gives JobState and ExitCode of finished jobs (exit 3 -> FAILED, ExitCode=3:0);
#   4. submit-to-completion latency of a trivial job when polling scontrol every 0.2 s.
# Usage: eval "$(.ci/slurm/start.sh | tail -n1)"; .ci/slurm/verify.sh [LATENCY_RUNS]
set -euo pipefail

: "${SLURM_CONF:?run: eval \"\$(.ci/slurm/start.sh | tail -n1)\" first}"
RUNS=${1:-10}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slurm-verify.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILS=0

ok() { printf 'PASS %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; FAILS=$((FAILS + 1)); }
now() { date +%s.%N; }
field() { scontrol show job -o "$1" | grep -oE "(^| )$2=[^ ]*" | cut -d= -f2-; }  # field JOBID NAME

wait_state() {  # wait_state JOBID REGEX SECONDS: poll every 0.2 s until JobState matches; print it
    local limit=$(($(date +%s) + $3)) s=
    until [[ "$s" =~ ^($2)$ ]]; do
        [ "$(date +%s)" -lt "$limit" ] || { echo "${s:-unknown}"; return 1; }
        sleep 0.2
        s=$(field "$1" JobState 2>/dev/null) || s=
    done
    echo "$s"
}
FINAL='COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED'

# ---------------------------------------------------------------- 1. parallel exclusive jobs
ids=()
for n in node1 node2; do
    ids+=("$(sbatch --parsable --exclusive -w "$n" -J "par-$n" -o "$WORK/par-$n.out" --wrap \
        "date +%s.%N > '$WORK/$n.start'; sleep 3; date +%s.%N > '$WORK/$n.end'")")
done
for id in "${ids[@]}"; do wait_state "$id" "$FINAL" 60 >/dev/null || true; done
if [ -s "$WORK/node1.end" ] && [ -s "$WORK/node2.end" ]; then
    read -r s1 <"$WORK/node1.start"; read -r e1 <"$WORK/node1.end"
    read -r s2 <"$WORK/node2.start"; read -r e2 <"$WORK/node2.end"
    overlap=$(awk -v a="$s1" -v b="$e1" -v c="$s2" -v d="$e2" \
        'BEGIN{lo=(a>c?a:c); hi=(b<d?b:d); printf "%.2f", hi-lo}')
    span=$(awk -v a="$s1" -v b="$e1" -v c="$s2" -v d="$e2" \
        'BEGIN{lo=(a<c?a:c); hi=(b>d?b:d); printf "%.2f", hi-lo}')
    msg="node1 $(awk -v a="$s1" -v b="$e1" 'BEGIN{printf "%.3f-%.3f", a, b}'), node2 $(awk -v a="$s2" -v b="$e2" 'BEGIN{printf "%.3f-%.3f", a, b}'): overlap ${overlap}s, both done within ${span}s"
    if awk -v o="$overlap" 'BEGIN{exit !(o > 2.5)}'; then ok "parallel: $msg"; else bad "parallel: $msg"; fi
else
    bad "parallel: the jobs did not both run (${ids[*]}: $(field "${ids[0]}" JobState) $(field "${ids[1]}" JobState))"
fi

# ---------------------------------------------------------------- 2. scancel of a running job
cat >"$WORK/cancel.sh" <<EOF
#!/bin/bash
trap 'echo TERM > "$WORK/cancel.term"; exit 143' TERM
# a daemonised grandchild: own session, and its parent (the subshell) exits at once, so it is reparented
( setsid sleep 300 </dev/null >/dev/null 2>&1 & echo \$! > "$WORK/cancel.child" )
touch "$WORK/cancel.running"
sleep 300 & wait \$!
EOF
id=$(sbatch --parsable -J cancel -o "$WORK/cancel.out" "$WORK/cancel.sh")
for _ in $(seq 150); do [ -e "$WORK/cancel.running" ] && break; sleep 0.1; done
t0=$(now)
scancel "$id"
state=$(wait_state "$id" "$FINAL" 30) || true
t1=$(now)
for _ in $(seq 20); do [ -e "$WORK/cancel.term" ] && break; sleep 0.1; done
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
[ "$state" = CANCELLED ] && ok "scancel: job $id CANCELLED after ${took}s" || bad "scancel: job $id state $state"
[ -s "$WORK/cancel.term" ] && ok "scancel: the job's trap saw SIGTERM" || bad "scancel: no SIGTERM seen by the job"
# JobState can read CANCELLED before the job's processes are gone (here up to about 1.8 s earlier):
# give them KillWait (5 s) and a margin.
child=$(cat "$WORK/cancel.child" 2>/dev/null || true)
for _ in $(seq 100); do { [ -n "$child" ] && kill -0 "$child" 2>/dev/null; } || break; sleep 0.1; done
gone=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}')
proctrack=$(scontrol show config | awk '/^ProctrackType/{print $3}')
if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    if [ "$proctrack" = proctrack/cgroup ]; then bad "scancel: daemonised child $child survived ($proctrack)"
    else echo "NOTE scancel: daemonised child $child survived ($proctrack cannot follow it)"; fi
    kill "$child" 2>/dev/null || true
else
    ok "scancel: daemonised child killed too, ${gone}s after scancel ($proctrack)"
fi

# ---------------------------------------------------------------- 3. exit codes
id_ok=$(sbatch --parsable -J exit0 -o /dev/null --wrap 'exit 0')
id_bad=$(sbatch --parsable -J exit3 -o /dev/null --wrap 'exit 3')
s_ok=$(wait_state "$id_ok" "$FINAL" 30) || true
s_bad=$(wait_state "$id_bad" "$FINAL" 30) || true
line=$(scontrol show job -o "$id_bad" | grep -oE 'JobState=[^ ]+|ExitCode=[^ ]+' | tr '\n' ' ')
[ "$s_bad" = FAILED ] && [ "$(field "$id_bad" ExitCode)" = 3:0 ] \
    && ok "exit 3: job $id_bad $line" || bad "exit 3: job $id_bad $line"
line=$(scontrol show job -o "$id_ok" | grep -oE 'JobState=[^ ]+|ExitCode=[^ ]+' | tr '\n' ' ')
[ "$s_ok" = COMPLETED ] && [ "$(field "$id_ok" ExitCode)" = 0:0 ] \
    && ok "exit 0: job $id_ok $line" || bad "exit 0: job $id_ok $line"

# ---------------------------------------------------------------- 4. latency
lat=()
for _ in $(seq "$RUNS"); do
    t0=$(now)
    id=$(sbatch --parsable -o /dev/null --wrap true)
    s=$(wait_state "$id" "$FINAL" 30) || true
    t1=$(now)
    [ "$s" = COMPLETED ] || bad "latency: job $id ended $s"
    lat+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')")
done
printf '%s\n' "${lat[@]}" | sort -n | awk '{v[NR]=$1; s+=$1} END{printf "INFO latency of a trivial job, submit to COMPLETED seen (poll 0.2 s), %d runs: min %.2f s, median %.2f s, max %.2f s, mean %.2f s\n", NR, v[1], v[int((NR+1)/2)], v[NR], s/NR}'

[ "$FAILS" = 0 ] && echo "all checks passed" || { echo "$FAILS check(s) failed"; exit 1; }
