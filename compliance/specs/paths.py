"""Paths in system specs as users write them, and the places the tool writes in.

A path field of a system spec (``submission_dir``, ``inputs``, and a benchmark's ``workdir``, ``log_dir``,
``results`` and ``inputs``) may start with ``~`` (the home folder, ``~user`` another user's) and use the tool's
environment variables (``$HOME``, ``${SCRATCH}``); they are expanded once, by the loader, so ``validate``,
``doit info`` and the runs see the same folder. A variable that is not set, an unknown user or a ``~`` that cannot
be expanded (anywhere but at the start) is a spec problem with its remedy: such a path would otherwise create a
folder literally named ``~`` or ``$SCRATCH`` in the project. Commands are not paths: ``/bin/sh`` expands their
variables (written ``${{VAR}}`` there, braces being placeholders).

Then: relative paths are relative to the folder holding the specs folder; no folder the tool writes in may be
``/``, the specs folder or inside the submission tree (working directories); and no two systems may write into
one folder of a submission tree (a TEST folder or a published results folder).

Layer: the specs layer; imports :mod:`compliance.errors` and the spec types only.
"""

from __future__ import annotations

import os
import pwd
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from compliance.errors import PathPart, Problem
from compliance.specs.types import Round, Specs, System, loadgen_scenario
from compliance.specs.yamldoc import YamlDoc

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
#: the path fields of a benchmark entry (inputs is a list of them)
BENCHMARK_PATHS = ("workdir", "log_dir", "results")


class Unexpandable(ValueError):
    """A spec path whose ``~`` or ``$VAR`` cannot be expanded; the message ends with the remedy."""


def _literal(text: str) -> str:
    """``text`` as literal characters of a placeholder template (a brace from the environment is no placeholder)."""
    return text.replace("{", "{{").replace("}", "}}")


def expand(value: str, environ: Mapping[str, str] | None = None) -> str:
    """``value`` with a leading ``~`` or ``~user`` and every ``$VAR`` / ``${VAR}`` expanded.

    Raises:
        Unexpandable: a variable is not set, a user is unknown, or a ``~`` stands elsewhere than at the start.
    """
    env = os.environ if environ is None else environ
    if value.startswith("~"):
        head, sep, rest = value.partition("/")
        user = head[1:]
        if not user:
            home = env.get("HOME") or _own_home()
        else:
            try:
                home = pwd.getpwnam(user).pw_dir
            except KeyError:
                raise Unexpandable(f"'{head}': there is no user '{user}'; write the folder in full") from None
        value = _literal(home) + sep + rest

    def variable(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in env:
            raise Unexpandable(
                f"'{match.group(0)}': the environment variable {name} is not set; set it before running the tool, "
                "or write the folder in full"
            )
        return _literal(env[name])

    value = _VARIABLE.sub(variable, value)
    if "~" in value.replace("\\", "/").split("/"):
        raise Unexpandable(
            "a folder named '~' would be created, not your home folder: '~' is expanded only at the start of a "
            "path ('~/work'); write the folder in full"
        )
    return value


def _own_home() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        raise Unexpandable("'~': this user has no home folder (HOME is not set); write the folder in full") from None


def _path_fields(data: dict) -> Iterator[tuple[list[PathPart], dict | list, str | int]]:
    """(JSON path, container, key) of every path field of a system document, as far as its shape allows."""
    inputs = data.get("inputs")
    for i, item in enumerate(inputs if isinstance(inputs, list) else []):
        if isinstance(item, str):
            yield ["inputs", i], inputs, i  # type: ignore[misc]
    if isinstance(data.get("submission_dir"), str):
        yield ["submission_dir"], data, "submission_dir"
    upload = data.get("upload")
    if isinstance(upload, dict) and isinstance(upload.get("official_checkout"), str):
        yield ["upload", "official_checkout"], upload, "official_checkout"
    benchmarks = data.get("benchmarks")
    for name, entry in benchmarks.items() if isinstance(benchmarks, dict) else []:
        if not isinstance(entry, dict):
            continue
        for key in BENCHMARK_PATHS:
            if isinstance(entry.get(key), str):
                yield ["benchmarks", name, key], entry, key
        inputs = entry.get("inputs")
        for i, item in enumerate(inputs if isinstance(inputs, list) else []):
            if isinstance(item, str):
                yield ["benchmarks", name, "inputs", i], inputs, i  # type: ignore[misc]


def expand_system_paths(doc: YamlDoc, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Expand ``~`` and environment variables in every path field of a system document, in place; the problems
    of those that cannot be expanded (their value is left as written)."""
    problems: list[Problem] = []
    if not isinstance(doc.data, dict):
        return problems
    for where, container, key in list(_path_fields(doc.data)):
        try:
            container[key] = expand(container[key], environ)  # type: ignore[index]
        except Unexpandable as exc:
            problems.append(doc.problem(where, str(exc)))
            # left as written, its variables as literal text (not reported again as unknown placeholders)
            container[key] = _VARIABLE.sub(lambda m: _literal(m.group(0)), container[key])  # type: ignore[index]
    return problems


def resolve(base: Path, value: str) -> str:
    """A spec path (expanded already), absolute or relative to ``base`` (the folder holding the specs folder)."""
    return os.path.normpath(value if os.path.isabs(value) else base / value)


def _within(path: str, root: str) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def place_problems(doc: YamlDoc, system: System, keys: dict[str, str], specs_root: Path) -> list[Problem]:
    """The folders the tool writes in may not be /, the specs folder, or inside one another in harmful ways.

    Args:
        doc: the system's document (for locations).
        system: the system, its paths resolved.
        keys: benchmark name -> the key the spec lists it under (an alias, maybe).
        specs_root: the specs folder.
    """
    problems = []
    submission = system.submission_dir
    if os.path.realpath(submission) == os.sep:
        problems.append(doc.problem(["submission_dir"], "the submission folder may not be /"))
    elif _within(submission, str(specs_root)):
        problems.append(doc.problem(["submission_dir"], f"'{submission}' is inside the specs folder"))
    elif _within(str(specs_root), submission):
        problems.append(doc.problem(["submission_dir"], f"'{submission}' holds the specs folder"))
    for name, run in system.benchmarks.items():
        if run.isolated:
            continue
        where: list[PathPart] = ["benchmarks", keys.get(name, name), "workdir"]
        for scenario in run.scenarios:
            try:
                folder = run.workdir.format(
                    system=system.name, benchmark=name, scenario=scenario, loadgen_scenario=loadgen_scenario(scenario)
                )
            except (KeyError, ValueError, IndexError, AttributeError):
                break  # a bad template: reported with the template
            if os.path.realpath(folder) == os.sep:
                problems.append(doc.problem(where, "a working directory may not be /"))
            elif _within(folder, str(specs_root)):
                problems.append(doc.problem(where, f"'{folder}' is inside the specs folder"))
            elif _within(folder, submission):
                problems.append(doc.problem(where, f"'{folder}' is inside the submission folder"))
            else:
                continue
            break
    return problems


def _tree_folders(rnd: Round, system: System) -> Iterator[tuple[str, str]]:
    """(folder, what) for every folder of the submission tree ``system`` writes into: its cells' TEST folders
    and, with ``reference: {publish: true}``, its scenarios' results folders."""
    for name, run in sorted(system.benchmarks.items()):
        for scenario in run.scenarios:
            fields = {
                "division": system.division,
                "submitter": system.submitter,
                "system": system.name,
                "benchmark": name,
                "scenario": scenario,
            }
            try:
                if system.division != "open":  # open systems run no compliance test (docs/rules.md)
                    for test in rnd.tests_for(name):
                        yield rnd.test_dir.format(**fields, test=test), f"TEST folder of {name}/{scenario}/{test}"
                if run.publish_reference:
                    yield rnd.results_dir.format(**fields), f"results of {name}/{scenario}"
            except (KeyError, ValueError, IndexError):
                return  # a bad round template: reported with the round


def shared_folder_problems(specs: Specs, docs: Mapping[str, YamlDoc]) -> list[Problem]:
    """No two systems write into one folder of a submission tree: each would replace the other's TEST folder (or
    results) on every publish, and both would say PASS. Folders are compared as the file system finds them
    (symlinks followed) and regardless of case (a system called ``Demo`` beside ``demo`` shares its folders on a
    case-insensitive file system, as macOS's and Windows' are, where the tree is often checked and uploaded)."""
    owner: dict[str, tuple[System, str, str]] = {}
    clashes: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {}
    for system in sorted(specs.systems.values(), key=lambda s: s.name):
        rnd = specs.rounds.get(system.round)
        if rnd is None:
            continue  # reported with the system
        for relative, what in _tree_folders(rnd, system):
            folder = os.path.normpath(os.path.join(system.submission_dir, relative))
            key = os.path.realpath(folder).casefold()
            first = owner.setdefault(key, (system, folder, what))
            if first[0].name != system.name:
                clashes.setdefault((system.name, first[0].name), []).append((folder, what, first[1], first[2]))
    problems = []
    for (name, other), folders in sorted(clashes.items()):
        folder, what, their_folder, theirs = folders[0]
        more = f" (and {len(folders) - 1} more folder{'s' if len(folders) > 2 else ''})" if len(folders) > 1 else ""
        if os.path.realpath(folder) != os.path.realpath(their_folder):
            how = f" ({their_folder}: one folder on a case-insensitive file system, as macOS's and Windows' are)"
        elif folder != their_folder:
            how = f" ({their_folder}, through a symbolic link)"
        else:
            how = ""
        problems.append(
            docs[name].problem(
                ["name"],
                f"system '{name}' writes its {what} into {folder}, where system '{other}' "
                f"({specs.systems[other].file}) writes its {theirs}{how}{more}: each would replace the other's; "
                f"give '{name}' another name or a submission_dir of its own",
            )
        )
    return problems
