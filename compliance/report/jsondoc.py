"""The JSON document of a report: one record per item, numbers as numbers, with the tool, version and time.

Its shape is ``schemas/report.schema.json`` (draft 2020-12; :func:`schema` loads the packaged copy); the summary's
document is the same with its own meta and records, ``schemas/summary.schema.json`` (``schema("summary")``).
"""

from __future__ import annotations

import json
import math
from importlib.resources import files
from typing import Any

from compliance.report.model import Report

FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    """JSON has no NaN or infinity: such a number becomes its name as a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def document(report: Report) -> dict[str, Any]:
    """The report as plain data."""
    return _plain(
        {
            "format": FORMAT_VERSION,
            "tool": report.tool,
            "version": report.version,
            "created": report.when,
            "created_epoch_s": report.created,
            "title": report.title,
            "columns": [c.key for c in report.columns],
            "meta": report.meta,
            "totals": {"statuses": report.status_counts(), "findings": report.severity_counts()},
            "records": [item.to_dict() for item in report.items],
        }
    )


def dumps(report: Report) -> str:
    return json.dumps(document(report), indent=2, default=str) + "\n"  # ASCII: no control or bidi character raw


def schema(kind: str = "report") -> dict[str, Any]:
    """The JSON Schema of :func:`document` (``kind`` report), or of the summary's (``summary``), shipped as package
    data."""
    text = files("compliance.schemas").joinpath(f"{kind}.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
