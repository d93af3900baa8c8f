"""TEST05 (required up to round v4.1): with LoadGen's other RNG seeds the run is not slower (docs/rules.md §2.7).

The official audit.config sets ``*.*.test05 = 1``; LoadGen (up to 4.1) then logs "Test05 flag detected" and runs
with the round's ``test05_*_rng_seed`` values from its mlperf.conf instead of the round's seeds. A system tuned to
the round's seeds would be slower with others: the compliance run's score may be at most 5% worse than the
submission's performance run (one-sided; 20% when the submission's SingleStream latency is at most 200 us or its
MultiStream latency at most 1.6 ms, as the official verify_performance.py compares them).
"""

from __future__ import annotations

from typing import Any

from compliance import layout
from compliance.logs.detail import DetailLog
from compliance.verify import official, render
from compliance.verify.base import Request, Verifier, no_options
from compliance.verify.checks import evidence, inputs, performance, runs
from compliance.verify.result import Check, Outcome, Result

REFERENCE_RUNS = ("performance",)
CHECK_SEEDS = "other seeds in effect"
#: LoadGen's warning when the test05 key is set (loadgen.cc, 4.x: "Test05 flag detected Overriding random seeds")
TEST05_WARNING = "Test05 flag detected"
SEED_KEYS = ("effective_qsl_rng_seed", "effective_sample_index_rng_seed", "effective_schedule_rng_seed")
#: the rounds that required TEST05: their seeds and TEST05's, from each round's submission checker (MODEL_CONFIG
#: "seeds" and "test05_seeds"; docs/rules.md §2.7), in SEED_KEYS order
ROUND_SEEDS: dict[str, dict[str, tuple[int, int, int]]] = {
    "v4.0": {
        "seeds": (13281865557512327830, 198141574272810017, 7575108116881280410),
        "test05": (2376919268182438552, 11176391829184272374, 3911940905271271337),
    },
    "v4.1": {
        "seeds": (3066443479025735752, 10688027786191513374, 14962580496156340209),
        "test05": (16799458546791641818, 5453809927556429288, 5435552105434836064),
    },
}
#: what a lower Server target QPS does to TEST05's comparison (review.md §2: TEST05 runs used 0.96x)
LOWER_TARGET = (
    "a compliance run at a lower target completes fewer samples per second, and the 5% window below the "
    "submission's throughput holds by construction (the comparison says little)"
)
PERFORMANCE_CHECKS = (
    inputs.CHECK_LOGS,
    inputs.CHECK_AGREE,
    CHECK_SEEDS,
    evidence.CHECK_CLEAN_REFERENCES,
    runs.CHECK_MODES,
    runs.CHECK_SCENARIO,
    performance.CHECK_RUNS,
    performance.CHECK_SCORE,
)


def seeds(log: DetailLog) -> tuple[Any, ...]:
    """The three effective seeds of a run, in SEED_KEYS order."""
    return tuple(log.get(key) for key in SEED_KEYS)


def round_of(seed_values: tuple[Any, ...], kind: str = "seeds") -> str | None:
    """The TEST05 round whose ``kind`` ("seeds" or "test05") these are, or None."""
    return next((name for name, known in ROUND_SEEDS.items() if known[kind] == seed_values), None)


def seeds_changed(compliance: DetailLog, reference: DetailLog | None) -> Check:
    """LoadGen ran with its test05 seeds: it logged the flag, and the seeds are none of the submission run's (and
    those of the round the submission's seeds name, when they name one)."""
    comp = seeds(compliance)
    flagged = any(isinstance(v, str) and v.startswith(TEST05_WARNING) for _, v in compliance.warnings)
    figures: dict[str, Any] = {
        "flag": flagged,
        "audit_config_found": compliance.audit_config_found,
        "compliance_seeds": list(comp),
    }
    problems = []
    if not flagged:
        problems.append(
            f"LoadGen did not log '{TEST05_WARNING}': the test05 setting was not in effect (LoadGen from 5.0 reads it "
            "from its built-in mlperf.conf only), so the run used the usual seeds"
        )
    if reference is not None:
        ref = seeds(reference)
        figures["submission_seeds"] = list(ref)
        same = [key.removeprefix("effective_") for key, a, b in zip(SEED_KEYS, comp, ref, strict=True) if a == b]
        if same:
            problems.append(f"the {', '.join(same)} of the compliance run are the submission run's")
        rnd = round_of(ref)
        if rnd is not None:
            figures["round"] = rnd
            if comp != ROUND_SEEDS[rnd]["test05"]:
                problems.append(
                    f"the seeds are not round {rnd}'s TEST05 seeds (the submission run's seeds are {rnd}'s)"
                )
    if problems:
        return Check(CHECK_SEEDS, Outcome.FAIL, "; ".join(problems), figures)
    return Check(CHECK_SEEDS, Outcome.PASS, "", figures)


def verify(request: Request) -> Result:
    """Verify a TEST05 compliance run against the submission's performance run.

    Raises:
        InputError: a required file is missing or unreadable.
    """
    test = request.test
    result, paths, comp, ref = inputs.performance_runs(request)
    if comp is not None:
        result.add(seeds_changed(comp, ref))
    references = {"performance": ref} if ref is not None else {}
    result.add(evidence.references_clean(references))
    logs = {"compliance": comp, "submission performance": ref}
    inputs.log_errors(result, logs)
    if comp is not None and ref is not None:
        comparable = result.add(performance.runs_comparable(ref, comp))
        if comparable.passed:
            result.add(performance.not_slower(ref, comp, test.thresholds))
        runs.note_target_qps(result, ref, comp, LOWER_TARGET, performance.CHECK_SCORE)
    verdict, note = official.test05_performance(*inputs.summaries(paths, result, comp))
    result.official_verdict, result.official_notes = verdict, [f"performance: {verdict} ({note})"]
    runs.add_run_checks(result, request.scenario, references, logs)
    return result


def _render(result: Result) -> dict[str, str]:
    """verify_performance.txt as the official script writes it (``reference score``, ``test score``)."""
    return {layout.VERIFY_PERFORMANCE: render.performance_text(result, PERFORMANCE_CHECKS, upper_case=False)}


def _check_detail(check: Check) -> str:
    if check.name == CHECK_SEEDS and check.figures.get("round"):
        return f"round {check.figures['round']}'s TEST05 seeds"
    return performance.check_detail(check)


VERIFIER = Verifier(
    name="TEST05",
    summary="with LoadGen's other seeds the run is not slower (rounds up to v4.1)",
    reference_runs=REFERENCE_RUNS,
    needs_scenario=False,
    text_files=(layout.VERIFY_PERFORMANCE,),
    copies=inputs.PERFORMANCE_COPIES,
    options=(),
    resolve=no_options,
    verify=verify,
    render=_render,
    figures=performance.result_figures,
    measures=performance.result_measures,
    check_detail=_check_detail,
)
