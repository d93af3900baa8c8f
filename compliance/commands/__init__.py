"""The commands layer: one module per ``mlperf-compliance`` command, each with one public function that returns
the exit status (0 or 1) and raises the project's exceptions for bad input; :mod:`compliance.cli` and dodo.py map
those to messages and exit codes in one place (:func:`compliance.errors.report`).

Layer: the top one below the CLI; may import everything below it.
"""

from __future__ import annotations

import os

DEFAULT_SPECS = "specs"


def specs_dir(requested: str) -> str | None:
    """``--specs`` of a command that needs no systems (verify, audit-config): by default ./specs when there is one,
    else None: the packaged rounds, models and tests alone (the command works outside any project)."""
    if requested != DEFAULT_SPECS or os.path.isdir(requested):
        return requested
    return None
