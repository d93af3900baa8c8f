"""``mlperf-compliance summary`` (and ``doit summary``): the compliance table; exit 0 only when all cells pass."""

from __future__ import annotations

from typing import TextIO

from compliance import summary as table
from compliance.commands import load_or_report
from compliance.errors import EXIT_BAD_INPUT, did_you_mean
from compliance.plan import build_plan


def summary(specs_dir: str, fmt: str, out: TextIO, err: TextIO) -> int:
    """Print the table of every required cell; 0 when every one passes, 1 otherwise, 2 on bad input."""
    if fmt not in table.FORMATS:
        print(f"error: unknown format '{fmt}'{did_you_mean(fmt, table.FORMATS)}; known: {', '.join(table.FORMATS)}",
              file=err)
        return EXIT_BAD_INPUT
    specs = load_or_report(specs_dir, err)
    if specs is None:
        return EXIT_BAD_INPUT
    found = table.rows(build_plan(specs))
    out.write(table.render(found, fmt))
    return 0 if table.passed(found) else 1
