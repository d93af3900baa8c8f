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
    doc_usage = "[--format plain|github|markdown|html|json] [--specs DIR] [--system NAME ...] (or specs=DIR system=A,B)"
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
        # the selection options of `mlperf-compliance summary`, beside doit's variables specs= and system=
        {"name": "specs", "long": "specs", "type": str, "default": "", "help": "specs folder (default: specs)"},
        {"name": "system", "long": "system", "type": list, "default": [], "help": "only this system (repeatable)"},
    )

    def execute(self, params: Any, args: Any) -> int:
        folder, systems = session.selection()  # doit took specs= and system= from the command line as variables
        chosen = [*(systems or []), *params["system"]]
        return guarded(lambda: summary(params["specs"] or folder, chosen or None, params["format"], sys.stdout))
