"""A cell's attempts: each run a verification makes is kept in its own folder with its ledger entry.

``build/<cell>/attempts/<n>/`` (:mod:`compliance.layout`) holds an attempt's LoadGen logs (hard links to the logs the
run wrote, a copy where links cannot be made: a new run's logs are new files, as its launcher removes the old ones
before the command starts, so the links stay the attempt's), a copy of its command's output (which the next run
rewrites in place), its verify.json and its entry of the ledger (``attempt.json``,
:class:`compliance.records.AttemptEntry`).
Each folder is written whole or not at all (:func:`compliance.fsutil.replace_folder`) once its attempt is verified,
so a killed doit loses only the attempt it was running.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from compliance import layout
from compliance.fsutil import replace_folder
from compliance.plan import CellPlan
from compliance.records import AttemptEntry
from compliance.verify import render
from compliance.verify.result import Result, Verdict


def _keep(source: str, target: Path, link: bool = True) -> None:
    """``target`` becomes the file ``source`` (a hard link if asked and possible, else a copy that keeps its times);
    nothing if absent."""
    if not os.path.isfile(source):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if link:
            os.link(source, target)
            return
    except OSError:
        pass
    shutil.copy2(source, target)


class Series:
    """The attempts of one verification of a cell: numbered from 1 within the series, and in the cell's ledger."""

    def __init__(self, plan: CellPlan, ledger: Sequence[AttemptEntry]):
        """Start a series after the cell's ``ledger`` (:attr:`compliance.records.CellState.ledger`)."""
        self.plan = plan
        self.ledger = list(ledger)  # the cell's attempts, oldest first, with this series' as they are recorded
        self.number = max((e.number for e in ledger), default=0)
        self.series = max((e.series for e in ledger), default=0) + 1

    def record(
        self, attempt: int, verdict: Verdict | None, reason: str, result: Result | None, retried: bool
    ) -> AttemptEntry:
        """Keep the attempt just verified (its logs, output, verdict: None when it could not be verified) and return
        its ledger entry."""
        self.number += 1
        folder = self.plan.files.attempt_dir(self.number)
        while os.path.lexists(folder):  # a folder a killed doit left without its entry: never reused
            self.number += 1
            folder = self.plan.files.attempt_dir(self.number)
        entry = AttemptEntry(
            number=self.number,
            series=self.series,
            attempt=attempt,
            of=self.plan.attempts,
            time=time.time(),
            verdict=verdict,
            reason=reason,
            short=render.shortfall(result) if result is not None else reason,
            figures=self.plan.verifier.figures(result.to_dict()) if result is not None else "",
            retried=retried,
            folder=folder,
        )
        run = self.plan.run.files

        def fill(staging: Path) -> None:
            for name in layout.LOG_FILES:
                _keep(os.path.join(run.logs, name), staging / "logs" / name)
            _keep(run.output, staging / os.path.basename(run.output), link=False)  # the next run rewrites it
            if result is not None:
                (staging / layout.VERIFY_JSON).write_text(render.verify_json(result), encoding="utf-8")
            entry.save(str(staging / layout.ATTEMPT_JSON))

        os.makedirs(self.plan.files.attempts_dir, exist_ok=True)
        replace_folder(folder, fill)
        self.ledger.append(entry)
        return entry
