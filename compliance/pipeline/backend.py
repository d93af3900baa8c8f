"""doit's database, committed after every change (the backend ``sqlite3-per-task``).

doit's own backends write their database only when doit exits, so a SIGKILL lost every finished task and the next
``doit`` redid them all, benchmarks included. This backend writes each change through to SQLite at once (WAL
journal: a commit is an append, and a killed process loses nothing committed). It is registered as a doit backend
plugin by the package's entry point ``doit.BACKEND`` (pyproject.toml), which doit reads wherever it runs.
"""

from __future__ import annotations

from typing import Any

from doit.dependency import SqliteDB


class PerTaskSqliteDB(SqliteDB):
    """SQLite backend that commits every value as soon as doit sets it."""

    desc = "sqlite3, committed after every task (survives a killed doit)"

    def __init__(self, name: str, codec: Any, *, module_name: str | None = None):
        super().__init__(name, codec, module_name=module_name)
        self._conn.execute("pragma journal_mode=wal")
        self._conn.execute("pragma synchronous=normal")

    def set(self, task_id: str, dependency: str, value: Any) -> None:
        super().set(task_id, dependency, value)
        self._conn.execute(
            "insert or replace into doit values (?,?)", (task_id, self.codec.encode(self._cache[task_id]))
        )
        self._conn.commit()
        self._dirty.discard(task_id)

    def remove(self, task_id: str) -> None:
        super().remove(task_id)
        self._conn.commit()
