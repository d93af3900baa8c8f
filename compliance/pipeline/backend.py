"""doit's database, committed after every change (the backend ``sqlite3-per-task``).

doit's own backends write their database only when doit exits, so a SIGKILL lost every finished task and the next
``doit`` redid them all, benchmarks included. This backend writes each change through to SQLite at once (WAL
journal: a commit is an append, and a killed process loses nothing committed). It is registered as a doit backend
plugin by the package's entry point ``doit.BACKEND`` (pyproject.toml), which doit reads wherever it runs.

A database the machine will not let SQLite open or write (a full disk, a read-only folder, a project path longer
than SQLite opens, a file that is no database) ends the command with one ``error:`` line naming the file and why,
exit status 2 (:mod:`compliance.errors`), never a traceback; what was committed before stays.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import Any, NoReturn

from doit.dependency import DatabaseException, SqliteDB

from compliance import errors

#: the longest path of a database SQLite opens (its MAX_PATHNAME, 512, less the "-journal" it must be able to add):
#: measured with SQLite 3.40 and 3.45; a longer one is "unable to open database file"
SQLITE_LONGEST_PATH = 504
#: free space under which a failed write is told as a full disk
NEARLY_FULL = 1 << 20


class PerTaskSqliteDB(SqliteDB):
    """SQLite backend that commits every value as soon as doit sets it."""

    desc = "sqlite3, committed after every task (survives a killed doit)"

    def __init__(self, name: str, codec: Any, *, module_name: str | None = None):
        self.failed = False
        try:
            super().__init__(name, codec, module_name=module_name)
            self._conn.execute("pragma journal_mode=wal")
            self._conn.execute("pragma synchronous=normal")
        except (sqlite3.Error, DatabaseException) as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> NoReturn:
        """End the command: one line naming the database and why (what SQLite said, or what lies behind it)."""
        self.failed = True  # doit closes the database on its way out: nothing more is written
        raise SystemExit(errors.report(errors.InputError(why_unusable(self.name, exc)), sys.stderr))

    def _get_task_data(self, task_id: str) -> Any:
        try:
            return super()._get_task_data(task_id)
        except sqlite3.Error as exc:
            self._fail(exc)

    def in_(self, task_id: str) -> bool:
        try:
            return bool(super().in_(task_id))
        except sqlite3.Error as exc:
            self._fail(exc)

    def set(self, task_id: str, dependency: str, value: Any) -> None:
        super().set(task_id, dependency, value)
        try:
            self._conn.execute(
                "insert or replace into doit values (?,?)", (task_id, self.codec.encode(self._cache[task_id]))
            )
            self._conn.commit()
        except sqlite3.Error as exc:
            self._fail(exc)
        self._dirty.discard(task_id)

    def remove(self, task_id: str) -> None:
        try:
            super().remove(task_id)
            self._conn.commit()
        except sqlite3.Error as exc:
            self._fail(exc)

    def remove_all(self) -> None:
        try:
            super().remove_all()
            self._conn.commit()
        except sqlite3.Error as exc:
            self._fail(exc)

    def dump(self) -> None:
        if self.failed:  # said once already; what was committed stays
            try:
                self._conn.close()
            except (sqlite3.Error, AttributeError):
                pass
            return
        try:
            super().dump()
        except sqlite3.Error as exc:
            self._fail(exc)


def why_unusable(name: str, exc: Exception) -> str:
    """``<database>: <why>``: the path too long for SQLite, a full disk, or what SQLite said."""
    path = os.path.abspath(name)
    said = str(exc).splitlines()[-1] if str(exc) else type(exc).__name__
    if "Original error: " in said:  # doit's DatabaseException: its last words are SQLite's
        said = said.rsplit("Original error: ", 1)[1]
    length = len(os.fsencode(path))
    if length > SQLITE_LONGEST_PATH:
        return (
            f"{name}: cannot be opened: its path is {length} bytes long, SQLite opens none longer than "
            f"{SQLITE_LONGEST_PATH}: move the project to a shorter path"
        )
    try:
        st = os.statvfs(os.path.dirname(path))
        free = st.f_bavail * st.f_frsize
    except OSError:
        free = NEARLY_FULL
    if free < NEARLY_FULL:
        return f"{name}: cannot be written: no space left on the device ({free} bytes free; SQLite said: {said})"
    return f"{name}: doit's database cannot be used: {said}"
