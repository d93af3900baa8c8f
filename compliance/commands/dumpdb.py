"""``doit dumpdb``: print doit's database (doit's own command reads only its dbm backend; ours is SQLite)."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

from doit.cmd_base import Command

from compliance import errors, layout


class DumpDbCommand(Command):
    """Registered as doit's ``dumpdb`` (pyproject.toml's entry points), in place of doit's own."""

    name = "dumpdb"
    doc_purpose = "print the task records of doit's database (build/.doit.db)"
    doc_usage = ""
    doc_description = None
    cmd_options = ()

    def execute(self, params: Any, args: Any) -> int:
        return errors.guarded(_dump)  # `doit dumpdb | head`: quiet


def _dump() -> int:
    try:
        connection = sqlite3.connect(f"file:{layout.DOIT_DB}?mode=ro", uri=True)
        rows = connection.execute("select task_id, task_data from doit order by task_id").fetchall()
    except sqlite3.Error as exc:
        print(f"error: {layout.DOIT_DB}: {exc} (has doit run here?)", file=sys.stderr)
        return 2
    for task_id, data in rows:
        print(f"{task_id}: {data}")
    return 0
