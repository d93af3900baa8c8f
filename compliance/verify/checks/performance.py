"""Performance comparison of a compliance run with the submission's performance run (TEST01 and TEST04).

The score of a run is the checker's metric for its scenario (docs/rules.md §4.1): Offline samples per second, Server
completed samples per second, SingleStream and MultiStream early-stopping latency in ns. The 20% relaxation applies
when the *reference latency* is at most 200000 ns (SingleStream) or 1600000 ns (MultiStream), in ns as the rules
say (the official TEST04 script compares the converted score instead: docs/rules.md §3, item 7).

Which failures noise can cause (``Check.noise``, so the pipeline may try the cell again when its spec allows): a
score outside the TEST01 bounds, a TEST04 speed-up up to FAR_BEYOND_NOISE (beyond it a result cache is the
explanation, and no retry changes that), and a compliance run LoadGen called INVALID (its early-stopping or
duration rules were missed, as a disturbed run misses them). An INVALID submission run (a new compliance run cannot
mend it), different scenarios, target latencies or missing scores are not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from compliance.logs.detail import DetailLog
from compliance.report.measure import Measure
from compliance.specs.types import Thresholds
from compliance.verify.result import Check, Outcome

RESULT_KEY = {
    "Offline": "result_samples_per_second",
    "Server": "result_completed_samples_per_sec",
    "SingleStream": "early_stopping_latency_ss",
    "MultiStream": "early_stopping_latency_ms",
}
LATENCY_SCENARIOS = ("SingleStream", "MultiStream")
#: the unit of each metric's value (the MultiStream key ends in _ms but LoadGen logs nanoseconds: docs/rules.md §4.1)
UNIT = {"Offline": "samples/s", "Server": "samples/s", "SingleStream": "ns", "MultiStream": "ns"}
#: a speed-up this far beyond the tolerance is no longer noise (a result cache makes repeated samples ~free)
FAR_BEYOND_NOISE = 2.0
CHECK_RUNS = "runs comparable"
CHECK_SCORE = "performance"


def score(log: DetailLog) -> float | None:
    """The run's score for its scenario, or None when the record is missing, not a number, or not positive."""
    value = log.get(RESULT_KEY.get(log.scenario or "", "") if isinstance(log.scenario, str) else "")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    value = float(value)
    return value if value > 0 and value != float("inf") else None


def value(number: float, scenario: str) -> str:
    """A metric's value with its unit: ``19442600 ns``, ``1963.2 samples/s``."""
    return f"{number:g} {UNIT.get(scenario, '')}".rstrip()


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
    invalid = 0  # the compliance run was called INVALID (noise can cause it, and another compliance run may pass)
    for label, log in (("submission performance", reference), ("compliance", compliance)):
        validity = log.get("result_validity")
        if validity != "VALID":
            reason = log.get("result_invalid_reason")
            invalid += validity == "INVALID" and label == "compliance"
            problems.append(
                f"the {label} run is {validity or 'of unknown validity'}" + (f" ({reason})" if reason else "")
            )
        if not isinstance(log.scenario, str) or log.scenario not in RESULT_KEY:
            shown = repr(log.scenario) if isinstance(log.scenario, (str, int, float, type(None))) else "not a name"
            problems.append(f"the {label} run's detail log has no known effective_scenario ({shown})")
        elif score(log) is None:
            raw = log.get(RESULT_KEY[log.scenario])
            problems.append(
                f"the {label} run's detail log has no positive number as {RESULT_KEY[log.scenario]}"
                + (f" ({raw!r})" if isinstance(raw, (int, float)) else "")
            )
    if reference.scenario != compliance.scenario:
        problems.append(f"the runs are in different scenarios ({reference.scenario} vs {compliance.scenario})")
    elif reference.scenario == "Server":
        ref_latency = reference.get("effective_target_latency_ns")
        comp_latency = compliance.get("effective_target_latency_ns")
        figures.update(reference_target_latency_ns=ref_latency, compliance_target_latency_ns=comp_latency)
        if ref_latency != comp_latency:
            problems.append(f"the Server target latency differs ({ref_latency} vs {comp_latency} ns)")
    if problems:
        return Check(CHECK_RUNS, Outcome.FAIL, "; ".join(problems), figures, noise=invalid == len(problems))
    return Check(CHECK_RUNS, Outcome.PASS, "", figures)


def _figures(reference: DetailLog, compliance: DetailLog, thresholds: Thresholds) -> dict[str, Any]:
    scenario = reference.scenario or ""
    ref, comp = score(reference), score(compliance)
    assert ref is not None and comp is not None
    return {
        "metric": RESULT_KEY[scenario],
        "latency": scenario in LATENCY_SCENARIOS,
        "unit": UNIT[scenario],
        "reference": ref,
        "compliance": comp,
        "tolerance": tolerance(thresholds, scenario, ref),
    }


def within_tolerance(reference: DetailLog, compliance: DetailLog, thresholds: Thresholds) -> Check:
    """TEST01: the compliance score lies within ±tolerance of the reference score (two-sided)."""
    f = _figures(reference, compliance, thresholds)
    ref, comp, t = f["reference"], f["compliance"], f["tolerance"]
    f.update(ratio=comp / ref if ref else None, lower=ref * (1 - t), upper=ref * (1 + t))
    if not math.isfinite(f["ratio"] or math.inf):
        return Check(CHECK_SCORE, Outcome.FAIL, "the ratio of the two scores is not a finite number", f)
    if ref * (1 - t) <= comp <= ref * (1 + t):
        return Check(CHECK_SCORE, Outcome.PASS, "", f)
    direction = "higher" if comp > ref else "lower"
    scenario = reference.scenario or ""
    return Check(
        CHECK_SCORE,
        Outcome.FAIL,
        f"{f['metric']} {value(comp, scenario)} is {abs(comp / ref - 1) * 100:.1f}% {direction} than the "
        f"submission's {value(ref, scenario)} (allowed ±{t * 100:g}%): more than noise should make; if the "
        "system was disturbed during one of the runs, rerun the cell",
        f,
        noise=True,
    )


def not_faster(reference: DetailLog, compliance: DetailLog, thresholds: Thresholds) -> Check:
    """TEST04: the compliance run is not faster than the reference by more than the tolerance (one-sided)."""
    f = _figures(reference, compliance, thresholds)
    ref, comp, t = f["reference"], f["compliance"], f["tolerance"]
    # speed-up: throughput ratio, or the inverse ratio of latencies
    speedup = (ref / comp if comp else float("inf")) if f["latency"] else (comp / ref if ref else float("inf"))
    f.update(speedup=speedup, limit=1 + t)
    if speedup <= 1 + t:
        return Check(CHECK_SCORE, Outcome.PASS, "", f)
    scenario = reference.scenario or ""
    cause = (
        "far beyond noise: repeated samples are answered faster, as a result cache would"
        if speedup > FAR_BEYOND_NOISE
        else "either a result cache for repeated samples, or a submission run that was disturbed (slowed down); "
        "rerun the cell: a cache is faster every time, a disturbance is not"
    )
    return Check(
        CHECK_SCORE,
        Outcome.FAIL,
        f"the compliance run is {speedup:.3g}x as fast as the submission's ({f['metric']} "
        f"{value(comp, scenario)} vs {value(ref, scenario)}; allowed {t * 100:g}% faster): {cause}",
        f,
        noise=speedup <= FAR_BEYOND_NOISE,
    )


def not_slower(reference: DetailLog, compliance: DetailLog, thresholds: Thresholds) -> Check:
    """TEST05: the compliance run (other seeds) is not slower than the reference by more than the tolerance
    (one-sided, as the official verify_performance.py: throughput above ref x (1 - t), latency below ref x (1 + t);
    docs/rules.md §2.7)."""
    f = _figures(reference, compliance, thresholds)
    ref, comp, t = f["reference"], f["compliance"], f["tolerance"]
    # slow-down: the inverse throughput ratio, or the latency ratio; the limit is the official bound in those terms
    slowdown = comp / ref if f["latency"] else ref / comp
    limit = 1 + t if f["latency"] else 1 / (1 - t)
    f.update(slowdown=slowdown, limit=limit)
    if not math.isfinite(slowdown):
        return Check(CHECK_SCORE, Outcome.FAIL, "the ratio of the two scores is not a finite number", f)
    if slowdown < limit:
        return Check(CHECK_SCORE, Outcome.PASS, "", f)
    scenario = reference.scenario or ""
    bound = (
        f"latency below {value(ref * (1 + t), scenario)}" if f["latency"] else f"above {value(ref * (1 - t), scenario)}"
    )
    return Check(
        CHECK_SCORE,
        Outcome.FAIL,
        f"with other seeds the run is slower: {f['metric']} {value(comp, scenario)} vs the submission's "
        f"{value(ref, scenario)} (allowed {t * 100:g}% slower: {bound}); a system tuned to the round's seeds slows "
        "down with others; if the system was disturbed during one of the runs, rerun the cell",
        f,
        noise=True,
    )


def measures(checks: Mapping[str, Mapping[str, Any]]) -> tuple[Measure, ...]:
    """The performance check's figure against its bounds, from a result's checks as dicts: the TEST01 ratio within
    [1 - t, 1 + t], the TEST04 speed-up up to 1 + t, the TEST05 slow-down below its limit (none without a score)."""
    check = checks.get(CHECK_SCORE, {})
    score, passed = check.get("figures", {}), check.get("outcome") != Outcome.FAIL.value
    if score.get("ratio") is not None:
        t = score["tolerance"]
        return (Measure("perf", score["ratio"], passed, 1 - t, 1 + t),)
    if "speedup" in score:
        return (Measure("speed-up", score["speedup"], passed, high=score["limit"]),)
    if "slowdown" in score:
        return (Measure("slow-down", score["slowdown"], passed, high=score["limit"], high_strict=True, bound_digits=3),)
    return ()


def figures(checks: Mapping[str, Mapping[str, Any]]) -> str:
    """The performance check's figures in a few words (summary column): the condition the figure meets, or the one
    it broke (``speed-up 1.000 <= 1.10``, ``speed-up 145.57 > 1.10``)."""
    return "; ".join(m.text() for m in measures(checks))


def result_measures(data: Mapping[str, Any]) -> tuple[Measure, ...]:
    """:func:`measures` of a result's ``to_dict()`` (a :attr:`compliance.verify.base.Verifier.measures`)."""
    return measures({c["name"]: c for c in data.get("checks", [])})


def result_figures(data: Mapping[str, Any]) -> str:
    """:func:`figures` of a result's ``to_dict()`` (a :attr:`compliance.verify.base.Verifier.figures`)."""
    return figures({c["name"]: c for c in data.get("checks", [])})


def shortfall(check: dict[str, Any]) -> str:
    """A failed performance check (as a dict) in a few words: ``perf ratio 0.870 outside [0.90, 1.10]``,
    ``speed-up 1.230 > 1.10``; "" for another check."""
    f = check.get("figures", {}) if check.get("name") == CHECK_SCORE else {}
    if f.get("ratio") is not None:
        return f"perf ratio {f['ratio']:.3f} outside [{1 - f['tolerance']:.2f}, {1 + f['tolerance']:.2f}]"
    if "speedup" in f:
        return f"speed-up {f['speedup']:.3f} > {f['limit']:.2f}"
    if "slowdown" in f:
        return f"slow-down {f['slowdown']:.3f} >= {f['limit']:.3f}"
    return ""


def check_detail(check: Check) -> str:
    """A performance check's figures for the console."""
    f = check.figures
    if check.name != CHECK_SCORE or "metric" not in f:
        return ""
    ratio = f.get("ratio") or f.get("speedup") or f.get("slowdown")
    bound = (
        f"±{f['tolerance'] * 100:g}%"
        if "ratio" in f
        else f"at most {f['tolerance'] * 100:g}% faster"
        if "speedup" in f
        else f"at most {f['tolerance'] * 100:g}% slower"
    )
    unit = f" {f['unit']}" if f.get("unit") else ""
    return f"{f['metric']} {f['compliance']:g}{unit} vs {f['reference']:g}{unit} (ratio {ratio:.3f}, {bound})"
