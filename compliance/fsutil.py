"""Filesystem steps that must never leave a half-written result: atomic file writes and folder replacement."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_folder(target: str | Path, fill: Callable[[Path], None]) -> None:
    """Build a folder with ``fill(staging)`` beside ``target``, then put it in place of ``target``.

    A reader sees the old complete folder or the new complete one, never a mix: the old one is renamed aside
    before the new one is renamed in, and removed last. On any error the staging folder is removed and the old
    folder stays (or is put back).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new.", dir=target.parent))
    try:
        fill(staging)
        staging.chmod(0o755)
        if not target.exists():
            os.rename(staging, target)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
        try:
            os.rename(staging, target)
        except OSError:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
