"""What the official run_verification.py scripts would conclude on the same inputs, quirks included.

Written from their documented behaviour (docs/rules.md §2.1-2.4 and §3; TEST01 Part III is the submission
checker's), not from their code. A crash counts as FAIL. Each function returns ``(verdict, note)``; the note says
which behaviour decided.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from compliance.logs.detail import DetailLog
from compliance.logs.summary import SummaryLog
from compliance.verify.performance import score

Verdict = tuple[str, str]


def test01_performance(reference: DetailLog | None, compliance: DetailLog | None) -> Verdict:
    """TEST01 verify_performance.py on the detail logs (two-sided, relaxation on raw ns)."""
    if reference is None or compliance is None:
        return "FAIL", "verify_performance.py cannot read a detail log and fails"
    ref, comp = score(reference), score(compliance)
    if ref is None or comp is None:
        return "FAIL", "verify_performance.py reads the score before checking validity and crashes on a missing key"
    if reference.num_errors or compliance.num_errors:
        return "FAIL", (
            "verify_performance.py crashes (NameError: 'line') whenever a detail log holds a LoadGen error "
            "(docs/rules.md §3, item 6)"
        )
    for label, log in (("reference", reference), ("test", compliance)):
        if log.get("result_validity") != "VALID":
            return "FAIL", f"'TEST FAIL: Invalid results' ({label} run)"
    if reference.scenario != compliance.scenario:
        return "FAIL", "'TEST FAIL: Test and reference scenarios do not match!'"
    if reference.scenario == "Server" and (
        reference.get("effective_target_latency_ns") != compliance.get("effective_target_latency_ns")
    ):
        return "FAIL", "'TEST FAIL: Server target latency mismatch'"
    t = 0.10
    if (reference.scenario == "SingleStream" and ref <= 200000) or (
        reference.scenario == "MultiStream" and ref <= 1600000
    ):
        t = 0.20
    if ref * (1 - t) <= comp <= ref * (1 + t):
        return "PASS", f"test score {comp:g} within ±{t * 100:g}% of {ref:g}"
    return "FAIL", "'TEST FAIL: Test score invalid'"


_TEST04_SCORE = {
    "SingleStream": r".*Early stopping (90th|90\.0th|99\.9th) percentile estimate",
    "MultiStream": r".*Early stopping (99th|99\.0th) percentile estimate",
    "Server": r"Completed samples per second",
    "Offline": r"Samples per second",
}


def _test04_summary(log: SummaryLog) -> tuple[str | None, float, bool]:
    mode = log.get("Scenario")
    found = log.find(_TEST04_SCORE.get(mode or "", "(?!)"))
    value = 0.0  # a missing estimate leaves the score at 0 (docs/rules.md §3, item 10)
    if found is not None:
        try:
            value = float(found[1])
        except ValueError:
            value = 0.0
        if mode in ("SingleStream", "MultiStream") and value:
            value = 1e9 / value  # converted to a qps-like score before the relaxation test (item 7)
    return mode, value, log.get("Result is") == "INVALID"


def test04_performance(reference: SummaryLog | None, compliance: SummaryLog | None) -> Verdict:
    """TEST04 verify_performance.py on the summary logs (one-sided, relaxation on the converted score)."""
    if reference is None or compliance is None:
        return "FAIL", "verify_performance.py cannot read a summary log and fails"
    ref_mode, ref, ref_invalid = _test04_summary(reference)
    test_mode, test, test_invalid = _test04_summary(compliance)
    if ref_invalid:
        return "FAIL", "'TEST FAIL: Reference results are invalid'"
    if test_invalid:
        return "FAIL", "'TEST FAIL: Test results are invalid'"
    if ref_mode != test_mode:
        return "FAIL", "'Test and reference scenarios do not match!'"
    t = 0.10
    if (ref_mode == "SingleStream" and ref <= 200000) or (ref_mode == "MultiStream" and ref <= 1600000):
        t = 0.20
    if test < ref * (1 + t):
        note = f"test score {test:g} < {ref:g} × {1 + t:g}"
        if ref_mode == "Server":
            note += " (the Server target-latency check never runs: docs/rules.md §3, item 8)"
        return "PASS", note
    return "FAIL", "'TEST FAIL: Test score invalid'"


#: the summary lines TEST05's verify_performance.py reads its score from (its own patterns, without "90.0th")
_TEST05_SCORE = {
    "SingleStream": r".*Early stopping 90th percentile estimate",
    "MultiStream": r".*Early stopping 99th percentile estimate",
    "Server": r"Completed samples per second",
    "Offline": r"Samples per second",
}


def test05_performance(reference: SummaryLog | None, compliance: SummaryLog | None) -> Verdict:
    """TEST05 verify_performance.py on the summary logs (one-sided, 5%, 20% for short latencies on the raw ns;
    its Server target-latency check never matches, and a missing score reads as 0: docs/rules.md §2.7)."""
    if reference is None or compliance is None:
        return "FAIL", "verify_performance.py cannot read a summary log and fails"
    scores = []
    for label, log in (("Reference", reference), ("Test", compliance)):
        if log.get("Result is") == "INVALID":
            return "FAIL", f"'TEST FAIL: {label} results are invalid'"
        found = log.find(_TEST05_SCORE.get(log.get("Scenario") or "", "(?!)"))
        try:
            scores.append(float(found[1]) if found else 0.0)
        except ValueError:
            return "FAIL", f"float() fails on the {label.lower()} score {found[1]!r} (a traceback)" if found else ""
    ref_mode, test_mode = reference.get("Scenario"), compliance.get("Scenario")
    if ref_mode != test_mode:
        return "FAIL", "'Test and reference scenarios do not match!'"
    ref, test = scores
    t = (
        0.20
        if (ref_mode == "SingleStream" and ref <= 200000) or (ref_mode == "MultiStream" and ref <= 1600000)
        else 0.05
    )
    if ref_mode in ("Offline", "Server") and test > ref * (1 - t):
        return "PASS", f"test score {test:g} > {ref:g} × {1 - t:g}" + (" (no reference score: 0)" if not ref else "")
    if ref_mode in ("SingleStream", "MultiStream") and test < ref * (1 + t):
        return "PASS", f"test score {test:g} < {ref:g} × {1 + t:g}"
    return "FAIL", "'TEST FAIL: Test score invalid'"


#: TEST07 run_verification.py's default --score-pattern, searched anywhere in the output, the first match wins
TEST07_PATTERN = r"'exact_match':\s*([\d.]+)"


def test07_accuracy(output: str, returncode: int | None, threshold: float) -> Verdict:
    """TEST07 run_verification.py on the accuracy script's output: the first score match anywhere, the exit status
    ignored (docs/rules.md §3, item 20: 7.2, 7.5, 7.6, 7.15)."""
    found = re.search(TEST07_PATTERN, output)
    forged = "TEST PASS" in output
    tail = "; the checker accepts any TEST PASS in its file, and this output prints one (7.6)" if forged else ""
    if found is None:
        return "FAIL", "'Error: Could not parse accuracy score'" + tail
    try:
        value = float(found.group(1))
    except ValueError:
        return "FAIL", f"float({found.group(1)!r}) fails (7.15)" + tail
    status = "" if returncode == 0 else f"; it ignores the exit status {returncode} (7.2)"
    if value >= threshold:
        return "PASS", f"first score match {value:g} >= {threshold:g}{status}{tail}"
    return "FAIL", f"first score match {value:g} < {threshold:g}{status}{tail}"


def delta_percent(base: float, comp: float) -> float:
    """The submission checker's relative change of a TEST01 Part III metric: ``|1 - baseline/compliance| * 100``."""
    return abs(1 - base / comp) * 100


def test01_part3(
    values: Mapping[str, tuple[float | None, float | None]], allowed: Mapping[str, float], repeated: int
) -> Verdict:
    """The checker's Part III on the official procedure's outputs, (baseline, compliance) per metric read from stdout
    only: the exit status is not looked at, a metric 0 or not found is INVALID, else the delta decides (§2.1)."""
    for name, (base, comp) in values.items():
        if not base or not comp:
            return "FAIL", f"Part III: {name} is 0 (or not found) in one of the outputs: INVALID (P.7)"
        if delta_percent(base, comp) > allowed[name]:
            return "FAIL", f"Part III: {name} differs by {delta_percent(base, comp):.3f}% > {allowed[name]:g}%: INVALID"
    note = "Part III: every metric within its delta (the exit status is not looked at)"
    if repeated:
        note += f"; its baseline would hold {repeated} repeated samples once only (P.3), so it scores other samples"
    return "PASS", note
