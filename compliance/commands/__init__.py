"""The commands layer: one module per ``mlperf-compliance`` command, each with one public function that returns
the exit status (0 or 1) and raises the project's exceptions for bad input; :mod:`compliance.cli` and dodo.py map
those to messages and exit codes in one place (:func:`compliance.errors.report`).

Layer: the top one below the CLI; may import everything below it.
"""

from __future__ import annotations

import os

DEFAULT_SPECS = "specs"


def specs_dir(requested: str) -> str:
    """``--specs``; by default ./specs, else the specs beside the package (an editable install in a clone)."""
    if requested != DEFAULT_SPECS or os.path.isdir(requested):
        return requested
    beside = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "specs")
    return beside if os.path.isdir(beside) else requested
