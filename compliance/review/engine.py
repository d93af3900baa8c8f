"""Review a submission tree, or any folder inside it: walk it, review its cells in parallel, then check across them.

The flow: :func:`compliance.review.tree.walk` lists the cells (no file opened); each cell in scope is reviewed by
:func:`compliance.review.cell.review_cell` in a process pool (``jobs`` processes; one cell's logs are read once, in
one worker), which returns its records and the facts of every log it read; the round is then decided (``--round``,
or the seeds of the logs: :mod:`compliance.review.seeds`), and :mod:`compliance.review.cross` checks what needs
more than one cell. The result is a :class:`Review` of plain objects, which :mod:`compliance.review.output` renders
(the pipeline's ``review:<system>`` task calls :func:`review` on the system's organisation folder with
``Options.systems`` naming it, and stores :func:`compliance.report.jsondoc.document` of its report).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TextIO

from compliance.errors import InputError
from compliance.review import cross, models, seeds
from compliance.review.cell import Job, review_cell
from compliance.review.facts import FileFacts
from compliance.review.outcome import CellOutcome, Record
from compliance.review.progress import Progress
from compliance.review.tree import Cell, CellKey, find_root, in_scope, inside, walk
from compliance.specs.types import Specs
from compliance.verify.result import Outcome


@dataclass
class Options:
    round: str | None = None  # None: decided from the logs' seeds
    jobs: int = 0  # processes; 0: one per core
    progress: TextIO | None = None  # where progress goes (None: nowhere)
    systems: tuple[str, ...] = ()  # only the cells of these systems (none: every system in scope)


@dataclass
class Review:
    """What a review found: its records (one per folder), and how it went."""

    root: str
    scope: str
    round: str
    round_evidence: str
    records: list[Record]
    cells: int
    seconds: float
    jobs: int
    logs_read: int = 0
    bytes_read: int = 0
    not_checkable: Counter[str] = field(default_factory=Counter)  # reason (numbers and paths generalised) -> checks


_SPECIFIC = re.compile(r"(\S*/\S*)|\d[\d.,]*")


def reason_kind(check: dict[str, Any]) -> str:
    """A NOT CHECKABLE check's reason for counting them: its cause when the verifier names one, else its reason
    with paths and numbers generalised."""
    if check.get("cause"):
        return f"{check['name']}: {check['cause']}"
    return f"{check['name']}: " + _SPECIFIC.sub(lambda m: "PATH" if m.group(1) else "N", check["reason"])[:160]


_specs: Specs | None = None
_root = ""
_PR_SET_PDEATHSIG = 1  # prctl(2)
_WORKER_END_S = 5  # how long a worker told to end (SIGTERM) has before SIGKILL


def _init(specs: Specs, root: str) -> None:
    """A worker's start: the specs and the tree's root, and (Linux) its end when the review's process ends, however
    it ends (killed, a SIGTERM that stops it before it can shut its pool down): no worker outlives a review."""
    global _specs, _root
    _specs, _root = specs, root
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the review's process ends them
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the review's own handler (inherited): a SIGTERM ends a worker
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown ends them
        pass
    if os.getppid() == 1:  # the review ended before this worker asked
        os._exit(1)


def _work(job: Job) -> CellOutcome:
    assert _specs is not None
    return review_cell(job, _specs, _root)


def _jobs(selected: list[Cell], hints: dict[CellKey, tuple[str, ...]], scope: str) -> list[Job]:
    jobs = []
    for cell in selected:
        whole = any(inside(folder, scope) for folder in cell.folders())
        tests = None if whole else tuple(t for t, p in cell.tests.items() if inside(p, scope) or inside(scope, p))
        runs = whole or (cell.results_dir is not None and inside(scope, cell.results_dir))
        if not whole and not runs and not tests:
            continue
        jobs.append(Job(cell, hints[cell.key], tests, runs))
    return jobs


def _run(
    jobs: list[Job], specs: Specs, root: str, workers: int, report: Callable[[int, int], None]
) -> Iterator[CellOutcome]:
    folders = 0
    if workers <= 1 or len(jobs) <= 1:
        for done, job in enumerate(jobs, 1):
            outcome = review_cell(job, specs, root)
            folders += len(outcome.records)
            report(done, folders)
            yield outcome
        return
    # the biggest cells first, so that no worker is left with a long one at the end
    order = sorted(jobs, key=lambda j: -len(j.cell.tests))
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(specs, root))
    try:
        futures = [pool.submit(_work, job) for job in order]
        for done, future in enumerate(as_completed(futures), 1):
            outcome = future.result()
            folders += len(outcome.records)
            report(done, folders)
            yield outcome
    except BaseException:  # interrupted (or a worker died): the workers end now, not after their current cell
        children = multiprocessing.active_children()
        for child in children:
            child.terminate()
        for child in children:
            child.join(_WORKER_END_S)
            if child.is_alive():
                child.kill()
        raise
    finally:
        # the pool's shutdown always waits for its own thread (which, after an interruption, sees its workers gone
        # and closes its pipe): left running, it could close that pipe while the interpreter's exit writes to it,
        # and a stopped review printed "Exception ignored ... Bad file descriptor" with a traceback
        pool.shutdown(wait=True, cancel_futures=True)


def review(path: str, specs: Specs, options: Options | None = None) -> Review:
    """Review the submission tree holding ``path``, within ``path``.

    Raises:
        InputError: ``path`` is in no submission tree, or the round is unknown or cannot be told from the logs.
    """
    options = options or Options()
    start = time.monotonic()
    root = find_root(path)
    scope = os.path.abspath(path)
    cells = walk(root)
    selected = [
        cell
        for cell in cells.values()
        if in_scope(cell, scope) and (not options.systems or cell.key.system in options.systems)
    ]
    hints = _hints(root, cells)
    jobs = _jobs(selected, hints, scope)
    if not jobs:
        raise InputError(f"{path}: no TEST folder and no submission run to review there")
    workers = options.jobs or os.cpu_count() or 1
    progress = Progress(options.progress, len(jobs))
    outcomes: list[CellOutcome] = []
    try:
        outcomes = list(_run(jobs, specs, root, workers, progress.update))
    finally:
        progress.close()
    facts: dict[str, FileFacts] = {}
    records: dict[CellKey, list[Record]] = {}
    for outcome in outcomes:
        facts.update(outcome.facts)
        records.setdefault(outcome.key, []).extend(outcome.records)
    known = seeds.table(specs.rounds)
    fallback = seeds.of_specs((k.system for k in cells), specs.systems)
    detail_seeds = (f.seeds for f in facts.values() if f.kind == "detail")
    decision = seeds.decide(options.round, detail_seeds, known, specs.rounds, fallback)
    rnd = specs.rounds[decision.round]
    cross.required_tests({k: cells[k] for k in records}, records, specs, hints, rnd, root)
    cross.seeds_and_scenarios(records, facts, decision.round, known, cross.system_types(root, list(records)), root)
    cross.copies(records, facts, root)
    flat = sorted((r for found in records.values() for r in found), key=lambda r: (r.key, _order(r)))
    flat = [r for r in flat if inside(r.path, scope) or any(inside(f, scope) for f in cells[r.key].folders())]
    result = Review(root, scope, decision.round, decision.evidence, flat, len(jobs), time.monotonic() - start, workers)
    result.logs_read = len(facts)
    result.bytes_read = sum(f.size for f in facts.values())
    for record in flat:
        for check in record.checks:
            if check["outcome"] == Outcome.NOT_CHECKABLE.value:
                result.not_checkable[reason_kind(check)] += 1
    return result


def _order(record: Record) -> tuple[int, str]:
    return ({"run": 0, "test": 1, "missing": 1, "stray": 2}.get(record.kind, 3), record.test)


def _hints(root: str, cells: dict[CellKey, Cell]) -> dict[CellKey, tuple[str, ...]]:
    """The tree's other names for each cell's benchmark (its ``model_mapping.json``)."""
    mappings: dict[tuple[str, str], dict[str, str]] = {}
    found: dict[CellKey, tuple[str, ...]] = {}
    for key in cells:
        org = (key.division, key.org)
        if org not in mappings:
            mappings[org] = models.read_mapping(root, key.division, key.org)[0]
        found[key] = (mappings[org][key.benchmark],) if key.benchmark in mappings[org] else ()
    return found
