"""Where a report goes: a file written whole or not at all, or the standard output (a closed pipe ends quietly)."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import TextIO

from compliance.errors import InputError


def write_file(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file beside it, renamed into place).

    Raises:
        InputError: the file cannot be written (one line naming it and why).
    """
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".report-", dir=folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would make it (mkstemp makes it private)
        os.replace(temporary, path)
    except OSError as exc:
        os.unlink(temporary)
        raise InputError(f"{path}: cannot write the report ({exc.strerror or exc})") from None


def write_out(out: TextIO, text: str) -> None:
    """Write ``text`` to ``out``; when the reader went away (``| head``), end quietly (what is left goes nowhere)."""
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
