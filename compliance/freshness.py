"""The one freshness rule: is a step's last outcome still the truth, and if not, why (reasons as data).

doit's up-to-date checks (:mod:`compliance.pipeline.tasks`) and the summary (:mod:`compliance.status`) both ask
here, so ``doit info TASK`` and ``doit summary`` give the same reasons. In the manner of DVC's ``changed()``, each
function returns the list of :class:`Reason` why a step must run again (empty: it is up to date):

* a run: never run, a rerun asked for (``mlperf-compliance rerun``), interrupted, failed, or a field of its
  signature changed (command, environment, working directory, audit.config, ...: named), or a log is missing;
* a verification: never verified, a part it depends on changed (test spec, model spec, options, version: named),
  or an input file changed or went missing (named);
* a publication: the verdict changed since it was copied (or withdrawn), or a file of the TEST folder in the tree
  is missing; for a submission run copied into the tree's results layout (``reference: {publish: true}``): the run
  changed since, the copy was refused or failed, or a file the tool wrote there is missing or was changed.

Layer: above :mod:`compliance.records` and :mod:`compliance.plan`; below the status and the pipeline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance import __version__, records
from compliance.plan import CellPlan, ReferencePlan, RunPlan


@dataclass(frozen=True)
class Reason:
    """Why a step's last outcome is not the truth now: a kind (for machines) and a sentence (for people)."""

    kind: str  # never, requested, failed, changed, missing, input, verdict, tree
    text: str

    def __str__(self) -> str:
        return self.text


def run_reasons(run: RunPlan) -> list[Reason]:
    """Why ``run`` must run (again)."""
    record = records.read_run(run.files)
    if record is None:
        return [Reason("never", "it has not run yet")]
    request = records.read_json(run.files.rerun_request)
    if request is not None or os.path.lexists(run.files.rerun_request):
        by = (request or {}).get("by") or "mlperf-compliance rerun"
        return [Reason("requested", f"a rerun was asked for ({by})")]
    changed = _changed_fields(record.get("fields"), run.signature_fields())
    if changed or record.get("signature") != run.signature:
        return [Reason("changed", f"the {', '.join(changed) or 'run'} changed since the last run")]
    if record.get("status") != records.PASS:
        return [Reason("failed", f"the last run failed: {record.get('reason') or 'no reason recorded'}")]
    changed_inputs = _changed_inputs(run, record.get("inputs"))
    if changed_inputs:
        return [Reason("input", f"the declared input {changed_inputs[0]} since the last run")]
    if not _signed(run):
        return [Reason("never", "the last run did not finish (interrupted)")]
    missing = [log for log in run.logs if not os.path.exists(log)]
    if missing:
        return [Reason("missing", f"{missing[0]} is missing")]
    return []


def _changed_inputs(run: RunPlan, recorded: Any) -> list[str]:
    """The declared inputs whose content changed (or that appeared or went), as phrases."""
    if not run.inputs:
        return []
    before = recorded if isinstance(recorded, dict) else {}
    now = records.input_stamps(run.inputs, before)
    phrases = [f"{p} appeared" for p in sorted(set(now) - set(before))]
    phrases += [f"{p} is gone" for p in sorted(set(before) - set(now))]
    phrases += [f"{p} changed" for p in sorted(set(now) & set(before)) if now[p][1] != (before[p] or [None, None])[1]]
    return phrases


def _signed(run: RunPlan) -> bool:
    try:
        return Path(run.files.signature()).read_text(encoding="utf-8") == run.signature
    except OSError:
        return False


def _changed_fields(recorded: Any, now: dict[str, str]) -> list[str]:
    if not isinstance(recorded, dict):
        return []
    return [name for name, value in now.items() if recorded.get(name) != value]


def verify_reasons(cp: CellPlan) -> list[Reason]:
    """Why the cell must be verified (again)."""
    meta = records.read_json(cp.files.verify_meta)
    if meta is None:
        return [Reason("never", "it has not been verified yet")]
    parts: dict[str, Any] = meta["parts"] if isinstance(meta.get("parts"), dict) else {}
    changed = _changed_fields(parts, cp.verify_parts(__version__))
    if changed:
        return [Reason("changed", f"the {', '.join(changed)} changed since the last verification")]
    stamps: dict[str, Any] = meta["inputs"] if isinstance(meta.get("inputs"), dict) else {}
    for path in cp.verify_inputs:
        now = records.stamp(path)
        if path not in stamps or stamps[path] != now:
            what = "is missing" if now is None else "changed"
            return [Reason("input", f"{path} {what} since the last verification")]
    if meta.get("kind", "verdict") == "verdict" and not os.path.exists(cp.files.verify_json):
        return [Reason("missing", f"{cp.files.verify_json} is missing")]
    return []


def verdict_stamp(cp: CellPlan) -> list[float] | None:
    return records.stamp(cp.files.verify_json)


def publish_reasons(cp: CellPlan) -> list[Reason]:
    """Why the cell's TEST folder must be copied into (or withdrawn from) the submission tree again."""
    record = records.read_json(cp.files.publish_record)
    if record is None:
        return [Reason("never", "it has not been published yet")]
    meta = records.read_json(cp.files.verify_meta) or {}
    if record.get("verify") != meta.get("time") or record.get("verdict") != verdict_stamp(cp):
        return [Reason("verdict", "the verification changed since the TEST folder was published")]
    if record.get("state") == records.COPY_FAILED:
        return [Reason("failed", f"the copy into the submission tree failed: {record.get('reason')}")]
    if record.get("state") == records.PUBLISHED:
        missing = [f for f in cp.tree_files if not os.path.exists(f)]
        if missing:
            return [Reason("tree", f"{missing[0]} is missing from the submission tree")]
    elif os.path.exists(cp.tree_dir):
        return [Reason("tree", f"{cp.tree_dir} is in the submission tree but the cell does not pass")]
    return []


def reference_source(ref: ReferencePlan) -> dict[str, Any]:
    """What a submission run's copy in the tree comes from: the run's record (its time and signature) and the
    stamps of its logs in the build folder."""
    record = records.read_run(ref.run.files) or {}
    return {
        "run": record.get("time"),
        "signature": record.get("signature"),
        "logs": {os.path.basename(p): records.stamp(p) for p in ref.run.logs},
    }


def reference_publish_reasons(ref: ReferencePlan) -> list[Reason]:
    """Why a produced submission run must be copied into (or withdrawn from) the tree's results layout again."""
    assert ref.tree_dir is not None
    record = records.read_json(ref.publish_record)
    if record is None:
        return [Reason("never", "it has not been copied into the submission tree yet")]
    if record.get("tree") != ref.tree_dir:
        return [Reason("changed", f"its folder in the submission tree is now {ref.tree_dir}")]
    if record.get("state") == records.REFUSED:
        return [Reason("failed", f"the copy into the submission tree was refused: {record.get('reason')}")]
    if record.get("state") in (records.COPY_FAILED, records.WRITING):
        why = record.get("reason") or "it was interrupted"
        return [Reason("failed", f"the last copy into the submission tree failed: {why}")]
    if record.get("source") != reference_source(ref):
        return [Reason("verdict", "the submission run changed since it was copied into the submission tree")]
    if record.get("state") == records.PUBLISHED:
        now, wrote = records.tree_stamps(ref.tree_dir), record.get("files") or {}
        missing = [os.path.join(ref.tree_dir, f) for f in sorted(wrote) if f not in now]
        if missing:
            return [Reason("tree", f"{missing[0]} is missing from the submission tree")]
        changed = [os.path.join(ref.tree_dir, f) for f in sorted(wrote) if now[f] != wrote[f]]
        if changed:  # files the user added beside ours are theirs: not a reason (a new copy would refuse them)
            return [Reason("tree", f"{changed[0]} changed in the submission tree since it was copied")]
    return []
