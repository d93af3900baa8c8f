"""The rows of a small summary for the reports' tests, from records as the pipeline writes them: resnet Offline,
TEST01 passing (perf 1.000) on its second attempt, TEST04 failing by a speed-up of 145.57 with a reason and a finding
whose text comes from a log (:data:`HOSTILE`: control characters, markup, Markdown, a link, a bidi override)."""

from __future__ import annotations

import time
from pathlib import Path

from compliance import status
from compliance.records import AttemptEntry
from compliance.verify.checks import performance
from compliance.verify.result import Check, Finding, Outcome, Result, Verdict
from tests.helpers import pipeline as p

HOSTILE = "x\x1b[31mred\x1b[0m </td><script>alert(1)</script> | *b* [l](http://evil.example) \u202e\nnext"


def table() -> list[status.Row]:
    """The rows (the records are written in the current folder)."""
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    test01, test04 = p.cell(plan, "box/resnet/Offline/TEST01"), p.cell(plan, "box/resnet/Offline/TEST04")
    for cp in (test01, test04):
        p.passing(cp)
        Path(cp.run.files.output).write_text("the harness's output\n", encoding="utf-8")
    ratio = {"ratio": 1.0, "tolerance": 0.1, "reference": 100.0, "compliance": 100.0}
    passed = Result("TEST01", "Offline", "resnet", [Check(performance.CHECK_SCORE, Outcome.PASS, "", ratio)])
    passed.attempts = [
        AttemptEntry(1, 1, 1, 2, time.time(), Verdict.FAIL, "x", "perf ratio 0.800 outside [0.90, 1.10]").to_dict(),
        AttemptEntry(2, 1, 2, 2, time.time(), Verdict.PASS, figures="perf 1.000 in [0.90, 1.10]").to_dict(),
    ]
    p.verified(test01, outcome=passed)
    p.published(test01)
    speedup = {"speedup": 145.5701, "limit": 1.1, "reference": 10.0, "compliance": 1455.701}
    reason = "performance: the compliance run is 146x as fast"
    failed = Result("TEST04", "Offline", "resnet", [Check(performance.CHECK_SCORE, Outcome.FAIL, reason, speedup)])
    failed.findings.append(Finding("LoadGen said: " + HOSTILE, performance.CHECK_SCORE))
    p.verified(test04, Verdict.FAIL, reason + HOSTILE, outcome=failed)
    return [row for row in status.rows(plan) if row.test != status.REVIEW]  # the review's rows: its own tests
