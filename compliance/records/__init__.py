"""What the pipeline records in the build folder about each step, as typed records, and a cell's records read once.

The records (:mod:`compliance.records.types`): a run's (``run.json``, ``reference-<mode>.json``), a verification's
(``verify.meta.json``), a publication's (``publish.json``), a submission run's copy in the tree
(``reference-<mode>.publish.json``), an attempt's ledger entry (``attempts/<n>/attempt.json``) and a rerun request
(``run.rerun``); the review of a system's part of the tree (``build/<system>/review.json``:
:mod:`compliance.records.review`). The verdict itself is the TEST folder's ``verify.json``, read back as a
:class:`compliance.verify.result.Result`. Every record is written atomically, carries a version, and is checked when
read (:mod:`compliance.records.io`): a bad one is named, never taken for a missing or a passing one.

No other module reads a record's JSON: they take the objects, and a cell's state (:mod:`compliance.records.state`).

Layer: above :mod:`compliance.plan` (paths) and :mod:`compliance.verify` (the verdicts), below the freshness rule,
the status and the pipeline.
"""

from __future__ import annotations

from compliance.records.io import Bad, BadRecord
from compliance.records.review import ReviewedFolder, ReviewRecord, read_review
from compliance.records.stamps import InputStamp, Stamp, content_digest, expand, input_stamps, stamp, tree_stamps
from compliance.records.state import (
    CellState,
    ReferenceState,
    RunState,
    read_cell,
    read_reference,
    read_run,
    read_tree_check,
    series,
    set_aside,
)
from compliance.records.types import (
    NOT_VERIFIED,
    AttemptEntry,
    CheckRow,
    PublishRecord,
    PublishState,
    RerunRequest,
    RunRecord,
    Source,
    TreeCheckRecord,
    TreeCopyRecord,
    VerifyKind,
    VerifyRecord,
    Where,
)

__all__ = [
    "NOT_VERIFIED",
    "AttemptEntry",
    "Bad",
    "BadRecord",
    "CellState",
    "CheckRow",
    "InputStamp",
    "PublishRecord",
    "PublishState",
    "ReferenceState",
    "RerunRequest",
    "ReviewRecord",
    "ReviewedFolder",
    "RunRecord",
    "RunState",
    "Source",
    "Stamp",
    "TreeCheckRecord",
    "TreeCopyRecord",
    "VerifyKind",
    "VerifyRecord",
    "Where",
    "content_digest",
    "expand",
    "input_stamps",
    "read_cell",
    "read_reference",
    "read_review",
    "read_run",
    "read_tree_check",
    "series",
    "set_aside",
    "stamp",
    "tree_stamps",
]
