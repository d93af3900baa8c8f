#!/bin/sh
# The batch job of one mlperf-compliance run (compliance/pipeline/launch/slurm/job.sh; docs/slurm.md).
# Every value of the run (paths, the command, its environment, the audit.config, the sentences it prints) comes in
# the environment as data, MLPERF_COMPLIANCE_JOB_*: nothing of it is ever part of this script's code.
# It takes the run's locks on its node, stages the audit.config by the rules of compliance/pipeline/staging.py,
# runs the command, removes the audit.config on every way out a shell can catch, and writes what happened to its
# status file (ids and numbers only: compliance/pipeline/launch/slurm/endings.py).
if [ -n "${MLPERF_COMPLIANCE_JOB_OUTPUT:-}" ]; then
    exec >"$MLPERF_COMPLIANCE_JOB_OUTPUT" 2>&1  # a path sbatch --output cannot name (it holds a backslash)
fi
JOB_PID= JOB_RC= JOB_FAILED=
STAGE_HOST=${SLURMD_NODENAME:-$(hostname)}  # the Slurm node (several may share a host)
job_now() { date "+%Y-%m-%d %H:%M:%S"; }
job_say() { printf 'mlperf-compliance: %s\n' "$*"; }

@STAGE@

job_finish() {  # the one way out: remove our audit.config, then write the status (atomically)
    trap '' TERM INT HUP
    stage_out
    {
        echo "job=${SLURM_JOB_ID:-}"
        echo "node=$STAGE_HOST"
        echo "host=$(hostname)"
        [ -z "$JOB_RC" ] || echo "exit=$JOB_RC"
        [ "$1" = exit ] || echo "signal=$1"
        [ -z "$STAGE_REFUSED" ] || echo "refused=$STAGE_REFUSED"
        [ -z "$STAGE_FAILED$JOB_FAILED" ] || echo "failed=$STAGE_FAILED$JOB_FAILED"
        [ -z "$STAGE_AFTERMATH" ] || echo "aftermath=$STAGE_AFTERMATH"
        echo "audit=$STAGE_AUDIT"
    } >"$MLPERF_COMPLIANCE_JOB_STATUS.$$" && mv -f "$MLPERF_COMPLIANCE_JOB_STATUS.$$" "$MLPERF_COMPLIANCE_JOB_STATUS"
}

job_signal() {  # $1 $2: the signal's name and number (scancel, the time limit and preemption send TERM)
    job_say "the job got SIG$1 on $STAGE_HOST at $(job_now); stopping the command and removing the audit.config"
    [ -z "$JOB_PID" ] || kill -TERM "$JOB_PID" 2>/dev/null
    job_finish "$1"
    exit $((128 + $2))
}
trap 'job_signal TERM 15' TERM
trap 'job_signal INT 2' INT
trap 'job_signal HUP 1' HUP

job_fail() {  # $1 the id of a check of the job's own (endings.JOB_FAILURES), $2 what to print
    JOB_FAILED=$1
    job_say "$2"
    job_finish exit
    exit @EXIT_SETUP@
}

job_lock_file() {  # $1: a lock file, made (mode 0666 whatever the umask, never over another) unless there
    stage_there "$1" || ( umask 0; set -C; : >"$1" ) 2>/dev/null
    [ -f "$1" ] && [ ! -L "$1" ]
}

job_lock() {  # $1 the descriptor open on the lock file $2, which protects $3 (as compliance/pipeline/locks.py)
    if ! flock -n "$1"; then
        printf 'mlperf-compliance: waiting for the %s: held by ' "$3"
        head -c 300 "$2" 2>/dev/null
        echo
        flock "$1"
    fi
    printf '{"label": %s, "pid": %s, "since": "%s", "job": "%s"}' "$MLPERF_COMPLIANCE_JOB_LABEL_JSON" "$$" \
        "$(job_now)" "${SLURM_JOB_ID:-}" 2>/dev/null >"$2" || :  # the holder's note, where this user may write
}

job_say "Slurm job ${SLURM_JOB_ID:-?} of $MLPERF_COMPLIANCE_JOB_LABEL on $STAGE_HOST, $(job_now)"
if ! command -v sha256sum >/dev/null 2>&1; then
    job_fail no-sha256sum "sha256sum is not on PATH on $STAGE_HOST: the job cannot tell its audit.config"
fi
if ! command -v flock >/dev/null 2>&1; then
    job_say "warning: no flock on $STAGE_HOST: the run locks are not taken"
else
    JOB_LOCKS=$MLPERF_COMPLIANCE_JOB_LOCK_DIR
    if ! [ -d "$JOB_LOCKS" ]; then
        mkdir -p "$JOB_LOCKS" 2>/dev/null && chmod 1777 "$JOB_LOCKS" 2>/dev/null
    fi
    job_lock_file "$MLPERF_COMPLIANCE_JOB_LOCK_SYSTEM" && command exec 8<"$MLPERF_COMPLIANCE_JOB_LOCK_SYSTEM" \
        || job_fail lock-system "cannot open or create the lock file $MLPERF_COMPLIANCE_JOB_LOCK_SYSTEM on $STAGE_HOST"
    job_lock 8 "$MLPERF_COMPLIANCE_JOB_LOCK_SYSTEM" "$MLPERF_COMPLIANCE_JOB_LOCK_SYSTEM_WHAT"
    job_lock_file "$MLPERF_COMPLIANCE_JOB_LOCK_WORKDIR" && command exec 9<"$MLPERF_COMPLIANCE_JOB_LOCK_WORKDIR" \
        || job_fail lock-workdir "cannot open or create the lock file $MLPERF_COMPLIANCE_JOB_LOCK_WORKDIR on $STAGE_HOST"
    job_lock 9 "$MLPERF_COMPLIANCE_JOB_LOCK_WORKDIR" "$MLPERF_COMPLIANCE_JOB_LOCK_WORKDIR_WHAT"
fi

stage_in
case $? in
    0) ;;
    1)
        printf 'mlperf-compliance: refused: '
        printenv "MLPERF_COMPLIANCE_JOB_RULE_$STAGE_INDEX"
        job_finish exit
        exit @EXIT_REFUSED@
        ;;
    *)
        printf 'mlperf-compliance: '
        printenv "MLPERF_COMPLIANCE_JOB_RULE_$STAGE_INDEX"
        job_finish exit
        exit @EXIT_SETUP@
        ;;
esac

printf '%s\n' "$MLPERF_COMPLIANCE_JOB_SHOWN"
date +%s >"$MLPERF_COMPLIANCE_JOB_STARTED.$$" && mv -f "$MLPERF_COMPLIANCE_JOB_STARTED.$$" "$MLPERF_COMPLIANCE_JOB_STARTED"
# The command, in a subshell: the spec's environment (MLPERF_COMPLIANCE_JOB_ENV_<NAME>, names listed in
# MLPERF_COMPLIANCE_JOB_ENV_NAMES, each a checked identifier) is set there, and the job's own data is dropped.
(
    for job_name in $MLPERF_COMPLIANCE_JOB_ENV_NAMES; do
        case $job_name in *[!A-Za-z0-9_]* | [0-9]* | '') continue ;; esac
        job_value=$(printenv "MLPERF_COMPLIANCE_JOB_ENV_$job_name")
        export "$job_name=$job_value"
    done
    job_command=$MLPERF_COMPLIANCE_JOB_COMMAND
    for job_name in $(env | sed -n 's/^\(MLPERF_COMPLIANCE_JOB_[A-Za-z0-9_]*\)=.*/\1/p'); do
        unset "$job_name"
    done
    exec /bin/sh -c "$job_command"
) </dev/null &
JOB_PID=$!
wait "$JOB_PID"
JOB_RC=$?
JOB_PID=
job_finish exit
exit "$JOB_RC"
