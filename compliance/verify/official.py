"""What the official run_verification.py scripts would conclude on the same inputs, quirks included.

Written from their documented behaviour (docs/rules.md §2.1-2.3 and §3), not from their code. A crash
counts as FAIL. Each function returns ``(verdict, note)``; the note says which behaviour decided.
"""

from __future__ import annotations

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
