"""Read each log once within a scope: a reader wrapped by :func:`memoized` returns, inside ``with scope():``, the
object it returned for the same unchanged file (same path, size and modification time) earlier in the scope.

Outside a scope nothing is kept (the verify command, the pipeline). ``review`` opens one scope per cell it reviews,
so the cell's submission runs, which every verification of the cell compares with, are parsed once
(:mod:`compliance.review.cell`); a scope holds only the logs of that cell, so memory stays bounded. The objects are
shared: their readers' callers do not change them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_scopes: list[dict[tuple[str, str, int, int], object]] = []


@contextmanager
def scope() -> Iterator[None]:
    """Within the block, each memoized read of an unchanged file is made once."""
    _scopes.append({})
    try:
        yield
    finally:
        _scopes.pop()


def memoized(reader: Callable[[str | Path], T]) -> Callable[[str | Path], T]:
    """``reader`` (path -> object, raising for a file it cannot read), read once per file within a scope."""

    def read(path: str | Path) -> T:
        if not _scopes:
            return reader(path)
        try:
            st = os.stat(path)
        except OSError:
            return reader(path)  # it raises what it raises for a file that is not there
        key = (reader.__qualname__, os.path.abspath(path), st.st_size, st.st_mtime_ns)
        found = _scopes[-1].get(key)
        if found is None:
            found = _scopes[-1][key] = reader(path)
        return found  # type: ignore[return-value]

    read.__doc__ = reader.__doc__
    read.__wrapped__ = reader  # type: ignore[attr-defined]
    return read
