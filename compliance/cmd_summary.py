"""``doit summary``: the compliance table as a doit command (registered in pyproject.toml's [tool.doit])."""

from __future__ import annotations

import sys

from doit.cmd_base import Command

from compliance.commands.summary import summary


class SummaryCommand(Command):
    name = "summary"
    doc_purpose = "print the compliance table (exit 0 when every required cell passes)"
    doc_usage = "[--format plain|github|markdown|html|json] [specs=DIR]"
    doc_description = None
    cmd_options = ({"name": "format", "short": "f", "long": "format", "type": str, "default": "plain",
                    "help": "plain, github, markdown, html or json"},)

    def execute(self, params, args):
        specs = next((a.split("=", 1)[1] for a in args if a.startswith("specs=")), "specs")
        return summary(specs, params["format"], sys.stdout, sys.stderr)
