"""``mlperf-compliance round-data CHECKOUT [--round R]``: every difference between the round data of the specs and
the official tables of a checkout of mlcommons/inference.

Compared, per round both have: the benchmarks and the tests each requires, the scenario tables per system type,
dataset sizes, accuracy thresholds, seeds and performance rules (:mod:`compliance.specs.official` reads the checker's
literals without running them); the TEST01 accuracy metrics of the model specs (the checker's regex and delta); and
every test's rendered audit.config with the official ``compliance/TESTxx`` file of each model, scenario by scenario.
A difference a round spec lists under ``known_differences`` with exactly the checker's value is reported as known.
Facts only: nothing is written. Exit status 0 when there is no difference, 1 when there is one, 2 on a bad checkout
(docs/rounds.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from compliance.auditconfig import RenderError, parse, resolve
from compliance.errors import EXIT_FAILED, EXIT_OK, InputError, UnknownName, did_you_mean, plural
from compliance.plan import load_specs
from compliance.specs import official
from compliance.specs.rounds import tables
from compliance.specs.types import KnownDifference, Model, Round, Specs, TestSpec


@dataclass
class _Report:
    """What the comparison found: differences and known ones (lines to print), facts the checker does not hold."""

    out: TextIO
    differences: int = 0
    known: int = 0
    unknown: int = 0
    notes: list[str] = field(default_factory=list)

    def section(self, title: str, lines: list[str], known: list[str]) -> None:
        if lines or known:
            print(title, file=self.out)
        for line in lines:
            print(f"  {line}", file=self.out)
        for line in known:
            print(f"  known: {line}", file=self.out)
        self.differences += len(lines)
        self.known += len(known)


def _show(value: Any) -> str:
    if value is None:
        return "absent"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):  # an entry as a spec would write it: without what the checker does not say
        shown = {k: v for k, v in value.items() if v != [] and v is not official.NOT_IN_CHECKER}
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in shown.items()) + "}"
    if isinstance(value, float):
        return f"{value:.12g}"  # the checker's products (43.9868879999...) as the specs write them
    return f"'{value}'" if isinstance(value, str) and not value.isidentifier() else str(value)


def same(ours: Any, theirs: Any) -> bool:
    """Equal as facts: numbers within a relative 1e-9 (the checker writes ``76.46 * 0.99``), lists of names as
    sets (scenario and test lists), mappings key by key."""
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=0.0) or ours == theirs
    if isinstance(ours, list) and isinstance(theirs, list):
        if all(isinstance(v, str) for v in ours + theirs):
            return sorted(set(ours)) == sorted(set(theirs))
        return len(ours) == len(theirs) and all(same(a, b) for a, b in zip(ours, theirs, strict=True))
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in ours)
    return bool(ours == theirs)


def differences(ours: Any, theirs: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """(path, ours, theirs) for every fact that differs; a side without the fact has None; a fact the checker holds
    no table for (official.NOT_IN_CHECKER) is yielded as such, for the caller to count."""
    if theirs is official.NOT_IN_CHECKER:
        if ours is not None:
            yield path, ours, theirs
        return
    depth = 3 if path[:1] in (("scenarios",), ("performance_rules",)) else 2  # down to a benchmark's entry
    if len(path) < depth and isinstance(ours, dict | None) and isinstance(theirs, dict | None) and ours != theirs:
        # a section, or a benchmark's entry in it, one side lacks: one line per entry, so that the report holds every
        # value a new round's spec needs
        ours, theirs = ours or {}, theirs or {}
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in [*ours, *(k for k in theirs if k not in ours)]:
            yield from differences(ours.get(key), theirs.get(key), (*path, str(key)))
    elif not same(ours, theirs):
        yield path, ours, theirs


def _compare(
    report: _Report, title: str, ours: dict[str, Any], theirs: dict[str, Any], known: tuple[KnownDifference, ...]
) -> None:
    listed = {k.at: k for k in known}
    lines, known_lines, seen = [], [], set()
    for path, mine, checker in differences(ours, theirs):
        if checker is official.NOT_IN_CHECKER:
            report.unknown += 1
            continue
        entry = listed.get(path)
        shown = f"{'.'.join(path)}: specs {_show(mine)}, checker {_show(checker)}"
        seen.add(path)
        if entry is not None and same(entry.checker, checker):
            known_lines.append(f"{shown} ({entry.why})")
        else:
            lines.append(shown + (f" (listed as known with checker {_show(entry.checker)})" if entry else ""))
    report.section(title, lines, known_lines)
    report.notes += [
        f"{rest}: listed as a known difference, but the checker agrees with the spec there"
        for k in known
        if k.at not in seen
        for rest in [f"{title.rstrip(':')} {'.'.join(k.at)}"]
    ]


def _metrics(
    specs: Specs, rnd: Round, theirs: dict[str, Any], patterns: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The TEST01 accuracy metrics of the round's TEST01 models, as specs and checker give them (Part III reads
    each metric of the accuracy target with ACC_PATTERN and allows the checker's delta: docs/rules.md §2.1)."""
    ours: dict[str, Any] = {}
    checker: dict[str, Any] = {}
    accuracy = theirs.get("accuracy", {})
    for name in rnd.required:
        if "TEST01" not in rnd.tests_for(name) or name not in specs.models:
            continue
        model = specs.models[name]
        ours[name] = {m.name: {"regex": m.pattern, "delta_percent": m.delta_percent} for m in model.metrics}
        entry = accuracy.get(name, {})
        names = list(entry.get("targets", {})) or [m for t in entry.get("targets_by_scenario", {}).values() for m in t]
        checker[name] = {
            m: {"regex": patterns.get(m), "delta_percent": official.delta_percent(theirs, name, m)} for m in names
        }
    return {"models": ours}, {"models": checker}


def _folder_of(model: Model, folders: dict[str, str]) -> str | None:
    """The official folder of ``model`` among a test's model folders: its name or an alias, else its family with a
    quality suffix (compliance/TEST01/3d-unet serves 3d-unet-99 and 3d-unet-99.9; yolo serves yolo-95)."""
    if "" in folders:
        return ""
    for name in (model.name, *model.aliases):
        if name in folders:
            return name
    family = [f for f in folders if re.fullmatch(re.escape(f) + r"-[0-9]+(\.[0-9]+)?", model.name)]
    return max(family, key=len) if family else None


def _audit(report: _Report, specs: Specs, checkout: Path, rounds: list[Round]) -> None:
    """Each test's settings as rendered, against the official file, for every model a compared round requires the
    test of (and every benchmark of a compared round an official folder serves), in each of the model's scenarios."""
    configs = official.read_audit_configs(checkout)
    pairs = {(t, b) for rnd in rounds for b in rnd.required for t in rnd.tests_for(b) if t in specs.tests}
    benchmarks = {b for rnd in rounds for b in rnd.required if b in specs.models}
    for test, folders in configs.items():
        for folder in [f for f in folders if f]:  # a model's own file (TEST04's shared one serves every model)
            models = [m.name for m in specs.models.values() if _folder_of(m, {folder: ""}) == folder]
            if not models:
                report.notes.append(f"{test}/{folder}/audit.config: no model of the specs has that name, not compared")
            elif test in specs.tests:  # also where no compared round requires the test (wan's TEST01 file)
                pairs |= {(test, m) for m in models if m in benchmarks}
    lines: list[str] = []
    for test_name, name in sorted(pairs):
        lines += _audit_pair(specs.tests[test_name], specs.models[name], configs.get(test_name, {}))
    report.section("audit.config (compliance/TESTxx):", lines, [])


def _audit_pair(test: TestSpec, model: Model, folders: dict[str, str]) -> list[str]:
    """The differences of ``test``'s settings for ``model``, scenario by scenario, from its official file."""
    folder = _folder_of(model, folders)
    if folder is None:
        return [f"{test.name} {model.name}: no official audit.config ({test.name}/{model.name}/audit.config)"]
    parsed = parse(folders[folder])
    where = f"{test.name}/{folder + '/' if folder else ''}audit.config"
    if not parsed.valid:
        return [f"{test.name} {model.name}: LoadGen would reject {where}: {parsed.errors[0]}"]
    lines = []
    for scenario in model.scenarios:
        try:
            mine: dict[str, Any] = {line.key: line.value for line in resolve(test, model, scenario)}
        except RenderError as exc:
            lines.append(f"{test.name} {model.name} {scenario}: cannot be rendered: {exc}")
            continue
        # the official settings as a harness applies them when it loads the file with its model's name (the TEST04
        # README asks for that), so that model-specific lines count (docs/rules.md §1.2)
        theirs = parsed.settings(scenario, model=model.name)
        for key in [*mine, *(k for k in theirs if k not in mine)]:
            if not same(mine.get(key), theirs.get(key)):
                lines.append(
                    f"{test.name} {model.name} {scenario}: {key}: specs {_show(mine.get(key))}, "
                    f"{where} {_show(theirs.get(key))}"
                )
    return lines


def round_data(specs_dir: str | None, checkout: str, requested: list[str] | None, out: TextIO) -> int:
    """Print every difference between the round data of the specs in ``specs_dir`` and the official tables of the
    mlcommons/inference checkout ``checkout`` (only rounds ``requested``, when given); 0 when none, 1 otherwise.

    ``specs_dir`` None: the packaged rounds, models and tests alone.

    Raises:
        InputError: the checkout holds no readable checker, or a requested round is not in it.
        UnknownName: a requested round has no spec.
    """
    specs = load_specs(specs_dir)
    root = Path(checkout)
    checker = official.read_checker(root)
    for name in requested or ():
        if name not in specs.rounds:
            raise UnknownName(
                f"unknown round '{name}'{did_you_mean(name, specs.rounds)}; known: {', '.join(sorted(specs.rounds))}"
            )
        if name not in checker.model_config:
            raise InputError(
                f"round {name} is not in {root / checker.file} (it has {', '.join(checker.rounds)}); "
                "use a checkout of a commit whose checker has it"
            )
    names = requested or sorted(set(specs.rounds) & set(checker.model_config))
    report = _Report(out)
    shown = specs_dir or "the packaged specs"
    print(f"{shown} against {root / checker.file} (rounds {', '.join(names) or 'none'})", file=out)
    if not requested:
        missing = [v for v in checker.rounds if v not in specs.rounds]
        report.section("rounds:", [f"{v}: in the checker, no specs/rounds/{v}.yaml" for v in missing], [])
        report.notes += [
            f"round {v}: not in this checker, not compared" for v in sorted(specs.rounds) if v not in names
        ]
    patterns = checker.constants.get("ACC_PATTERN", {})
    for name in names:
        rnd, theirs = specs.rounds[name], official.round_tables(checker, name)
        ours = tables(rnd)
        title = f"round {name} ({rnd.file}):"
        listed = rnd.known_differences
        _compare(report, title, ours, theirs, tuple(k for k in listed if k.at[0] != "models"))
        metrics = _metrics(specs, rnd, theirs, patterns)
        _compare(report, f"round {name}, TEST01 metrics:", *metrics, tuple(k for k in listed if k.at[0] == "models"))
    _audit(report, specs, root, [specs.rounds[n] for n in names])
    for note in report.notes:
        print(f"note: {note}", file=out)
    unknown = f"; {plural(report.unknown, 'fact')} of the specs not in this checker's tables" if report.unknown else ""
    known = f" ({report.known} known, listed in the round specs)" if report.known else ""
    print(f"{plural(report.differences, 'difference')}{known}{unknown}", file=out)
    return EXIT_FAILED if report.differences else EXIT_OK
