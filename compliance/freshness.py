"""The one freshness rule: is a step's last outcome still the truth, and if not, why (reasons as data).

doit's up-to-date checks (:mod:`compliance.pipeline.tasks`) and the summary (:mod:`compliance.status`) both ask
here, so ``doit info TASK`` and ``doit summary`` give the same reasons. In the manner of DVC's ``changed()``, each
function takes the step's plan and its state as the build folder holds it (:mod:`compliance.records.state`, read
once by the caller) and returns the list of :class:`Reason` why the step must run again (empty: it is up to date):

* a run: a record of it cannot be read (named: it is set aside when the run starts), never run, a rerun asked for
  (``mlperf-compliance rerun``), interrupted, failed, or a field of its signature changed (command, environment,
  working directory, audit.config, ...: named), a declared input changed, or a log is missing;
* a verification: a record of it cannot be read, never verified, a part it depends on changed (test spec, model
  spec, options, version: named), or an input file changed or went missing (named);
* a publication: its record cannot be read, the verdict changed since it was copied (or withdrawn), or a file of the
  TEST folder in the tree holds none of the forms the tool may have written (its upload form, or a form the official
  truncation leaves of it: :mod:`compliance.submission.upload`; named, with how it changed: missing, edited, cut
  otherwise, the full log back), or the folder holds a file the tool did not write; for a submission run copied
  into the tree's results layout (``reference: {publish: true}``): the run changed since, the copy was refused or
  failed, or a file the tool wrote there is missing or holds none of its forms (the submitter's ``accuracy.txt``
  and the log the truncation cut once it is there are not a change);
* the review of a system's part of the tree: its record cannot be read, it never ran, the round, the specs its cells
  depend on or the version changed (named), or a file under the system's folders (or about it: its
  ``systems/<system>.json``, the model mappings) changed, appeared or went since (named): by their stamps;
* a check of a submission tree before upload (pre-flight, the official checker): its record cannot be read, it never
  ran, what it depends on changed (the round, the systems, the checkout...: named), or a file of the tree changed,
  appeared or went since (named).

Layer: above :mod:`compliance.records` and :mod:`compliance.plan`; below the status and the pipeline.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from compliance import __version__, records
from compliance.plan import CellPlan, ReferencePlan, ReviewPlan, RunPlan, TreePlan
from compliance.records import (
    Bad,
    CellState,
    InputStamp,
    PublishState,
    ReferenceState,
    ReviewRecord,
    RunState,
    Stamp,
    TreeCheckRecord,
    VerifyKind,
)
from compliance.submission import truncation, upload


class ReasonKind(StrEnum):
    """What a reason is about (for machines; the text is for people)."""

    BAD = "bad"  # a record cannot be read: set aside when the step runs
    NEVER = "never"  # never ran (or did not finish)
    REQUESTED = "requested"  # a rerun was asked for
    FAILED = "failed"  # the last attempt failed
    CHANGED = "changed"  # a field of the step's spec changed
    MISSING = "missing"  # a file the step wrote is gone
    INPUT = "input"  # an input file changed
    VERDICT = "verdict"  # what a copy comes from changed
    TREE = "tree"  # the submission tree does not hold what was copied there


@dataclass(frozen=True)
class Reason:
    """Why a step's last outcome is not the truth now: a kind (for machines) and a sentence (for people)."""

    kind: ReasonKind
    text: str

    def __str__(self) -> str:
        return self.text


def _bad(found: tuple[Bad, ...]) -> list[Reason]:
    return [Reason(ReasonKind.BAD, f"{found[0]}: it is set aside and done again")] if found else []


def run_reasons(run: RunPlan, state: RunState) -> list[Reason]:
    """Why ``run`` must run (again)."""
    if state.bad:
        return _bad(state.bad)
    record = state.record
    if record is None:
        return [Reason(ReasonKind.NEVER, "it has not run yet")]
    if state.requested:
        by = (state.request.by if state.request else "") or "mlperf-compliance rerun"
        return [Reason(ReasonKind.REQUESTED, f"a rerun was asked for ({by})")]
    changed = _changed_fields(record.fields, run.signature_fields())
    if changed or record.signature != run.signature:
        return [Reason(ReasonKind.CHANGED, f"the {', '.join(changed) or 'run'} changed since the last run")]
    if not record.passed:
        return [Reason(ReasonKind.FAILED, f"the last run failed: {record.reason or 'no reason recorded'}")]
    changed_inputs = _changed_inputs(run, record.inputs)
    if changed_inputs:
        return [Reason(ReasonKind.INPUT, f"the declared input {changed_inputs[0]} since the last run")]
    if state.signed != run.signature:
        return [Reason(ReasonKind.NEVER, "the last run did not finish (interrupted)")]
    missing = [log for log in run.logs if not os.path.exists(log)]
    if missing:
        return [Reason(ReasonKind.MISSING, f"{missing[0]} is missing")]
    return []


def _changed_inputs(run: RunPlan, before: dict[str, InputStamp]) -> list[str]:
    """The declared inputs whose content changed (or that appeared or went), as phrases."""
    if not run.inputs:
        return []
    now = records.input_stamps(run.inputs, before)
    phrases = [f"{p} appeared" for p in sorted(set(now) - set(before))]
    phrases += [f"{p} is gone" for p in sorted(set(before) - set(now))]
    phrases += [f"{p} changed" for p in sorted(set(now) & set(before)) if now[p][1] != before[p][1]]
    return phrases


def _changed_fields(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    if not recorded:  # a record without its fields: the signature alone tells
        return []
    return [name for name, value in now.items() if recorded.get(name) != value]


def verify_reasons(cp: CellPlan, state: CellState) -> list[Reason]:
    """Why the cell must be verified (again)."""
    if state.bad_verification:
        return _bad(state.bad_verification)
    meta = state.verification
    if meta is None:
        return [Reason(ReasonKind.NEVER, "it has not been verified yet")]
    changed = [name for name, value in cp.verify_parts(__version__).items() if meta.parts.get(name) != value]
    if changed:
        return [Reason(ReasonKind.CHANGED, f"the {', '.join(changed)} changed since the last verification")]
    for path in cp.verify_inputs:
        now = records.stamp(path)
        if path not in meta.inputs or meta.inputs[path] != now:
            what = "is missing" if now is None else "changed"
            return [Reason(ReasonKind.INPUT, f"{path} {what} since the last verification")]
    if meta.kind is VerifyKind.VERDICT and state.verdict_stamp is None:
        return [Reason(ReasonKind.MISSING, f"{cp.files.verify_json} is missing")]
    return []


def publish_reasons(cp: CellPlan, state: CellState) -> list[Reason]:
    """Why the cell's TEST folder must be copied into (or withdrawn from) the submission tree again."""
    if state.bad_publication:
        return _bad(state.bad_publication)
    record = state.publication
    if record is None:
        return [Reason(ReasonKind.NEVER, "it has not been published yet")]
    meta = state.verification
    if record.verify != (meta.time if meta else None) or record.verdict != state.verdict_stamp:
        return [Reason(ReasonKind.VERDICT, "the verification changed since the TEST folder was published")]
    if record.state is PublishState.COPY_FAILED:
        return [Reason(ReasonKind.FAILED, f"the copy into the submission tree failed: {record.reason}")]
    if record.state is PublishState.PUBLISHED:
        try:
            identities = record.files or {p.name: p.identity for p in tree_form(cp)}
        except (OSError, truncation.NotText) as exc:
            return [Reason(ReasonKind.TREE, f"the upload form of {cp.files.verified_dir} cannot be made: {exc}")]
        changes = upload.folder_changes(cp.tree_dir, identities, theirs=lambda name: False)
        if changes:
            path, change = changes[0]
            return [Reason(ReasonKind.TREE, f"{path} {upload.describe(change)}")]
    elif os.path.exists(cp.tree_dir):
        return [Reason(ReasonKind.TREE, f"{cp.tree_dir} is in the submission tree but the cell does not pass")]
    return []


def tree_form(cp: CellPlan) -> list[upload.Planned]:
    """The upload form of the cell's verified TEST folder: what its copy in the tree holds (docs/rules.md §8.2).

    Raises:
        OSError: a file of the verified folder cannot be read.
        truncation.NotText: its accuracy log is not text the official truncation can cut.
    """
    return upload.test_folder(cp.cell.test, cp.files.verified_dir, cp.verifier.files_in(cp.files.verified_dir))


def reference_source(ref: ReferencePlan, run: RunState) -> records.Source:
    """What a submission run's copy in the tree comes from: the run's record (its time and signature) and the
    stamps of its logs in the build folder."""
    record = run.record
    return records.Source(
        record.time if record else None,
        record.signature if record else None,
        {os.path.basename(p): records.stamp(p) for p in ref.run.logs},
    )


def reference_publish_reasons(ref: ReferencePlan, state: ReferenceState) -> list[Reason]:
    """Why a produced submission run must be copied into (or withdrawn from) the tree's results layout again."""
    assert ref.tree_dir is not None
    if state.bad_copy:
        return _bad(state.bad_copy)
    record = state.copy
    if record is None:
        return [Reason(ReasonKind.NEVER, "it has not been copied into the submission tree yet")]
    if record.tree != ref.tree_dir:
        return [Reason(ReasonKind.CHANGED, f"its folder in the submission tree is now {ref.tree_dir}")]
    if record.state is PublishState.REFUSED:
        return [Reason(ReasonKind.FAILED, f"the copy into the submission tree was refused: {record.reason}")]
    if record.state in (PublishState.COPY_FAILED, PublishState.WRITING):
        why = record.reason or "it was interrupted"
        return [Reason(ReasonKind.FAILED, f"the last copy into the submission tree failed: {why}")]
    if record.source != reference_source(ref, state.run):
        return [Reason(ReasonKind.VERDICT, "the submission run changed since it was copied into the submission tree")]
    if record.state is PublishState.PUBLISHED:
        if record.identities:  # files the user added beside ours are theirs: not a reason (a new copy keeps them)
            changes = upload.folder_changes(ref.tree_dir, record.identities)
            if changes:
                path, change = changes[0]
                return [Reason(ReasonKind.TREE, f"{path} {upload.describe(change)}")]
            return []
        now, wrote = records.tree_stamps(ref.tree_dir), record.files  # a record of an earlier release: its stamps
        missing = [os.path.join(ref.tree_dir, f) for f in sorted(wrote) if f not in now]
        if missing:
            return [Reason(ReasonKind.TREE, f"{missing[0]} is missing from the submission tree")]
        changed = [os.path.join(ref.tree_dir, f) for f in sorted(wrote) if now[f] != wrote[f]]
        if changed:
            return [Reason(ReasonKind.TREE, f"{changed[0]} changed in the submission tree since it was copied")]
    return []


def tree_parts(tp: TreePlan, checkout: str | None = None) -> dict[str, str]:
    """What a check of the tree before upload depends on besides the tree's files: the tree plan's parts, and for
    the official checker its checkout and the stamps of the checkout's scripts."""
    parts = tp.parts(__version__)
    if checkout is None:
        return parts
    stamps = records.tree_stamps(os.path.join(checkout, "tools", "submission"))
    digest = hashlib.sha256(repr(sorted(stamps.items())).encode()).hexdigest()[:16]
    return {**parts, "checkout": checkout, "checkout's scripts": digest}


def tree_reasons(
    tp: TreePlan, checkout: str | None, found: TreeCheckRecord | None, bad: tuple[Bad, ...]
) -> list[Reason]:
    """Why the pre-flight of tree ``tp`` (``checkout`` None) or the official checker of ``checkout`` on it must run
    again: ``found`` is its record (``bad``: it cannot be read)."""
    what = "pre-flight" if checkout is None else "official checker"
    return tree_check_reasons(tp, what, found, bad, tree_parts(tp, checkout))


def tree_check_reasons(
    tp: TreePlan, what: str, found: TreeCheckRecord | None, bad: tuple[Bad, ...], parts: dict[str, str]
) -> list[Reason]:
    """Why a check of the tree ``tp`` before upload (``what``: "pre-flight", "official checker") must run again:
    ``found`` is its record (``bad``: it cannot be read), ``parts`` what it depends on now."""
    if bad:
        return _bad(bad)
    if found is None:
        return [Reason(ReasonKind.NEVER, f"the {what} has not run yet")]
    changed = [name for name, value in parts.items() if found.parts.get(name) != value]
    if changed:
        return [Reason(ReasonKind.CHANGED, f"the {', '.join(changed)} changed since the {what}")]
    return changed_files(records.tree_stamps(tp.submission_dir), found.tree, tp.submission_dir, what)


def changed_files(
    now: dict[str, Stamp | None],
    before: dict[str, Stamp | None],
    root: str,
    what: str,
    digests: Mapping[str, str] | None = None,
) -> list[Reason]:
    """The first file (by its path under ``root``) whose stamp changed, or that appeared or went, since ``what``; a
    file whose stamp changed but whose content is the one recorded in ``digests`` (rewritten with the same bytes,
    as the official truncation rewrites what it already cut) did not change."""
    for name in sorted(set(now) | set(before)):
        if name not in now or name not in before or now[name] != before[name]:
            if _same_bytes(os.path.join(root, name), now.get(name), before.get(name), (digests or {}).get(name)):
                continue
            how = "appeared" if name not in before else "is gone" if name not in now else "changed"
            return [Reason(ReasonKind.INPUT, f"{os.path.join(root, name)} {how} since the {what}")]
    return []


def _same_bytes(path: str, now: Stamp | None, before: Stamp | None, digest: str | None) -> bool:
    return bool(digest and now and before and now[1] == before[1] and records.content_digest(path) == digest)


#: the files of a system's part of the tree up to this size have their content digest in the review's record
DIGESTED_BYTES = 64 << 20


def review_digests(rp: ReviewPlan, stamps: Mapping[str, Stamp | None]) -> dict[str, str]:
    """The sha256 of each file of ``stamps`` (:func:`review_stamps`) up to :data:`DIGESTED_BYTES`."""
    out = {}
    for name, s in stamps.items():
        if s is not None and s[1] <= DIGESTED_BYTES:
            digest = records.content_digest(os.path.join(rp.submission_dir, name))
            if digest is not None:
                out[name] = digest
    return out


def review_stamps(rp: ReviewPlan) -> dict[str, Stamp | None]:
    """The stamps of what the review of a system reads in the tree (its folders, every file in them, and the
    files about it), by path relative to the tree's root; a missing one is absent."""
    found: dict[str, Stamp | None] = {}
    for folder in rp.folders:
        base = os.path.relpath(folder, rp.submission_dir)
        found.update({os.path.join(base, name): s for name, s in records.tree_stamps(folder).items()})
    for path in rp.files:
        here = records.stamp(path)
        if here is not None:
            found[os.path.relpath(path, rp.submission_dir)] = here
    return found


def review_reasons(rp: ReviewPlan, record: ReviewRecord | None, bad: tuple[Bad, ...]) -> list[Reason]:
    """Why the review of a system's part of the tree must run (again): its record cannot be read, it never ran,
    what it depends on changed (named), or a file under the system's folders changed, appeared or went (named)."""
    if bad:
        return _bad(bad)
    if record is None:
        return [Reason(ReasonKind.NEVER, "the review has not run yet")]
    changed = [name for name, value in rp.parts(__version__).items() if record.parts.get(name) != value]
    if changed:
        return [Reason(ReasonKind.CHANGED, f"the {', '.join(changed)} changed since the review")]
    return changed_files(review_stamps(rp), record.files, rp.submission_dir, "review", record.digests)
