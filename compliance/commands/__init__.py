"""One module per mlperf-compliance command, each with one public function."""

from __future__ import annotations

from typing import TextIO

from compliance.errors import SpecError
from compliance.specs import load_specs
from compliance.spectypes import Specs


def plural(count: int, noun: str) -> str:
    """``1 problem``, ``2 problems``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def load_or_report(specs_dir: str, err: TextIO) -> Specs | None:
    """Load the specs, or print every problem and a closing ``error:`` line to ``err`` and return None."""
    try:
        return load_specs(specs_dir)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        print(f"error: {plural(len(exc.problems), 'problem')} in {specs_dir}; nothing was run", file=err)
        return None
