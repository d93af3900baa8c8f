"""Render a :class:`Result` three ways: the official text files the submission checker reads, verify.json, console.

The checker's rules for the text files (domain.md 5.3): TEST01 ``verify_accuracy.txt`` passes on a line exactly
``TEST PASS``; ``verify_performance.txt`` on any line containing ``TEST PASS``; TEST06 needs the exact lines
``First token check pass: True|Skipped``, ``EOS check pass: True``, ``Sample length check pass: True``.
So a failing result never writes ``TEST PASS`` anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from compliance import __version__
from compliance.verify import layout, performance, test01, test06
from compliance.verify.result import Outcome, Result


def _verdict_lines(result: Result, names: tuple[str, ...]) -> list[str]:
    failed = [c for c in result.checks if c.name in names and c.outcome is Outcome.FAIL]
    if not failed and any(c.name in names for c in result.checks):
        return ["TEST PASS"]
    reasons = [f"{c.name}: {c.reason}" for c in failed] or ["no check could be made"]
    return [f"TEST FAIL: {reasons[0]}", *(f"  also {r}" for r in reasons[1:])]


def _test01_accuracy(result: Result) -> str:
    check = result.check(test01.CHECK_ACCURACY)
    f = check.figures if check else {}
    lines = ["Verifying accuracy. This might take a while...", "Reading accuracy mode results...",
             "Reading performance mode results..."]
    if "matched" in f:
        strict = result.check(test01.CHECK_FULL_OUTPUT)
        mismatches = f["first_element_mismatches"] + f["invalid"] + (f["strict_mismatches"] if strict else 0)
        lines += [f"num_acc_log_entries = {f['reference_entries']}", f"num_acc_log_duplicate_keys = {f['duplicate_keys']}",
                  f"num_acc_log_data_mismatch = {f['duplicate_mismatches']}",
                  f"num_perf_log_entries = {f['compliance_entries']}", f"num_perf_log_qsl_idx_match = {f['matched']}",
                  f"num_perf_log_data_mismatch = {mismatches}", f"num_missing_qsl_idxs = {f['missing']}"]
    verdict = _verdict_lines(result, test01.ACCURACY_CHECKS)
    return "\n".join(lines + [verdict[0].split(":")[0] if verdict[0].startswith("TEST FAIL") else verdict[0], ""]
                     + ([f"reason: {line.removeprefix('TEST FAIL: ').strip()}" for line in verdict]
                        if verdict[0] != "TEST PASS" else [])) + "\n"


def _performance(result: Result, names: tuple[str, ...], upper_case: bool) -> str:
    check = result.check(performance.CHECK_SCORE)
    lines = ["Verifying performance."]
    if check is not None:
        ref, test = ("Reference score", "Test score") if upper_case else ("reference score", "test score")
        lines += [f"{ref} = {check.figures['reference']:g}", f"{test} = {check.figures['compliance']:g}"]
    return "\n".join(lines + _verdict_lines(result, names)) + "\n"


def _test06(result: Result) -> str:
    def state(name: str) -> str:
        check = result.check(name)
        if check is None:
            return "False"
        return {Outcome.PASS: "True", Outcome.FAIL: "False", Outcome.SKIPPED: "Skipped"}[check.outcome]

    lines = [f"First token check pass: {state(test06.CHECK_FIRST_TOKEN)}", f"EOS check pass: {state(test06.CHECK_EOS)}",
             f"Sample length check pass: {state(test06.CHECK_LENGTH)}"]
    if result.verdict == "PASS":
        lines.append("TEST06 verification complete")
    else:
        lines.append("TEST06 verification failed")
        lines += [f"reason: {c.name}: {c.reason}" for c in result.checks if c.outcome is Outcome.FAIL]
    return "\n".join(lines) + "\n"


_TEXT_FILES: dict[tuple[str, str], Callable[[Result], str]] = {
    ("TEST01", layout.VERIFY_ACCURACY): _test01_accuracy,
    ("TEST01", layout.VERIFY_PERFORMANCE): lambda r: _performance(r, test01.PERFORMANCE_CHECKS, upper_case=True),
    ("TEST04", layout.VERIFY_PERFORMANCE): lambda r: _performance(r, tuple(c.name for c in r.checks), upper_case=False),
    ("TEST06", layout.VERIFY_ACCURACY): _test06,
}


def text_files(result: Result) -> dict[str, str]:
    """The official-format text files of the result's test (:data:`compliance.verify.layout.TEXT_FILES`), by name."""
    return {name: _TEXT_FILES[result.test, name](result) for name in layout.TEXT_FILES[result.test]}


def verify_json(result: Result) -> str:
    """verify.json: the whole result, for the summary and for machines."""
    data: dict[str, Any] = {"tool": "mlperf-compliance", "version": __version__, **result.to_dict()}
    return json.dumps(data, indent=2, default=str) + "\n"


def _figures_line(name: str, figures: dict[str, Any]) -> str:
    if name == test01.CHECK_ACCURACY and "matched" in figures:
        return (f"{figures['compliance_entries']} entries, {figures['matched']} matched, "
                f"{figures['first_element_mismatches']} first-element mismatches ({figures['dtype']})")
    if name == performance.CHECK_SCORE:
        ratio = figures.get("ratio") or figures.get("speedup")
        bound = f"±{figures['tolerance'] * 100:g}%" if "ratio" in figures else f"at most {figures['tolerance'] * 100:g}% faster"
        return f"{figures['metric']} {figures['compliance']:g} vs {figures['reference']:g} (ratio {ratio:.3f}, {bound})"
    if name == test06.CHECK_SAMPLES and "logged" in figures:
        return f"{figures['logged']} of {figures['expected']} expected"
    return ""


def console(result: Result) -> str:
    """A few lines for people: verdict, each check, findings, and the official script's verdict."""
    title = " ".join(x for x in (result.test, result.model, result.scenario) if x)
    agree = "agrees" if result.official_verdict == result.verdict else "DISAGREES"
    lines = [f"{title}: {result.verdict} (the official script would say {result.official_verdict}; {agree})"]
    for check in result.checks:
        detail = check.reason or _figures_line(check.name, check.figures)
        lines.append(f"  {check.outcome.value:7s} {check.name}" + (f": {detail}" if detail else ""))
    lines += [f"  finding: {f.message}" for f in result.findings]
    lines += [f"  official: {note}" for note in result.official_notes]
    return "\n".join(lines) + "\n"
