"""``mlperf-compliance summary`` and ``doit summary``: the compliance table; exit 0 only when all cells pass."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from doit.cmd_base import Command

from compliance import status
from compliance.errors import UnknownName, did_you_mean, guarded
from compliance.pipeline import session
from compliance.plan import build_plan, load_specs


def summary(specs_dir: str, systems: list[str] | None, fmt: str, out: TextIO) -> int:
    """Print the table of every required cell; 0 when every one passes, 1 otherwise."""
    if fmt not in status.FORMATS:
        raise UnknownName(
            f"unknown format '{fmt}'{did_you_mean(fmt, status.FORMATS)}; known: {', '.join(status.FORMATS)}"
        )
    found = status.rows(build_plan(load_specs(specs_dir), systems))
    out.write(status.render(found, fmt))
    return 0 if status.passed(found) else 1


class SummaryCommand(Command):
    """``doit summary``: registered as a doit command (pyproject.toml's [tool.doit.plugins.command])."""

    name = "summary"
    doc_purpose = "print the compliance table (exit 0 when every required cell passes)"
    doc_usage = "[--format plain|github|markdown|html|json] [specs=DIR] [system=NAME,...]"
    doc_description = None
    cmd_options = (
        {
            "name": "format",
            "short": "f",
            "long": "format",
            "type": str,
            "default": "plain",
            "help": "plain, github, markdown, html or json",
        },
    )

    def execute(self, params: Any, args: Any) -> int:
        folder, systems = session.selection()  # doit took specs= and system= from the command line as variables
        return guarded(lambda: summary(folder, systems, params["format"], sys.stdout))
