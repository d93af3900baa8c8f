# -- staging: the checks of compliance/pipeline/staging.py (its Check), one function each, stage_<check>; each
#    returns 0 when it fires (its rule's outcome follows), as CHECKS there. stage_in and stage_out, generated from
#    the table RULES, apply the rules in its order. Every value is data: MLPERF_COMPLIANCE_JOB_* in the environment.
STAGE_W=$MLPERF_COMPLIANCE_JOB_WORKDIR
STAGE_REFUSED= STAGE_FAILED= STAGE_AFTERMATH= STAGE_PLACED= STAGE_INDEX= STAGE_AUDIT=none
stage_sha() { sha256sum <"$1" 2>/dev/null | cut -d" " -f1; }
stage_there() { [ -e "$1" ] || [ -L "$1" ]; }  # anything by that name, a dangling symbolic link included

stage_foreign_folder() {  # the folder exists without our marker
    stage_there "$STAGE_W" && ! stage_there "$STAGE_W/$MLPERF_COMPLIANCE_JOB_MARKER"
}

stage_make_folder() {  # the folder cannot be made (isolated: afresh, with our marker) and entered
    if [ -n "$MLPERF_COMPLIANCE_JOB_ISOLATED" ]; then
        { ! stage_there "$STAGE_W" || rm -rf "$STAGE_W"; } 2>/dev/null \
            && mkdir -p "$STAGE_W" 2>/dev/null \
            && printf '%s\n' "$MLPERF_COMPLIANCE_JOB_MARKER_TEXT" >"$STAGE_W/$MLPERF_COMPLIANCE_JOB_MARKER" \
            && cd "$STAGE_W" 2>/dev/null && return 1
        return 0
    fi
    mkdir -p "$STAGE_W" 2>/dev/null && cd "$STAGE_W" 2>/dev/null && return 1
    return 0
}

stage_stale() {  # $1 holds a text this project recorded placing here (an interrupted run left it): removed
    [ -f "$STAGE_W/$1" ] && [ ! -L "$STAGE_W/$1" ] || return 1
    stage_old=$(stage_sha "$STAGE_W/$1")
    [ -n "$stage_old" ] && grep -qF "$stage_old" "$MLPERF_COMPLIANCE_JOB_RECORD" 2>/dev/null || return 1
    rm -f "$STAGE_W/$1"
}

stage_present() {  # something named $1 is there
    stage_there "$STAGE_W/$1"
}

stage_place() {  # our text cannot be written to $1 (a temporary file in the folder, then a rename)
    stage_tmp="$STAGE_W/.$1.mlperf-compliance.$$"
    if printf '%s' "$MLPERF_COMPLIANCE_JOB_AUDIT_TEXT" >"$stage_tmp" 2>/dev/null && mv -f "$stage_tmp" "$STAGE_W/$1"
    then
        STAGE_PLACED=1
        return 1
    fi
    rm -f "$stage_tmp"
    return 0
}

stage_replaced() {  # $1 no longer holds our text (left, and said); else it is removed
    if ! stage_there "$STAGE_W/$1"; then
        STAGE_AUDIT=absent
        return 1
    fi
    if [ ! -L "$STAGE_W/$1" ] && [ "$(stage_sha "$STAGE_W/$1")" = "$MLPERF_COMPLIANCE_JOB_OURS" ]; then
        rm -f "$STAGE_W/$1" && STAGE_AUDIT=removed
        return 1
    fi
    STAGE_AUDIT=replaced
    return 0
}

stage_rule() {  # $1 the rule's index in RULES, $2 its id, $3 its check, $4 its file, $5 its outcome
    "stage_$3" "$4" || return 0
    STAGE_INDEX=$1
    case $5 in
        note) printf 'mlperf-compliance: '; printenv "MLPERF_COMPLIANCE_JOB_RULE_$1"; return 0 ;;
        refused) STAGE_REFUSED=$2; return 1 ;;
        failed) STAGE_FAILED=$2; return 2 ;;
        aftermath) STAGE_AFTERMATH=$2; STAGE_AUDIT=replaced; return 0 ;;
    esac
}

stage_in() {  # the rules before the command, then placing the audit.config (generated from RULES)
@STAGE_IN@
    return 0
}

stage_out() {  # the rules after the command (generated from RULES)
    [ -n "$STAGE_PLACED" ] || { STAGE_AUDIT=none; return 0; }
@STAGE_OUT@
    return 0
}
