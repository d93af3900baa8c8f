"""Filesystem steps that must never leave a half-written result: atomic file writes and folder replacement."""

from __future__ import annotations

import ctypes
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


def rotate(path: str | Path, keep: int) -> None:
    """Set ``path`` aside before it is written anew: ``path`` becomes ``path.1``, ``path.1`` becomes ``path.2`` and
    so on; at most ``keep`` old versions stay (the oldest goes). Each step is a rename, so every file is whole."""
    path = str(path)
    Path(f"{path}.{keep}").unlink(missing_ok=True)
    for n in range(keep - 1, 0, -1):
        if os.path.lexists(f"{path}.{n}"):
            os.replace(f"{path}.{n}", f"{path}.{n + 1}")
    if os.path.lexists(path):
        os.replace(path, f"{path}.1")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _leftovers(target: Path) -> list[Path]:
    """Staging and old folders of ``target`` left by a process that was killed (ours by their names)."""
    return [
        p
        for p in target.parent.glob(f".{target.name}.*")
        if p.name.startswith((f".{target.name}.new.", f".{target.name}.old."))
    ]


def replace_folder(target: str | Path, fill: Callable[[Path], None]) -> None:
    """Build a folder with ``fill(staging)`` beside ``target``, then put it in place of ``target``.

    A reader sees the old complete folder or the new complete one, never a mix: the two are exchanged in one
    atomic step where the system allows it (Linux), else the old one is renamed aside just before the new one is
    renamed in. On any error the staging folder is removed and the old folder stays; folders left by a killed
    process are removed first.
    """
    target = Path(target)
    if os.path.lexists(target) and (target.is_symlink() or not target.is_dir()):
        # never exchanged with a file or a link (the swap would leave it in the staging folder's place)
        raise NotADirectoryError(20, "is a file or a symbolic link, not a folder", str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in _leftovers(target):
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new.", dir=target.parent))
    try:
        fill(staging)
        staging.chmod(0o755)
        if not target.exists():
            os.rename(staging, target)
            return
        if _exchange(staging, target):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the old folder
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
