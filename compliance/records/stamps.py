"""What tells that a file changed without reading it (its stamp: mtime and size), and the content digests of
declared inputs (read only when their stamp changed)."""

from __future__ import annotations

import hashlib
import os
import stat

from compliance.specs import inputs

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
    """The regular files the declared input patterns name now, a folder standing for the regular files under it
    (:func:`compliance.specs.inputs.files`: nothing else is ever opened)."""
    return inputs.files(patterns)


def content_digest(path: str) -> str | None:
    """sha256 of a regular file's content (read in blocks, up to the size it had when opened: a file that grows
    without end is read within a bound), or None when it cannot be read or is no regular file (a FIFO or a device,
    put there since the specs were loaded, is opened without blocking and never read)."""
    h = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        left = info.st_size
        try:
            while left > 0:
                block = f.read(min(left, 1 << 20))
                if not block:
                    break
                h.update(block)
                left -= len(block)
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
