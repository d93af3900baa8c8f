"""TEST04: a run that repeats one sample may not be faster than the submission's performance run.

The rules: docs/rules.md §2.2.
"""

from __future__ import annotations

from compliance import layout
from compliance.logs.detail import DetailLog
from compliance.verify import official, render
from compliance.verify.base import Request, Verifier, no_options
from compliance.verify.checks import evidence, inputs, performance, runs
from compliance.verify.result import Result

PERCENTILES = ("50.00", "90.00", "99.00")
REFERENCE_RUNS = ("performance",)
#: what a lower Server target QPS does to TEST04's comparison (review.md §2): never a cache finding for that
LOWER_TARGET = (
    "a run at a lower target completes fewer samples per second and meets less queueing: its lower latencies "
    "are explained by the lower load, not by a result cache (the latencies were not compared)"
)


def verify(request: Request) -> Result:
    """Verify a TEST04 compliance run against the submission's performance run.

    Raises:
        InputError: a required file is missing or unreadable.
    """
    test, model = request.test, request.model
    result, paths, comp, ref = inputs.performance_runs(request)
    if comp is not None:
        result.add(evidence.check_applied(comp, test, model))
    references = {"performance": ref} if ref is not None else {}
    result.add(evidence.references_clean(references))
    logs = {"compliance": comp, "submission performance": ref}
    inputs.log_errors(result, logs)
    if comp is not None and ref is not None:
        scored = performance.score(ref) is not None and performance.score(comp) is not None
        if scored and ref.scenario == comp.scenario:
            # the speed-up is shown whenever both runs have a score, valid or not: a cache that makes the run far
            # too fast also makes LoadGen call it INVALID ("Increase expected QPS")
            result.add(performance.not_faster(ref, comp, test.thresholds))
        comparable = result.add(performance.runs_comparable(ref, comp))
        pair = runs.target_qps(ref, comp)
        runs.note_target_qps(result, ref, comp, LOWER_TARGET, performance.CHECK_SCORE)
        if comparable.passed and comp.scenario == "Server" and (pair is None or pair[1] > pair[0]):
            _server_latencies(result, ref, comp, test.thresholds.latency_speedup_finding)
    verdict, note = official.test04_performance(*inputs.summaries(paths, result, comp))
    result.official_verdict, result.official_notes = verdict, [f"performance: {verdict} ({note})"]
    runs.add_run_checks(result, request.scenario, references, logs)
    return result


def _server_latencies(result: Result, ref: DetailLog, comp: DetailLog, margin: float) -> None:
    """Server throughput is fixed by target_qps, so caching shows in the latencies instead."""
    faster = []
    for pct in PERCENTILES:
        key = f"result_{pct}_percentile_latency_ns"
        r, c = ref.get(key), comp.get(key)
        if isinstance(r, (int, float)) and isinstance(c, (int, float)) and r > 0 and c < r * (1 - margin):
            faster.append(f"p{pct.rstrip('0').rstrip('.')} {c:g} vs {r:g} ns")
    if faster:
        result.note(
            f"the compliance run's latencies are markedly lower ({'; '.join(faster)}): in Server the "
            "throughput is fixed by the target QPS, so a result cache shows here",
            performance.CHECK_SCORE,
        )


def _render(result: Result) -> dict[str, str]:
    return {
        layout.VERIFY_PERFORMANCE: render.performance_text(
            result, tuple(c.name for c in result.checks), upper_case=False
        )
    }


VERIFIER = Verifier(
    name="TEST04",
    summary="repeating one sample is not faster (no result caching)",
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
    check_detail=performance.check_detail,
)
