"""``mlperf-compliance summary`` and ``doit summary``: the compliance table; exit 0 only when all cells pass.

``--format`` chooses the output (:mod:`compliance.summary`): plain (default), markdown, html, json, github
(GitHub Actions annotations), junit; ``-o FILE`` writes it to a file (whole or not at all; links in it relative to
its folder). Under GitHub Actions (``GITHUB_ACTIONS=true``) the summary also appends its Markdown to the job summary
(``$GITHUB_STEP_SUMMARY``) and, with the plain table, prints an annotation per row that does not pass.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from doit.cmd_base import Command

from compliance import status
from compliance import summary as formats
from compliance.errors import guarded
from compliance.pipeline import session
from compliance.plan import build_plan, load_specs
from compliance.report import github, output


def summary(
    specs_dir: str, systems: list[str] | None, fmt: str, out: TextIO, to_file: str = "", err: TextIO | None = None
) -> int:
    """Print (or write to ``to_file``) the table of every required cell; 0 when every one passes, 1 otherwise."""
    formats.check_format(fmt)
    found = status.rows(build_plan(load_specs(specs_dir), systems))
    link_from = os.path.dirname(os.path.abspath(to_file)) if to_file else "."
    text = formats.render(found, fmt, ".", specs_dir, link_from)
    if github.in_actions():
        shown = formats.report(found, ".", specs_dir)
        github.write_job_summary(shown)
        if fmt == "plain" and not to_file:
            text += github.workflow_commands(shown)
    if to_file:
        output.write_file(to_file, text)
        cells = sum(1 for r in found if status.is_cell_row(r))
        print(f"summary: {cells} cells: {status.counts(found)}; report in {to_file}", file=err or sys.stderr)
    else:
        output.write_out(out, text)
    return 0 if status.passed(found) else 1


class SummaryCommand(Command):
    """``doit summary``: registered as a doit command (pyproject.toml's [tool.doit.plugins.command])."""

    name = "summary"
    doc_purpose = "print the compliance table (exit 0 when every required cell passes)"
    doc_usage = (
        "[--format plain|markdown|html|json|github|junit] [-o FILE] [--specs DIR] [--system NAME ...] "
        "(or specs=DIR system=A,B)"
    )
    doc_description = None
    cmd_options = (
        {
            "name": "format",
            "short": "f",
            "long": "format",
            "type": str,
            "default": "plain",
            "help": ", ".join(formats.FORMATS),
        },
        {"name": "output", "short": "o", "long": "output", "type": str, "default": "", "help": "write to FILE"},
        # the selection options of `mlperf-compliance summary`, beside doit's variables specs= and system=
        {"name": "specs", "long": "specs", "type": str, "default": "", "help": "specs folder (default: specs)"},
        {"name": "system", "long": "system", "type": list, "default": [], "help": "only this system (repeatable)"},
    )

    def execute(self, params: Any, args: Any) -> int:
        folder, systems = session.selection()  # doit took specs= and system= from the command line as variables
        chosen = [*(systems or []), *params["system"]]
        return guarded(
            lambda: summary(params["specs"] or folder, chosen or None, params["format"], sys.stdout, params["output"])
        )
