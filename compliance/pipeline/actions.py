"""What the doit tasks do: module-level functions with explicit arguments (picklable, for ``doit -n``).

Each step records its outcome in the build folder (:mod:`compliance.records`) and returns doit values
``{"outcome": PASS|FAIL, "reason": ...}`` that the reporter shows. A step that failed fails the doit run only when
it is the last step of its cell that was asked for (:func:`compliance.pipeline.session.fails_here`); otherwise the
next step reports it (a verification of a failed run says so, the publication withdraws the cell and fails), so
``doit`` and ``doit --continue`` exit 1 when a cell fails, never 2. The promises:

* audit.config is in a working directory only while its run's command runs (the launcher's guarantee,
  :mod:`compliance.pipeline.launch.base`), and only files this project placed are ever removed
  (:mod:`compliance.pipeline.staging`);
* a run counts as done only when it finished, its logs are there, and its detail log shows the audit config was
  applied (a submission run: that none was): only then is its signature written, so an interrupted run is never
  taken for a finished one;
* a cell runs again only for failures noise can cause, while its ``attempts`` allow, and every attempt is kept with
  its entry in the cell's ledger (:mod:`compliance.pipeline.attempts`);
* the submission tree holds a cell's TEST folder only while the cell passes: a failing or unverifiable cell's
  folder is withdrawn (moved to ``build/withdrawn/``, never deleted); folders are written whole or not at all
  (:func:`compliance.fsutil.replace_folder`), in the upload form (docs/rules.md §8.2: what the official truncation
  would leave, so that it changes nothing after the tool), with the content identity of each file recorded; a
  folder replaced while it held a file the tool did not write is kept in ``build/withdrawn/`` first.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from compliance import __version__, errors, freshness, layout, records, status
from compliance.errors import InputError, plural
from compliance.fsutil import replace_folder, write_atomic
from compliance.layout import norm
from compliance.logs import LogError
from compliance.logs.detail import DetailLog, read_detail
from compliance.pipeline import attempts, launch, process, session
from compliance.pipeline.launch.base import Ending
from compliance.plan import CellPlan, ReferencePlan, RunPlan
from compliance.records import (
    Bad,
    CellState,
    PublishRecord,
    PublishState,
    RunRecord,
    RunState,
    TreeCopyRecord,
    VerifyKind,
    VerifyRecord,
    Where,
)
from compliance.specs import inputs as declared
from compliance.submission import truncation, upload
from compliance.verify import output, render
from compliance.verify.base import Request
from compliance.verify.checks import evidence, runs
from compliance.verify.result import Result, Verdict

#: what a task returns to doit: its values (saved, and shown by the reporter), or False to fail doit here
TaskResult = dict[str, Any] | bool


def _done(
    step: str, cells: list[str], problem: str | None, extra: dict[str, Any] | None = None, own: str | None = None
) -> TaskResult:
    """The task's result: values for doit (and the reporter); False when the failure must fail doit here."""
    verdict = Verdict.FAIL if problem else Verdict.PASS
    values = {"outcome": verdict.value, "reason": problem or "", **(extra or {})}
    if problem is not None and session.fails_here(step, cells, own=own):
        print(f"error: {step} {own or (cells[0] if len(cells) == 1 else ', '.join(cells))}: {problem}")
        return False
    if problem is not None:
        print(f"  failed: {problem}")
    return values


def _set_aside(found: Iterable[Bad]) -> None:
    """Move the step's records that cannot be read out of its way (named on the console, at once: stderr)."""
    for line in records.set_aside(found):
        print(f"  {line}", file=sys.stderr)


def _forget(run: RunPlan) -> None:
    """Forget the run's previous success before it starts (so a killed run is never taken for a finished one); the
    launcher clears the old logs when it starts a new command (:func:`compliance.pipeline.launch.base.clear_logs`)."""
    Path(run.files.signature()).unlink(missing_ok=True)
    Path(run.files.rerun_request).unlink(missing_ok=True)  # the rerun asked for is this one


def _collect_logs(run: RunPlan, started: float) -> str | None:
    """Copy the harness's logs into the build folder when it writes them elsewhere; None or why it failed."""
    if run.harness_log_dir is None:
        return None
    for name in layout.LOG_FILES:
        source = Path(run.harness_log_dir) / name
        if not source.exists() or source.stat().st_mtime < started - 1:
            return f"the harness wrote no new {name} in {run.harness_log_dir} (set log_dir, or pass {{log_dir}})"
        shutil.copy2(source, Path(run.files.logs) / name)
    return None


def _detail(run: RunPlan) -> DetailLog | str:
    try:
        return read_detail(os.path.join(run.files.logs, layout.DETAIL))
    except (OSError, LogError) as exc:
        return f"no readable detail log: {exc}"


def _execute(run: RunPlan, check: Callable[[DetailLog], str | None]) -> tuple[str | None, str]:
    """Launch a run, check its detail log with ``check`` (None or the problem), record how it ended."""
    state = records.read_run(run)
    _set_aside(state.bad)
    _forget(run)
    absent = declared.missing(run.inputs)  # an input that names nothing would do nothing, silently
    if absent:
        why = f"declared input {absent[0]}: correct 'inputs' in the system spec, or put the file there"
        RunRecord.ended(run.signature, run.signature_fields(), why, "inputs", {}, Where()).save(run.files.record)
        return why, "inputs"
    started = time.time()
    inputs = records.input_stamps(run.inputs, state.record.inputs if state.record else None)
    launched = launch.get(run.launcher.kind).launch(run)
    problem, kind = launched.problem, launched.ending.value
    if problem is None:
        problem, kind = _collect_logs(run, started), "logs"
    if problem is None:
        detail = _detail(run)
        problem, kind = (detail, "logs") if isinstance(detail, str) else (check(detail), "evidence")
    record = RunRecord.ended(
        run.signature, run.signature_fields(), problem, kind, inputs, launched.where, launched.duration_s
    )
    record.save(run.files.record)
    if problem is None:
        write_atomic(run.files.signature(), run.signature)
    return problem, kind


def _applied(plan: CellPlan) -> Callable[[DetailLog], str | None]:
    """The check of a compliance run's detail log: LoadGen found and applied the cell's audit.config."""

    def applied(detail: DetailLog) -> str | None:
        check = evidence.check_applied(detail, plan.test, plan.model, plan.cell.scenario)
        return None if check.passed else check.reason

    return applied


def run(plan: CellPlan) -> TaskResult:
    """Run the benchmark with the cell's audit.config; fail unless the config was found and applied."""
    problem, kind = _execute(plan.run, _applied(plan))
    return _done("run", [plan.cell.id], problem, {"kind": kind, "signature": plan.run.signature})


def reference(plan: ReferencePlan, cells: list[str]) -> TaskResult:
    """Produce a submission run (accuracy or performance) for ``cells``; it must show no audit config."""

    def clean(detail: DetailLog) -> str | None:
        if detail.audit_config_found:
            return "LoadGen found an audit.config: this run is contaminated"
        mode = runs.modes({plan.mode: detail})  # swapped or identical `modes:` words: never published as a pass
        return None if mode.passed else mode.reason

    problem, kind = _execute(plan.run, clean)
    return _done("reference", cells, problem, {"kind": kind, "signature": plan.run.signature}, own=plan.id)


def _prerequisite_failure(plan: CellPlan, runs: Sequence[RunState], skip: int = 0) -> str | None:
    """Why the cell cannot be verified: a run it needs (after the first ``skip``) failed or never ended, as its
    record says."""
    for (_, label, run), state in list(zip(plan.needed_runs(), runs, strict=True))[skip:]:
        record = state.record
        if record is None or record.signature != run.signature:
            return f"{label}: it did not run" if record is None else f"{label}: it did not run with this spec"
        if not record.passed:
            return f"{label}: {record.reason}"
    return None


def _timed_out(plan: CellPlan, runs: Sequence[RunState]) -> bool:
    """Whether the compliance run's current record says it timed out (noise can make a run slow: it may be retried)
    while the submission runs are fine."""
    record = runs[0].current(plan.run)
    return (
        record is not None and record.kind == Ending.TIMEOUT.value and _prerequisite_failure(plan, runs, skip=1) is None
    )


def _again(plan: CellPlan, attempt: int, why: str) -> None:
    """Start the cell's next attempt: say why, pause as the spec asks, run the benchmark again."""
    pause = f"; waiting {plan.attempt_pause:g} s first" if plan.attempt_pause else ""
    print(
        f"  {plan.cell.id}: attempt {attempt - 1} of {plan.attempts} failed by what noise can cause ({why}); "
        f"running attempt {attempt}{pause}",
        file=sys.stderr,
    )
    if plan.attempt_pause:
        time.sleep(plan.attempt_pause)
    _execute(plan.run, _applied(plan))


def verify(plan: CellPlan) -> TaskResult:
    """Verify the cell's compliance run; write its TEST folder into the build folder; record the verdict.

    When the verification fails only by what noise can cause (:attr:`compliance.verify.result.Result.retryable`,
    or a compliance run that timed out) and the cell allows more attempts (``attempts:``), the benchmark runs
    again (after ``attempt_pause`` seconds) and the new run is verified; every attempt is kept in the cell's ledger
    (:mod:`compliance.pipeline.attempts`), which verify.json and the TEST folder's text files list.
    """
    state = records.read_cell(plan)
    _set_aside(state.bad_verification)
    series = attempts.Series(plan, state.ledger)
    runs = state.runs
    why = ""
    for attempt in range(1, plan.attempts + 1):
        if attempt > 1:
            _again(plan, attempt, why)
            runs = tuple(records.read_run(run) for _, _, run in plan.needed_runs())
        last = attempt == plan.attempts
        waiting = _prerequisite_failure(plan, runs)
        if waiting is not None:
            retry = not last and _timed_out(plan, runs)
            if retry or attempt > 1:  # a single attempt that could not be verified is told as before
                series.record(attempt, None, f"not verified: {waiting}", None, retried=retry)
            if retry:
                why = waiting
                continue
            return _not_verified(plan, waiting)
        outcome, result = _verify_once(plan)
        if result is None:
            if attempt > 1:
                series.record(attempt, Verdict.FAIL, str(outcome.get("reason", "")), None, retried=False)
            return outcome["done"]
        reason = _reason(result)
        retry = not last and result.retryable
        series.record(attempt, result.verdict, reason, result, retried=retry)
        if retry:
            why = render.shortfall(result)
            continue
        result.attempts = [entry.to_dict() for entry in series.ledger]
        return _write_verdict(plan, result, reason)
    raise AssertionError("unreachable: the last attempt always returns")


def _record_verification(plan: CellPlan, verdict: Verdict | None, reason: str, kind: VerifyKind) -> None:
    """Record a verification's outcome, the digests of what it depended on and the stamps of its inputs."""
    inputs = {path: records.stamp(path) for path in plan.verify_inputs}
    meta = VerifyRecord(verdict, reason, kind, plan.verify_parts(__version__), inputs, time.time())
    meta.save(plan.files.verify_meta)


def _not_verified(plan: CellPlan, waiting: str) -> TaskResult:
    shutil.rmtree(plan.files.verified_dir, ignore_errors=True)  # no verdict of older logs is left to publish
    _record_verification(plan, None, waiting, VerifyKind.PREREQUISITE)
    return _done("verify", [plan.cell.id], f"not verified: {waiting}", {"kind": VerifyKind.PREREQUISITE.value})


def _reason(result: Result) -> str:
    failed = [f"{c.name}: {c.reason}" for c in result.checks if not c.passed]
    return failed[0] if failed else ("" if result.verdict is Verdict.PASS else "no check could be made")


def _failed_verification(plan: CellPlan, why: str, kind: VerifyKind) -> dict[str, Any]:
    """A verification that gave no verdict (bad input, a crash of the verifier): recorded, and the task's outcome."""
    shutil.rmtree(plan.files.verified_dir, ignore_errors=True)
    _record_verification(plan, Verdict.FAIL, why, kind)
    return {"reason": why, "done": _done("verify", [plan.cell.id], why, {"kind": kind.value})}


def _verify_once(plan: CellPlan) -> tuple[dict[str, Any], Result | None]:
    """Verify the compliance run as its logs are now: the result, or (when there is none) the task's outcome."""
    request = Request(
        plan.test,
        plan.model,
        Path(plan.run.files.logs),
        Path(plan.results_dir),
        plan.cell.scenario,
        plan.options,
        Path(plan.files.root),  # an accuracy command runs in a scratch folder here, removed afterwards
        runner=process.accuracy_runner,
    )
    try:
        result = plan.verifier.verify(request)
    except InputError as exc:
        _machine_stop(exc, plan.files.root)
        return _failed_verification(plan, f"verification: {exc}", VerifyKind.INPUT), None
    except Exception as exc:  # a bug of the verifier: the cell fails with its message, the traceback is shown
        _machine_stop(exc, plan.files.root)
        traceback.print_exc()
        why = f"the verifier crashed: {type(exc).__name__}: {exc}"
        return _failed_verification(plan, why, VerifyKind.CRASH), None
    # the system's audit_overrides: deviations from the official audit.config, told in the TEST folder and the summary
    for deviation in plan.test.deviations:
        result.note(deviation.describe(plan.test.name), evidence.CHECK_APPLIED)
        result.settings.setdefault("audit_deviations", {})[deviation.key] = asdict(deviation)
    return {}, result


def _machine_stop(exc: BaseException, where: str) -> None:
    """Raise again what the machine refused (a full disk, a read-only folder...: ``exc`` or its cause) as the OSError
    it is, naming ``where`` when it names no file: it is no verdict, so nothing is recorded, and the step fails with
    one line (:mod:`compliance.pipeline.steps`); the next ``doit`` does it again."""
    cause = exc if isinstance(exc, OSError) else exc.__cause__
    if isinstance(cause, OSError) and errors.os_problem(cause) is not None:
        raise OSError(cause.errno, cause.strerror, cause.filename or where) from None


def _write_verdict(plan: CellPlan, result: Result, reason: str) -> TaskResult:
    """Write the TEST folder of the verdict (the last attempt's logs) and record it."""
    try:
        output.write(plan.files.verify_dir, result, plan.verifier)
    except InputError as exc:
        _machine_stop(exc, plan.files.verify_dir)
        return _failed_verification(plan, f"verification: {exc}", VerifyKind.INPUT)["done"]
    _record_verification(plan, result.verdict, reason, VerifyKind.VERDICT)
    print(render.console(result, plan.verifier), end="")
    extra = {"kind": VerifyKind.VERDICT.value, "verdict": result.verdict.value}
    return _done("verify", [plan.cell.id], reason or None, extra)


def _withdraw(plan: CellPlan) -> str:
    """Move the cell's TEST folder out of the submission tree into build/withdrawn/; where it went ("" if absent)."""
    if not os.path.lexists(plan.tree_dir):
        return ""
    target = _unused(plan.files.withdrawn_dir)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.move(plan.tree_dir, target)
    return target


def _unused(folder: Callable[[str], str]) -> str:
    """``folder(<the time now>)``, or with ``.2``, ``.3``... after it when a folder of this second is there (a move
    onto it would put the folder inside the earlier one)."""
    when = time.strftime("%Y%m%dT%H%M%S")
    target, n = folder(when), 1
    while os.path.lexists(target):
        n += 1
        target = folder(f"{when}.{n}")
    return target


def publish(plan: CellPlan) -> TaskResult:
    """Copy the verified TEST folder into the submission tree when the cell passes; withdraw it otherwise."""
    unsafe = layout.check_tree_write(plan.tree_dir, plan.submission_dir, plan.cell.test)
    if unsafe is not None:
        return _done("publish", [plan.cell.id], f"refused to write: {unsafe}", {"kind": "copy"})
    state = records.read_cell(plan)
    _set_aside(state.bad_publication)
    meta, verdict = state.verification, state.verdict_stamp
    when = meta.time if meta is not None else None

    def recorded(what: PublishState, moved: str = "", reason: str = "") -> None:
        PublishRecord(what, when, verdict, moved, reason, time.time()).save(plan.files.publish_record)

    if meta is None or meta.verdict is not Verdict.PASS:
        reason = (meta.reason if meta is not None else "") or "not verified"
        try:
            moved = _withdraw(plan)
        except OSError as exc:
            return _done("publish", [plan.cell.id], f"cannot withdraw {plan.tree_dir}: {exc.strerror or exc}")
        recorded(PublishState.WITHDRAWN if moved else PublishState.ABSENT, moved)
        if moved:  # said at once, on stderr (doit shows it whatever the verbosity)
            print(f"  withdrew {plan.tree_dir} from the submission tree (kept in {moved})", file=sys.stderr)
        return _done("publish", [plan.cell.id], f"{plan.cell.test} fails: {reason}", {"kind": "verdict"})

    try:
        planned = freshness.tree_form(plan)
    except (OSError, truncation.NotText) as exc:
        why = f"cannot make the upload form of {plan.files.verified_dir}: {exc}"
        recorded(PublishState.COPY_FAILED, reason=why)
        return _done("publish", [plan.cell.id], why, {"kind": "copy"})
    try:
        _keep_aside(plan, state, planned)
        _write_form(plan.tree_dir, planned)
    except OSError as exc:
        why = f"cannot write {plan.tree_dir}: {exc.strerror or exc}"
        recorded(PublishState.COPY_FAILED, reason=why)
        return _done("publish", [plan.cell.id], why, {"kind": "copy"})
    identities = {p.name: p.identity.with_stamp(upload.file_stamp(norm(plan.tree_dir, p.name))) for p in planned}
    PublishRecord(PublishState.PUBLISHED, when, verdict, time=time.time(), files=identities).save(
        plan.files.publish_record
    )
    return _done("publish", [plan.cell.id], None)


def _write_form(tree: str, planned: list[upload.Planned], kept: Sequence[str] = (), kept_from: str = "") -> None:
    """Write a folder of the tree whole: the planned files (copied, or their bytes written) and the files ``kept``
    (the submitter's, by their path in the folder it replaces, or in ``kept_from`` where that folder was moved)."""

    def fill(staging: Path) -> None:
        for name in kept:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.join(kept_from or tree, name), staging / name)
        for p in planned:
            target = staging / p.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if p.data is not None:
                target.write_bytes(p.data)
            else:
                assert p.source is not None
                shutil.copy2(p.source, target)

    replace_folder(tree, fill)


def _keep_aside(plan: CellPlan, state: CellState, planned: list[upload.Planned]) -> None:
    """Before a TEST folder is replaced: when it holds anything the tool did not write there (a file, folder or link
    of the user's, the official scripts' output), a file the tool wrote that holds none of its forms (the official
    truncation's included), or anything at all when no record says the tool published it, move the folder to
    build/withdrawn/ (said on stderr), so that nothing is lost (issue 24 item 2)."""
    if not os.path.lexists(plan.tree_dir):
        return
    record = state.publication
    known = record.files if record is not None and record.state is PublishState.PUBLISHED else None
    if known is not None and not known:  # a record of an older version: the files the tool would write now
        known = {p.name: p.identity for p in planned}
    theirs = [] if os.path.isdir(plan.tree_dir) and not os.path.islink(plan.tree_dir) else [plan.tree_dir]
    if known is not None and not theirs:
        changed = upload.folder_changes(plan.tree_dir, known, lambda n: False)
        theirs = [
            f"{path} {upload.describe(change)}" for path, change in changed if change is not upload.Change.MISSING
        ]
    folders = {str(parent) for name in known or () for parent in Path(name).parents if str(parent) != "."}
    for top, dirs, files in os.walk(plan.tree_dir):
        for name in sorted(dirs + files):
            path = os.path.join(top, name)
            inner = os.path.relpath(path, plan.tree_dir)
            if known is None or (name in dirs and (os.path.islink(path) or inner not in folders)):
                theirs.append(path)
    if theirs:
        moved = _withdraw(plan)
        what = "; ".join(theirs[:3]) + ("; ..." if len(theirs) > 3 else "")
        print(f"  {plan.tree_dir} held what the tool did not write ({what}): kept it in {moved}", file=sys.stderr)


def _passed(run: RunPlan, state: RunState) -> str | None:
    """None when the run's last outcome, with this spec, is a finished PASS; else why not."""
    record = state.current(run)
    if record is None:
        return "it did not run with this spec"
    if not record.passed:
        return record.reason or "it failed"
    reasons = freshness.run_reasons(run, state)  # e.g. a log gone, or a declared input changed since
    return str(reasons[0]) if reasons else None


def foreign_results(ref: ReferencePlan, record: TreeCopyRecord | None) -> str | None:
    """Why the tree folder of a submission run is not the tool's to replace (None: absent, or holding only files
    the tool wrote there, in a form it wrote or the official truncation leaves of it (as its record says; or, for a
    record of an earlier release, with the stamps it recorded), or was writing when it was interrupted, and the
    submitter's own files of such a folder (docs/rules.md §8.3: ``accuracy/accuracy.txt``), which a new copy keeps)."""
    assert ref.tree_dir is not None
    if not os.path.lexists(ref.tree_dir):
        return None
    now = records.tree_stamps(ref.tree_dir)
    mine = record if record is not None and record.tree == ref.tree_dir else None
    theirs = []
    for name, stamp in sorted(now.items()):
        if upload.user_file(ref.mode, name) and stamp is not None:
            continue
        if mine is not None and _ours(ref.tree_dir, name, stamp, mine):
            continue
        theirs.append(name)
    if not theirs:
        return None
    what = f" ({', '.join(theirs[:3])}{', ...' if len(theirs) > 3 else ''})"
    return (
        f"{ref.tree_dir} holds results the tool did not write{what}: it is left as it is; move it away (or set "
        "'publish: false') to have this run copied there"
    )


def _ours(tree: str, name: str, stamp: records.Stamp | None, record: TreeCopyRecord) -> bool:
    """Whether a file of a submission run's folder is one the tool wrote (its record names it: edited since or not;
    a new copy keeps an edited folder in build/withdrawn/), or was writing, or held before a copy that was
    interrupted (a record of an earlier release: by its stamps)."""
    if name in record.identities:
        return True
    return any(
        known is not None and name in known and known[name] == stamp for known in (record.files, record.previous)
    )


def _withdraw_reference(ref: ReferencePlan) -> str:
    """Move a submission run's copy out of the tree into build/withdrawn/; where it went ("" if absent)."""
    assert ref.tree_dir is not None
    if not os.path.lexists(ref.tree_dir):
        return ""
    moved = _unused(partial(layout.withdrawn_reference_dir, ref.system, ref.benchmark, ref.scenario, ref.mode))
    os.makedirs(os.path.dirname(moved), exist_ok=True)
    shutil.move(ref.tree_dir, moved)
    print(f"  withdrew {ref.tree_dir} from the submission tree (kept in {moved})", file=sys.stderr)
    return moved


def publish_reference(ref: ReferencePlan, cells: list[str]) -> TaskResult:
    """Copy a produced submission run's LoadGen logs into the tree's results layout (``reference: {publish: true}``),
    atomically, into a folder that is absent or the tool's own (its record says what the tool wrote there); a
    folder of anyone else is refused, never touched. A run that does not pass now is withdrawn from the tree
    (moved to ``build/withdrawn/``)."""
    tree = ref.tree_dir
    assert tree is not None
    label = f"submission {ref.mode} run"
    if not layout.inside(tree, ref.submission_dir) or os.path.realpath(tree) == os.path.realpath(ref.submission_dir):
        return _done("publish", cells, f"refused to write: {tree} is not inside {ref.submission_dir}", own=ref.id)
    state = records.read_reference(ref)
    _set_aside(state.bad_copy)  # then the folder in the tree is not known as ours: it is refused, never replaced
    record = state.copy
    source = freshness.reference_source(ref, state.run)
    foreign = foreign_results(ref, record)
    if foreign is not None:
        files, previous = ({}, None) if record is None or record.tree != tree else (record.files, record.previous)
        TreeCopyRecord(tree, PublishState.REFUSED, files, previous, source, foreign).save(ref.publish_record)
        return _done("publish", cells, foreign, {"kind": "copy"}, own=ref.id)
    failed = _passed(ref.run, state.run)
    if failed is not None:
        try:
            moved = _withdraw_reference(ref)
        except OSError as exc:
            return _done("publish", cells, f"cannot withdraw {tree}: {exc.strerror or exc}", own=ref.id)
        what = PublishState.WITHDRAWN if moved else PublishState.ABSENT
        TreeCopyRecord(tree, what, {}, None, source, moved_to=moved).save(ref.publish_record)
        return _done("publish", cells, f"{label}: {failed}", {"kind": "reference"}, own=ref.id)
    logs = [p for p in ref.run.logs if os.path.exists(p)]
    try:
        planned = upload.results_folder(ref.mode, logs)
    except OSError as exc:
        return _done("publish", cells, f"cannot read the submission run's logs: {exc.strerror or exc}", own=ref.id)
    intended = {os.path.basename(p): records.stamp(p) for p in logs}  # copy2 keeps the times: the copies' stamps
    identities = {p.name: p.identity for p in planned}
    previous = records.tree_stamps(tree) if os.path.lexists(tree) else None
    kept = sorted(n for n, st in (previous or {}).items() if st is not None and upload.user_file(ref.mode, n))
    kept_from = ""
    if record is not None and record.identities and previous is not None:
        edited = [p for p, c in upload.folder_changes(tree, record.identities) if c is not upload.Change.MISSING]
        if edited:  # files the tool wrote, changed in the tree: restored, the folder as it was kept aside
            try:
                kept_from, previous = _withdraw_reference(ref), None
            except OSError as exc:
                return _done("publish", cells, f"cannot set {tree} aside: {exc.strerror or exc}", own=ref.id)
    # the record first (as staging does for audit.config): a copy interrupted midway is still known as ours
    TreeCopyRecord(tree, PublishState.WRITING, intended, previous, source, identities=identities).save(
        ref.publish_record
    )
    try:
        _write_form(tree, planned, kept, kept_from)
    except OSError as exc:
        why = f"cannot write {tree}: {exc.strerror or exc}"
        TreeCopyRecord(tree, PublishState.COPY_FAILED, intended, previous, source, why, identities=identities).save(
            ref.publish_record
        )
        return _done("publish", cells, why, {"kind": "copy"}, own=ref.id)
    written = {n: i.with_stamp(upload.file_stamp(norm(tree, n))) for n, i in identities.items()}
    TreeCopyRecord(tree, PublishState.PUBLISHED, records.tree_stamps(tree), None, source, identities=written).save(
        ref.publish_record
    )
    if kept:
        print(f"  kept the submitter's {', '.join(kept)} in {tree}", file=sys.stderr)
    return _done("publish", cells, None, own=ref.id)


def outcome() -> bool:
    """The verdict of the whole: every required cell passes, and every check of the trees before upload (else a
    line per row that does not, and False)."""
    passing = (status.RowStatus.PASS, status.RowStatus.NOT_REQUIRED)
    rows = [r for r in status.rows(session.load_plan()) if r.status not in passing]
    for row in rows:
        print(f"  {row.status:8s} {row.system}/{row.benchmark}/{row.scenario}/{row.test}: {row.reason}")
    cells = sum(1 for r in rows if not status.is_tree_row(r))
    if cells:
        print(f"error: {cells} required cell{'s do' if cells > 1 else ' does'} not pass (doit summary)")
    if len(rows) > cells:
        checks = len(rows) - cells
        verb = "does" if checks == 1 else "do"
        print(f"error: {plural(checks, 'row')} of the checks before upload {verb} not pass (doit summary)")
    return not rows
