"""``mlperf-compliance init [DIR] [--demo]``: start a project of the user's own.

A project is a folder with ``specs/systems/`` (the user's systems), optionally ``specs/rounds/``, ``models/`` and
``tests/`` of its own (the package ships those of the published rounds; a file of the same name overrides the
packaged one), a two-line ``dodo.py`` (so that plain ``doit`` runs the pipeline too), a ``.gitignore`` for
``build/`` and a short README. ``--demo`` writes the demo systems (``compliance.demo``, on real LoadGen, no
accelerator) instead of the example system, so ``mlperf-compliance`` there runs the whole demo.

Nothing is ever overwritten: a file that exists is kept and named (a ``.gitignore`` that exists gets the
``build/`` line added when it lacks it); each file is written whole or not at all.
"""

from __future__ import annotations

import os
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import TextIO

from compliance import __version__
from compliance.errors import InputError

TEMPLATES = "compliance.commands.init_templates"
EXAMPLE_SYSTEM = "my-system.yaml"
DEMO_SYSTEMS = ("demo.yaml", "demo-v6.yaml")
IGNORED = "build/"


def _template(name: str) -> str:
    return files(TEMPLATES).joinpath(name).read_text(encoding="utf-8")


def project_files(title: str, demo: bool) -> dict[str, str]:
    """The files of a new project (path relative to its folder -> text)."""
    if demo:
        systems = files("compliance.specdata").joinpath("systems")
        specs = {f"specs/systems/{name}": systems.joinpath(name).read_text(encoding="utf-8") for name in DEMO_SYSTEMS}
    else:
        specs = {f"specs/systems/{EXAMPLE_SYSTEM}": _template(EXAMPLE_SYSTEM)}
    readme = _template("README.md").replace("{title}", title).replace("{version}", __version__)
    return {**specs, "dodo.py": _template("dodo.py.txt"), ".gitignore": _template("gitignore.txt"), "README.md": readme}


def _create(path: Path, text: str) -> bool:
    """Write ``path`` whole (a temporary file, then a hard link: an existing file is never replaced); False when
    the path exists. The file gets the permissions the umask gives, as any file the user makes."""
    if os.path.lexists(path):
        return False
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
    finally:
        os.unlink(tmp)
    return True


def _ignore_build(path: Path) -> bool:
    """Add ``build/`` to an existing .gitignore that does not ignore it yet; whether it was added."""
    text = path.read_text(encoding="utf-8")
    if any(line.strip() in ("build", "build/", "/build", "/build/") for line in text.splitlines()):
        return False
    with open(path, "a", encoding="utf-8") as f:
        f.write(("" if text.endswith("\n") or not text else "\n") + IGNORED + "\n")
    return True


def init(folder: str, demo: bool, out: TextIO) -> int:
    """Start a project in ``folder`` (made when missing); 0. Existing files are kept and named.

    Raises:
        InputError: ``folder`` is a file, or a file cannot be written.
    """
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise InputError(f"{folder}: is not a folder; give a new or existing folder for the project")
    title = os.path.basename(os.path.abspath(folder)) or "mlperf-compliance project"
    written, kept = [], []
    try:
        for relative, text in project_files(title, demo).items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if _create(path, text):
                written.append(relative)
            elif relative == ".gitignore" and path.is_file() and _ignore_build(path):
                written.append(f"{relative} (added {IGNORED})")
            else:
                kept.append(relative)
    except OSError as exc:
        raise InputError(f"{exc.filename or folder}: cannot write: {exc.strerror or exc}") from None
    _report(os.path.normpath(folder), written, kept, demo, root, out)
    return 0


def _report(shown: str, written: list[str], kept: list[str], demo: bool, root: Path, out: TextIO) -> None:
    """What init wrote and kept, and what to do next."""

    def display(relative: str) -> str:
        return relative if shown == "." else os.path.join(shown, relative)

    for relative in written:
        print(f"wrote {display(relative)}", file=out)
    for relative in kept:
        print(f"kept {display(relative)} (it exists; init never overwrites)", file=out)
    dodo = root / "dodo.py"
    if "dodo.py" in kept and dodo.is_file() and "dodo_namespace" not in dodo.read_text(encoding="utf-8"):
        print(
            "  your dodo.py stays: for `doit` to run the pipeline, it needs these two lines:\n"
            "    from compliance.pipeline.entry import dodo_namespace\n"
            "    globals().update(dodo_namespace())",
            file=out,
        )
    go = "" if shown == "." else f"cd {shown} && "
    if demo:
        print(
            f"next: {go}mlperf-compliance validate && mlperf-compliance   (the demo; needs the [demo] extra)", file=out
        )
    else:
        example = display("specs/systems/" + EXAMPLE_SYSTEM)
        print(f"next: edit {example} for your harness, then {go}mlperf-compliance validate", file=out)
