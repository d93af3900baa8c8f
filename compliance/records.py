"""What the pipeline records in the build folder about each step, and how the status reads it back.

* a run's record (``run.json``, ``reference-<mode>.json``): how the run ended (``status`` PASS or FAIL, ``reason``),
  its signature, the time;
* a verification's record (``verify.meta.json``): the digest of what it depended on, and the inputs' timestamps;
* the verdict itself is the TEST folder's ``verify.json`` (:mod:`compliance.verify.render`).

Layer: above :mod:`compliance.plan` (paths), below the status and the pipeline, which share these formats.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from compliance.fsutil import write_atomic
from compliance.layout import RunFiles

PASS, FAIL = "PASS", "FAIL"


def read_json(path: str) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when it is missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_run(files: RunFiles, signature: str, problem: str | None) -> None:
    """Record how a run ended."""
    os.makedirs(os.path.dirname(files.record) or ".", exist_ok=True)
    write_atomic(files.record, json.dumps({"status": FAIL if problem else PASS, "reason": problem or "",
                                           "signature": signature, "time": time.time()}) + "\n")


def read_run(files: RunFiles) -> dict[str, Any] | None:
    return read_json(files.record)


def write_verify_meta(path: str, digest: str, inputs: list[str]) -> None:
    """Record what a verification read: the spec digest and the inputs' modification times."""
    meta = {"config": digest, "inputs": {p: os.stat(p).st_mtime for p in inputs if os.path.exists(p)}}
    write_atomic(path, json.dumps(meta, indent=1) + "\n")
