"""Reading and writing one record file: only a regular file is read, every value is checked, and a bad record is
named and can be set aside (renamed, never deleted).

A record is a JSON object with a ``version``; a record without one was written by release 0.2 or earlier (version
0) and is converted when read (:mod:`compliance.records.types`).
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from compliance.fsutil import write_atomic

#: a record file is a few kilobytes; anything this big is not one of ours (and is not read whole)
MAX_BYTES = 16 << 20
#: times are seconds since the epoch: before 1970 or after about 2286 a "time" is not one
LATEST = 1e10

T = TypeVar("T")


class BadRecord(ValueError):
    """A record file exists but is not a valid record; the message says what is wrong (the key, the value)."""


@dataclass(frozen=True)
class Bad:
    """A record (or one of the folders that hold records) that cannot be read: its path and what is wrong."""

    path: str
    why: str

    def __str__(self) -> str:
        return f"{self.path} is not a valid record ({self.why})"


def load_json(path: str) -> dict[str, Any] | None:
    """The JSON object in ``path``; None when there is no file there.

    Raises:
        BadRecord: something other than a regular file is there (a folder, a FIFO...), or it cannot be read, or it
            is not a JSON object.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO does not block the read
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise BadRecord("a folder, not a file") from None
    except NotADirectoryError:
        raise BadRecord("a folder above it is a file") from None
    except OSError as exc:
        raise BadRecord(f"cannot be read: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    problem = (
        "a folder, not a file"
        if stat.S_ISDIR(info.st_mode)
        else "not a regular file"
        if not stat.S_ISREG(info.st_mode)
        else f"{info.st_size} bytes: too large for a record"
        if info.st_size > MAX_BYTES
        else None
    )
    if problem is not None:
        os.close(fd)
        raise BadRecord(problem)
    with os.fdopen(fd, "rb") as f:
        try:
            text = f.read(MAX_BYTES + 1).decode("utf-8")
            data = json.loads(text)
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise BadRecord(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRecord(f"not a JSON object but a {type(data).__name__}")
    return data


def save_json(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (a reader sees the old record or the new one, whole)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        write_atomic(path, json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n")
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror, path) from exc  # a full disk names the record it could not write


def move_aside(path: str) -> str:
    """Rename ``path`` (a bad record, or a file where a folder of records must be) to ``<path>.bad`` (``.bad.2``...
    when taken), so the step that owns it can write it anew; where it went."""
    target, n = f"{path}.bad", 1
    while os.path.lexists(target):
        n += 1
        target = f"{path}.bad.{n}"
    os.rename(path, target)
    return target


def a_folder(path: str) -> str | None:
    """None when ``path`` is a folder or absent; else why it cannot hold records."""
    if os.path.isdir(path) or not os.path.lexists(path):
        return None
    return "a file where a folder must be"


# -- the values of a record ------------------------------------------------------------------------------------------


#: the default of a value a record must have
REQUIRED: Any = object()


class Fields:
    """Typed access to a record's values; each getter raises :class:`BadRecord` naming the key and the problem."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def _get(self, key: str, default: Any, check: Callable[[Any], str | None]) -> Any:
        if key not in self.data:
            if default is REQUIRED:
                raise BadRecord(f"{key}: missing")
            return default
        value = self.data[key]
        problem = check(value)
        if problem is not None:
            raise BadRecord(f"{key}: {problem} ({_shown(value)})")
        return value

    def text(self, key: str, default: Any = "") -> str:
        value: str = self._get(key, default, lambda v: None if isinstance(v, str) else "not a string")
        return value

    def maybe_text(self, key: str) -> str | None:
        value: str | None = self._get(key, None, lambda v: None if v is None or isinstance(v, str) else "not a string")
        return value

    def flag(self, key: str, default: Any = False) -> bool:
        value: bool = self._get(key, default, lambda v: None if isinstance(v, bool) else "not true or false")
        return value

    def count(self, key: str) -> int:
        """A whole number of 1 or more (required)."""
        value: int = self._get(key, REQUIRED, _positive_int)
        return value

    def time(self, key: str, default: Any = 0.0) -> float:
        return float(self._get(key, default, _time))

    def seconds(self, key: str, default: Any = 0.0) -> float:
        """A duration: a finite number of seconds, 0 or more."""
        return float(self._get(key, default, _seconds))

    def maybe_time(self, key: str) -> float | None:
        value = self._get(key, None, lambda v: None if v is None else _time(v))
        return None if value is None else float(value)

    def mapping(self, key: str, value: Callable[[Any], T], default: Any = None) -> dict[str, T]:
        """A JSON object of ``key``, each value through ``value`` (which raises BadRecord)."""
        raw = self.data.get(key)
        if raw is None:  # absent, or null: nothing recorded
            return dict(default or {})
        if not isinstance(raw, dict):
            raise BadRecord(f"{key}: not an object ({_shown(raw)})")
        out = {}
        for name, item in raw.items():
            try:
                out[str(name)] = value(item)
            except BadRecord as exc:
                raise BadRecord(f"{key}[{name!r}]: {exc}") from None
        return out


def _shown(value: Any) -> str:
    """A value in a few characters, for a message."""
    try:
        text = repr(value) if isinstance(value, float) else json.dumps(value, default=str)
    except (ValueError, RecursionError):  # nested beyond what json writes back
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def _positive_int(value: Any) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return "not a whole number"
    return None if value >= 1 else "not 1 or more"


def _time(value: Any) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "not a time (seconds since the epoch)"
    return None if math.isfinite(value) and 0 <= value < LATEST else "not a time (seconds since the epoch)"


def _seconds(value: Any) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        return "not a duration (seconds, 0 or more)"
    return None


def text_value(value: Any) -> str:
    """A string value of a mapping (raises BadRecord otherwise)."""
    if not isinstance(value, str):
        raise BadRecord(f"not a string ({_shown(value)})")
    return value


def stamp_value(value: Any) -> tuple[float, float] | None:
    """A file's stamp as recorded: ``[mtime, size]`` (finite numbers), or null for a file that was missing."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    ):
        raise BadRecord(f"not a stamp [mtime, size] ({_shown(value)})")
    return float(value[0]), float(value[1])


def sha_value(value: Any) -> str:
    """A sha256 in hex, as recorded."""
    if not isinstance(value, str) or len(value) != 64 or value.strip("0123456789abcdef"):
        raise BadRecord(f"not a sha256 ({value!r:.40})")
    return value
