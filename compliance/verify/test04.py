"""TEST04: a run that repeats one sample may not be faster than the submission's performance run (domain.md 2.2)."""

from __future__ import annotations

from pathlib import Path

from compliance.logs import DetailLog
from compliance.spectypes import Model, TestSpec
from compliance.verify import evidence, inputs, layout, official, performance
from compliance.verify.result import Result

PERCENTILES = ("50.00", "90.00", "99.00")


def verify(results_dir: str | Path, compliance_dir: str | Path, test: TestSpec, model: Model | None) -> Result:
    """Verify a TEST04 compliance run against the submission's performance run.

    Raises:
        InputError: a required file is missing or unreadable.
    """
    results = inputs.submission_folder(results_dir)
    comp_dir = inputs.compliance_folder(compliance_dir)
    paths = {
        **inputs.reference_logs(results, "TEST04"),
        "compliance_detail": inputs.required(comp_dir / layout.DETAIL),
        "compliance_summary": inputs.required(comp_dir / layout.SUMMARY),
    }
    result = Result("TEST04", model=model.name if model else None, inputs=dict(paths))
    result.settings = {"tolerance": test.thresholds.tolerance, "relaxed_tolerance": test.thresholds.relaxed_tolerance}
    comp = inputs.detail(paths["compliance_detail"], result)
    ref = inputs.detail(paths["reference_performance_detail"], result)
    result.scenario = comp.scenario if comp else None
    if comp is not None:
        result.add(evidence.check_applied(comp, test, model))
    result.add(evidence.references_clean({"performance": ref} if ref is not None else {}))
    inputs.log_errors(result, {"compliance": comp, "submission performance": ref})
    if comp is not None and ref is not None:
        runs = result.add(performance.runs_comparable(ref, comp))
        if runs.passed:
            result.add(performance.not_faster(ref, comp, test.thresholds))
            if comp.scenario == "Server":
                _server_latencies(result, ref, comp, test.thresholds.latency_speedup_finding)
    ref_summary_path = Path(paths["reference_performance_detail"]).with_name(layout.SUMMARY)  # the official input
    ref_summary = inputs.summary(str(ref_summary_path), None) if ref_summary_path.is_file() else None
    verdict, note = official.test04_performance(ref_summary, inputs.summary_complete(paths["compliance_summary"], result))
    result.official_verdict, result.official_notes = verdict, [f"performance: {verdict} ({note})"]
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
        result.note(f"the compliance run's latencies are markedly lower ({'; '.join(faster)}): in Server the "
                    "throughput is fixed by the target QPS, so a result cache shows here", performance.CHECK_SCORE)
