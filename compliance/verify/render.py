"""Render a :class:`Result`: the verdict lines of the official text files, verify.json, and the console lines.

The checker's rules for the text files (docs/rules.md §5.3): TEST01 ``verify_accuracy.txt`` passes on a line exactly
``TEST PASS``; ``verify_performance.txt`` on any line containing ``TEST PASS``; TEST06 needs the exact lines
``First token check pass: True|Skipped``, ``EOS check pass: True``, ``Sample length check pass: True``; TEST08
``verify_accuracy.txt`` on a line exactly ``TEST PASS``; TEST09 ``verify_output_len.txt`` on ``TEST PASS`` anywhere.
So a failing result never writes ``TEST PASS`` anywhere, and the lines that tell a cell's earlier attempts
(:func:`attempt_lines`) never hold ``TEST PASS`` or ``TEST FAIL``. Each test's own text files are rendered by its module
(:attr:`compliance.verify.base.Verifier.render`) with the helpers here.

Strings a log or a program produced (an ``effective_scenario``, a ``result_invalid_reason``, an error message quoted
in a reason) are data: the text files are rendered from :func:`as_data` of the result, in which every such string
is one line with its control characters shown as escapes and no verdict word the checker could take for ours
(issue 24 item 3); the console shows control characters and terminal escapes the same way (:func:`visible`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import time
from typing import Any

from compliance import __version__
from compliance.verify import scoring
from compliance.verify.base import Verifier
from compliance.verify.checks import performance
from compliance.verify.result import Outcome, Result

#: characters that end a line for some reader or act on a terminal: C0 and C1 controls, DEL, Unicode line and
#: paragraph separators (str.splitlines splits on several of them)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def visible(text: str) -> str:
    """``text`` with its control characters (line ends, terminal escapes) written as Python escapes: one line that
    prints as it reads."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def data(text: str) -> str:
    """A string from a log or a program, made fit to quote in a text file a checker reads: :func:`visible`, and
    unable to pass for a verdict line (:func:`compliance.verify.scoring.neutralised`, issue 24 item 3)."""
    return scoring.neutralised(visible(text))


def _as_data(value: Any) -> Any:
    if isinstance(value, str):
        return data(value)
    if isinstance(value, list):
        return [_as_data(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_data(v) for k, v in value.items()}
    return value


def as_data(result: Result) -> Result:
    """A copy of ``result`` whose strings that a log or a program may have produced (reasons, findings, notes, the
    scenario and model, strings among the figures) are :func:`data`; the text files are rendered from it."""
    safe = copy.copy(result)
    safe.scenario = data(result.scenario) if isinstance(result.scenario, str) else result.scenario
    safe.model = data(result.model) if isinstance(result.model, str) else result.model
    safe.checks = [
        dataclasses.replace(c, name=data(c.name), reason=data(c.reason), figures=_as_data(c.figures))
        for c in result.checks
    ]
    safe.findings = [dataclasses.replace(f, message=data(f.message)) for f in result.findings]
    safe.official_notes = [data(n) for n in result.official_notes]
    return safe


def verdict_lines(result: Result, names: tuple[str, ...]) -> list[str]:
    """``TEST PASS`` when the named checks (one at least) passed, else ``TEST FAIL: <first reason>`` and the rest;
    ``TEST NOT CHECKABLE: <reason>`` when none failed but one could not be made (no line the checker accepts)."""
    failed = [c for c in result.checks if c.name in names and c.outcome is Outcome.FAIL]
    unknown = [c for c in result.checks if c.name in names and c.outcome is Outcome.NOT_CHECKABLE]
    if not failed and unknown:
        reasons = [f"{c.name}: {c.reason}" for c in unknown]
        return [f"TEST NOT CHECKABLE: {reasons[0]}", *(f"  also {r}" for r in reasons[1:])]
    if not failed and any(c.name in names for c in result.checks):
        return ["TEST PASS"]
    reasons = [f"{c.name}: {c.reason}" for c in failed] or ["no check could be made"]
    return [f"TEST FAIL: {reasons[0]}", *(f"  also {r}" for r in reasons[1:])]


def performance_text(result: Result, names: tuple[str, ...], upper_case: bool) -> str:
    """verify_performance.txt (TEST01 writes "Reference score", TEST04 "reference score", as the official ones)."""
    check = result.check(performance.CHECK_SCORE)
    lines = ["Verifying performance."]
    if check is not None and "reference" in check.figures:
        ref, test = ("Reference score", "Test score") if upper_case else ("reference score", "test score")
        lines += [f"{ref} = {check.figures['reference']:g}", f"{test} = {check.figures['compliance']:g}"]
    return "\n".join(lines + verdict_lines(result, names)) + "\n"


def verify_json(result: Result) -> str:
    """verify.json: the whole result, for the summary and for machines."""
    data: dict[str, Any] = {"tool": "mlperf-compliance", "version": __version__, **result.to_dict()}
    return json.dumps(data, indent=2, default=str) + "\n"


def console(result: Result, verifier: Verifier) -> str:
    """A few lines for people: verdict, each check, findings, and the official script's verdict (control
    characters from the logs made :func:`visible`)."""
    title = " ".join(x for x in (result.test, result.model, result.scenario) if isinstance(x, str) and x)
    agree = "agrees" if result.official_verdict == result.verdict else "DISAGREES"
    if result.verdict == "NOT CHECKABLE":  # the official script checks less: no agreement to speak of
        agree = "it does not look for what these logs cannot show"
    lines = [f"{title}: {result.verdict} (the official script would say {result.official_verdict}; {agree})"]
    for check in result.checks:
        detail = check.reason or verifier.check_detail(check)
        lines.append(f"  {check.outcome.value:7s} {check.name}" + (f": {detail}" if detail else ""))
    lines += [f"  finding: {f.message}" for f in result.findings]
    lines += [f"  official: {note}" for note in result.official_notes]
    return "\n".join(visible(line) for line in lines) + "\n"


#: the words the submission checker looks for in the text files; never in the lines about other attempts
CHECKER_WORDS = ("TEST PASS", "TEST FAIL")


def _quiet(text: str) -> str:
    for word in CHECKER_WORDS:
        text = text.replace(word, word.lower())
    return text


def when(stamp: Any) -> str:
    """An attempt's time (seconds since the epoch) as people read it, in UTC."""
    if not isinstance(stamp, (int, float)) or isinstance(stamp, bool):
        return "at an unknown time"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def attempt_lines(result: Result) -> list[str]:
    """The lines that tell the earlier attempts of the cell (its ledger, :attr:`Result.attempts`), for the text
    files: none when this is the only attempt."""
    if len(result.attempts) < 2:
        return []
    *earlier, last = result.attempts
    several = len({e.get("series") for e in result.attempts}) > 1  # the cell was verified more than once

    def name(entry: dict[str, Any]) -> str:
        within = f"attempt {entry.get('attempt')} of {entry.get('of')}"
        return f"verification {entry.get('series')}, {within}" if several else within

    lines = ["", f"This verdict is {name(last)} ({when(last.get('time'))})."]
    for entry in earlier:
        outcome = "passed" if entry.get("verdict") == "PASS" else "failed"
        what = entry.get("short") or entry.get("reason") or ""
        lines.append(
            f"Earlier {name(entry)} ({when(entry.get('time'))}) {outcome}"
            + (f": {what}" if what else "")
            + (f"; kept in {entry['folder']}" if entry.get("folder") else "")
        )
    return [_quiet(line) for line in lines]


def shortfall(result: Result) -> str:
    """Why a result fails, in a few words (the ledger, the summary): its first failed check ("" when it passes)."""
    for check in result.checks:
        if not check.passed:
            return performance.shortfall(check.to_dict()) or f"{check.name}: {check.reason}"
    return ""
