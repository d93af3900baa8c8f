"""Performance comparison of a compliance run with the submission's performance run (TEST01 and TEST04).

The score of a run is the checker's metric for its scenario (docs/rules.md §4.1): Offline samples per second, Server
completed samples per second, SingleStream and MultiStream early-stopping latency in ns. The 20% relaxation applies
when the *reference latency* is at most 200000 ns (SingleStream) or 1600000 ns (MultiStream), in ns as the rules
say (the official TEST04 script compares the converted score instead: docs/rules.md §3, item 7).
"""

from __future__ import annotations

from typing import Any

from compliance.logs.detail import DetailLog
from compliance.specs.types import Thresholds
from compliance.verify.result import Check, Outcome

RESULT_KEY = {
    "Offline": "result_samples_per_second",
    "Server": "result_completed_samples_per_sec",
    "SingleStream": "early_stopping_latency_ss",
    "MultiStream": "early_stopping_latency_ms",
}
LATENCY_SCENARIOS = ("SingleStream", "MultiStream")
CHECK_RUNS = "runs comparable"
CHECK_SCORE = "performance"


def score(log: DetailLog) -> float | None:
    """The run's score for its scenario, or None when the record is missing or not a number."""
    value = log.get(RESULT_KEY.get(log.scenario or "", ""))
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def tolerance(thresholds: Thresholds, scenario: str, reference_score: float) -> float:
    """The tolerance for this scenario and reference score (the relaxation uses latencies in ns)."""
    limit = thresholds.relaxed_latency_ns.get(scenario)
    if limit is not None and reference_score <= limit:
        return thresholds.relaxed_tolerance
    return thresholds.tolerance


def runs_comparable(reference: DetailLog, compliance: DetailLog) -> Check:
    """Both runs VALID, in the same scenario, with the same Server target latency, and with a score."""
    figures: dict[str, Any] = {"reference_scenario": reference.scenario, "compliance_scenario": compliance.scenario}
    problems = []
    for label, log in (("submission performance", reference), ("compliance", compliance)):
        validity = log.get("result_validity")
        if validity != "VALID":
            reason = log.get("result_invalid_reason")
            problems.append(f"the {label} run is {validity or 'of unknown validity'}" + (f" ({reason})" if reason else ""))
        if log.scenario not in RESULT_KEY:
            problems.append(f"the {label} run's detail log has no known effective_scenario ({log.scenario!r})")
        elif score(log) is None:
            problems.append(f"the {label} run's detail log has no {RESULT_KEY[log.scenario]}")
    if reference.scenario != compliance.scenario:
        problems.append(f"the runs are in different scenarios ({reference.scenario} vs {compliance.scenario})")
    elif reference.scenario == "Server":
        ref_latency = reference.get("effective_target_latency_ns")
        comp_latency = compliance.get("effective_target_latency_ns")
        figures.update(reference_target_latency_ns=ref_latency, compliance_target_latency_ns=comp_latency)
        if ref_latency != comp_latency:
            problems.append(f"the Server target latency differs ({ref_latency} vs {comp_latency} ns)")
    if problems:
        return Check(CHECK_RUNS, Outcome.FAIL, "; ".join(problems), figures)
    return Check(CHECK_RUNS, Outcome.PASS, "", figures)


def _figures(reference: DetailLog, compliance: DetailLog, thresholds: Thresholds) -> dict[str, Any]:
    scenario = reference.scenario or ""
    ref, comp = score(reference), score(compliance)
    assert ref is not None and comp is not None
    return {"metric": RESULT_KEY[scenario], "latency": scenario in LATENCY_SCENARIOS, "reference": ref,
            "compliance": comp, "tolerance": tolerance(thresholds, scenario, ref)}


def within_tolerance(reference: DetailLog, compliance: DetailLog, thresholds: Thresholds) -> Check:
    """TEST01: the compliance score lies within ±tolerance of the reference score (two-sided)."""
    f = _figures(reference, compliance, thresholds)
    ref, comp, t = f["reference"], f["compliance"], f["tolerance"]
    f.update(ratio=comp / ref if ref else None, lower=ref * (1 - t), upper=ref * (1 + t))
    if ref * (1 - t) <= comp <= ref * (1 + t):
        return Check(CHECK_SCORE, Outcome.PASS, "", f)
    direction = "higher" if comp > ref else "lower"
    return Check(CHECK_SCORE, Outcome.FAIL,
                 f"{f['metric']} {comp:g} is {abs(comp / ref - 1) * 100:.1f}% {direction} than the submission's "
                 f"{ref:g} (allowed ±{t * 100:g}%)" if ref else f"the submission's {f['metric']} is 0", f)


def not_faster(reference: DetailLog, compliance: DetailLog, thresholds: Thresholds) -> Check:
    """TEST04: the compliance run is not faster than the reference by more than the tolerance (one-sided)."""
    f = _figures(reference, compliance, thresholds)
    ref, comp, t = f["reference"], f["compliance"], f["tolerance"]
    # speed-up: throughput ratio, or the inverse ratio of latencies
    speedup = (ref / comp if comp else float("inf")) if f["latency"] else (comp / ref if ref else float("inf"))
    f.update(speedup=speedup, limit=1 + t)
    if speedup <= 1 + t:
        return Check(CHECK_SCORE, Outcome.PASS, "", f)
    return Check(CHECK_SCORE, Outcome.FAIL,
                 f"the compliance run is {(speedup - 1) * 100:.1f}% faster than the submission's ({f['metric']} "
                 f"{comp:g} vs {ref:g}; allowed {t * 100:g}%): repeated samples are answered faster, as a cache would", f)


def figures(checks: dict[str, dict[str, Any]]) -> str:
    """The performance check's figures in a few words, from a result's checks as dicts (summary column)."""
    score = checks.get(CHECK_SCORE, {}).get("figures", {})
    if score.get("ratio") is not None:
        t = score["tolerance"]
        return f"perf {score['ratio']:.3f} in [{1 - t:.2f}, {1 + t:.2f}]"
    if "speedup" in score:
        return f"speed-up {score['speedup']:.3f} <= {score['limit']:.2f}"
    return ""


def check_detail(check: Check) -> str:
    """A performance check's figures for the console."""
    f = check.figures
    if check.name != CHECK_SCORE or "metric" not in f:
        return ""
    ratio = f.get("ratio") or f.get("speedup")
    bound = f"±{f['tolerance'] * 100:g}%" if "ratio" in f else f"at most {f['tolerance'] * 100:g}% faster"
    return f"{f['metric']} {f['compliance']:g} vs {f['reference']:g} (ratio {ratio:.3f}, {bound})"
