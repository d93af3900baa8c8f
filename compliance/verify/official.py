"""What the official run_verification.py scripts would conclude on the same inputs, quirks included.

Written from their documented behaviour (docs/rules.md §2 and §3; TEST01 Part III is the submission checker's),
not from their code; every test's emulation is here (TEST06, TEST08 and TEST09 per entry, as their streaming passes
meet each one). A crash counts as FAIL. Each verdict comes with the note (or notes) saying which behaviour decided.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from compliance.logs.detail import DetailLog
from compliance.logs.summary import SummaryLog
from compliance.verify.checks.performance import score

Verdict = tuple[str, str]


def test01_accuracy(
    compared: Iterable[tuple[int, Any]], accuracy: Mapping[int, Any], crash: str, truncated: bool
) -> Verdict:
    """TEST01 verify_accuracy.py: the first elements of the compliance entries (``compared``: qsl_idx and first
    element, in order) against the accuracy run's (``accuracy``). It writes each performance entry back into its
    dict, so a repeated qsl_idx is compared with the previous compliance entry instead of the accuracy run
    (docs/rules.md §3, item 2); it crashes on an entry numpy cannot decode, and json.load fails on a truncated log."""
    if truncated:
        return "FAIL", "json.load fails on the truncated accuracy log (JSONDecodeError)"
    if crash:
        return "FAIL", crash
    values = dict(accuracy)  # the official script's dict, which it overwrites as it goes
    mismatches = matches = 0
    for qsl, first in compared:
        matches += 1
        mismatches += not first == values.get(qsl)  # numpy's equality: NaN equals nothing
        values[qsl] = first
    if mismatches == 0 and matches > 0:
        return "PASS", f"{matches} entries matched, first elements equal"
    return "FAIL", f"{mismatches} first-element mismatches, {matches} matches"


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


# -- TEST06 (docs/rules.md §2.3, §3 item 12) ------------------------------------------------------------------------


def test06_eos_check(last_tokens: list[int], total: int, eos: int, eos_given: bool) -> bool:
    """The official EOS check: walk back from the last token while tokens equal EOS, failing at the second one.

    ``while i > 0`` never looks at index 0, so ``[EOS, EOS]`` passes; with ``-e`` given the id is a string that
    never equals a token, so the check cannot fail (docs/rules.md §3, item 12). ``last_tokens`` are the last tokens of
    an output of ``total`` tokens.
    """
    if eos_given:
        return True
    count, i = 0, total - 1
    offset = total - len(last_tokens)
    while i > 0 and i >= offset and last_tokens[i - offset] == eos:
        count += 1
        if count >= 2:
            return False
        i -= 1
    return True


def test06_verdict(state: Mapping[str, Any], eos_id: int) -> tuple[str, list[str]]:
    """The official TEST06 script's verdict and notes from what its checks saw on the log (``state``: its first
    token, EOS and length checks, a crash, whether -e was given)."""
    if state["crash"]:
        return "FAIL", [f"the script crashes: {state['crash']}"]
    passed = state["first"] and state["eos"] and state["length"]
    notes = [f"first token {state['first']}, EOS {state['eos']}, sample length {state['length']}"]
    if state["eos_flag"]:
        notes.append(f"with -e {eos_id} the official EOS check cannot fail (docs/rules.md §3, item 12)")
    return ("PASS" if passed else "FAIL"), notes


# -- TEST08 (docs/rules.md §2.5, §3 items 30-36) --------------------------------------------------------------------

TEST08_EPS = 1e-7  # the official script clips predictions and labels to [EPS, 1 - EPS]


def test08_ne(predictions: Any, labels: Any, weights: Any) -> float:
    """The official script's NE: 0.0 for a total weight of 0; NaN predictions give NaN."""
    total = sum(weights)
    if total == 0:
        return 0.0
    cross, positive = 0.0, 0.0
    for p, y, w in zip(predictions, labels, weights, strict=True):
        p = min(max(p, TEST08_EPS), 1 - TEST08_EPS) if p == p else p
        y = min(max(y, TEST08_EPS), 1 - TEST08_EPS) if y == y else y
        cross -= w * (y * _log(p) + (1 - y) * _log(1 - p))
        positive += w * y
    mean = positive / total
    if not 0 < mean < 1:
        return 0.0 if mean == mean else math.nan
    base = -(mean * math.log(mean) + (1 - mean) * math.log(1 - mean))
    return cross / (total * base) if base else 0.0


def _log(x: float) -> float:
    return math.log(x) if x > 0 else math.nan


def test08_one(perf: Any, preds: Any, labels: Any, weights: Any, tol: float, state: dict[str, Any]) -> None:
    """The official comparison of one matched entry (its ``matched`` already counted in ``state``)."""
    if state["crash"]:
        return
    n = len(preds)
    if len(perf) not in (n, 1):
        state["crash"] = f"numpy cannot broadcast {len(perf)} predictions over {n} labels (ValueError)"
        return
    acc_ne = test08_ne(preds, labels, weights)
    perf_ne = test08_ne(list(perf) * n if len(perf) == 1 else perf, labels, weights)
    if acc_ne == 0 and perf_ne == 0:
        return  # both 0: skipped (a sample of weight 0 whatever its predictions)
    if acc_ne == 0 or perf_ne == 0:
        state["mismatches"] += 1
    elif abs(perf_ne - acc_ne) / abs(acc_ne) > tol:  # NaN compares False: a NaN NE is no mismatch
        state["mismatches"] += 1


def test08_verdict(state: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The official script's verdict (docs/rules.md §2.5), assuming the accuracy entries this tool did not parse
    hold none of the compliance keys and fit the layout (its ``assert`` would stop it otherwise)."""
    if state["crash"]:
        return "FAIL", [f"the script crashes: {state['crash']}"]
    passed = state["mismatches"] == 0 and state["matched"] > 0 and state["unmatched"] == 0
    return ("PASS" if passed else "FAIL"), [
        f"num_matched = {state['matched']}, num_unmatched = {state['unmatched']}, "
        f"num_ne_mismatch = {state['mismatches']} (NaN is no mismatch; one match is enough)"
    ]


# -- TEST09 (docs/rules.md §2.6, §3 items 40-45) --------------------------------------------------------------------


def test09_verdict(entries: int, total_tokens: int, low: float, high: float, broken: str) -> tuple[str, list[str]]:
    """The official script: the mean of 4-byte chunks over every entry read (``entries``, ``total_tokens``),
    duplicates included; it reads a damaged log line by line."""
    if not entries:
        return "FAIL", ["no entries: the script exits 1"]
    mean = total_tokens / entries
    note = f"mean of {entries} entries as 4-byte tokens: {mean:.2f}, bounds [{low}, {high}]"
    if broken:
        note += "; the log does not parse, and the script reads the entries it can line by line"
    return ("PASS" if low <= mean <= high else "FAIL"), [note]
