"""Declared inputs (``inputs:`` of a system spec): what each pattern names, and what it may not name.

An input is a regular file, or a folder, which stands for every regular file under it (read as files; what else a
folder holds is not an input). Anything else is refused when the specs are loaded, so that no command ever opens
it: a FIFO or a device (``/dev/zero``) would hang or flood the read that hashes an input, a socket cannot be read.
A pattern that names nothing here would make the input do nothing, silently: the specs' loading warns (a spec may
be checked on a machine without its harness), and a run refuses to start until it names something
(:func:`compliance.pipeline.actions.run`).

Layer: specs (the loader checks each system's inputs; :mod:`compliance.records` expands them to stamp them).
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from compliance.errors import PathPart, Problem, json_path
from compliance.specs.types import BenchmarkRun, loadgen_scenario
from compliance.specs.yamldoc import YamlDoc

#: what a path is when it is not a regular file
KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def kind(mode: int) -> str:
    """What a path of this ``st_mode`` is, in words (``a FIFO``, ``a regular file``...)."""
    return "a regular file" if stat.S_ISREG(mode) else KINDS.get(stat.S_IFMT(mode), "not a regular file")


@dataclass
class Expanded:
    """The regular files a pattern names now (sorted), what it names that may not be an input (``problems``), and
    whether it names nothing at all (``missing``: why)."""

    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    missing: str = ""


def _folder_files(folder: str) -> list[str]:
    """The regular files under ``folder`` (links to regular files count; linked folders are not entered)."""
    found = []
    for top, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(top, name)
            try:
                if stat.S_ISREG(os.stat(path).st_mode):
                    found.append(path)
            except OSError:  # a broken link, a loop: not an input
                continue
    return found


def expand(pattern: str) -> Expanded:
    """What ``pattern`` (a path, or a glob with ``*``, ``?``, ``[...]`` and ``**``) names, without opening anything."""
    out = Expanded()
    magic = glob.has_magic(pattern)
    matches = sorted(glob.glob(pattern, recursive=True)) if magic else [pattern]
    for path in matches:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            if not magic:
                link = os.path.islink(path)
                what = "a symbolic link to nothing" if link else "no such file or folder"
                out.missing = f"'{path}': {what if isinstance(exc, FileNotFoundError) else exc.strerror or exc}"
            continue  # a broken link among a glob's matches is not an input
        if stat.S_ISREG(mode):
            out.files.append(path)
        elif stat.S_ISDIR(mode):
            out.files += _folder_files(path)
        else:
            out.problems.append(f"'{path}' is {kind(mode)}: an input is a regular file or a folder of them")
    if magic and not out.files and not out.problems:
        out.missing = f"'{pattern}' matches no file"
    return out


def missing(patterns: Iterable[str]) -> list[str]:
    """Why each of the declared input ``patterns`` that names nothing now names nothing (empty: all are there)."""
    return [found.missing for found in map(expand, patterns) if found.missing]


def files(patterns: Iterable[str]) -> list[str]:
    """The regular files the declared input ``patterns`` name now (what may not be an input is left out: the
    specs' loading refuses it)."""
    found: set[str] = set()
    for pattern in patterns:
        found.update(expand(pattern).files)
    return sorted(found)


def input_problems(
    doc: YamlDoc, where: list[PathPart], run: BenchmarkRun, reported: Iterable[Problem] = ()
) -> tuple[list[Problem], list[Problem]]:
    """The problems and the warnings of the inputs of a benchmark (the system's, then its own: ``run.inputs``,
    resolved), for each of its scenarios, located at the pattern's item in the system's document: what may not be
    an input is a problem, a pattern that names nothing a warning (an item with a problem ``reported`` already, such
    as a path that cannot be expanded, is not looked at)."""
    system_level = doc.data.get("inputs") if isinstance(doc.data, dict) else None
    shared = len(system_level) if isinstance(system_level, list) else 0
    known = {(p.file, p.path) for p in reported}
    problems, warnings = [], []
    for i, pattern in enumerate(run.inputs):
        at: list[PathPart] = ["inputs", i] if i < shared else [*where, "inputs", i - shared]
        if (doc.file, json_path(at)) in known:
            continue
        for scenario in run.scenarios:
            try:
                path = pattern.format(
                    system=doc.data["name"],
                    benchmark=run.benchmark,
                    scenario=scenario,
                    loadgen_scenario=loadgen_scenario(scenario),
                )
            except (KeyError, ValueError, IndexError):
                break  # a bad template: reported as one
            found = expand(path)
            problems += [doc.problem(at, f"declared input {why}") for why in found.problems]
            if found.missing:
                why = f"{found.missing} on this machine: a run refuses to start without it"
                warnings.append(doc.problem(at, f"warning: declared input {why}"))
    return problems, warnings
