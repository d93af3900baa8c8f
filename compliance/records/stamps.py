"""What tells that a file changed without reading it (its stamp: mtime and size), and the content digests of
declared inputs (read only when their stamp changed)."""

from __future__ import annotations

import glob
import hashlib
import os

#: (mtime, size) of a file
Stamp = tuple[float, float]
#: a declared input as recorded: its stamp and the sha256 of its content (None: it could not be read)
InputStamp = tuple[Stamp | None, str | None]


def stamp(path: str) -> Stamp | None:
    """What tells a file changed: (mtime, size), or None when it is missing."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_mtime, float(st.st_size)


def tree_stamps(folder: str) -> dict[str, Stamp | None]:
    """relative path -> stamp of every file under ``folder`` (links and folders are named too, as they are not
    ours to overlook); empty when ``folder`` does not exist."""
    out: dict[str, Stamp | None] = {}
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(top, name)
            out[os.path.relpath(path, folder)] = None if os.path.isdir(path) or os.path.islink(path) else stamp(path)
    return out


def expand(patterns: tuple[str, ...]) -> list[str]:
    """The files the declared input patterns name now (a pattern without wildcards names itself)."""
    found: set[str] = set()
    for pattern in patterns:
        matches = glob.glob(pattern, recursive=True) if glob.has_magic(pattern) else [pattern]
        found.update(m for m in matches if not os.path.isdir(m))
    return sorted(found)


def content_digest(path: str) -> str | None:
    """sha256 of a file's content (read in blocks), or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def input_stamps(patterns: tuple[str, ...], known: dict[str, InputStamp] | None = None) -> dict[str, InputStamp]:
    """path -> (stamp, content digest) of the declared inputs; a file whose stamp is unchanged since ``known`` keeps
    its known digest (a multi-GB model is not read again on every check)."""
    out: dict[str, InputStamp] = {}
    for path in expand(patterns):
        now = stamp(path)
        before = (known or {}).get(path)
        out[path] = before if before is not None and before[0] == now else (now, content_digest(path))
    return out
