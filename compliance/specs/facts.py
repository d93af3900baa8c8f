"""Cross-checks of system specs beyond their schema: harness facts against the comparisons the required tests
make (warnings), and the systems that share a submission tree (errors).

Layer: the specs layer; the loader calls these with the documents it read (for file:line locations).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from compliance.errors import PathPart, Problem
from compliance.specs.types import BenchmarkRun, KnownIssue, Model, Specs, System
from compliance.specs.yamldoc import YamlDoc

#: bytes per element of each dtype (common.schema.json's dtype list)
DTYPE_SIZES = {
    "byte": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "float16": 2,
    "int32": 4,
    "float32": 4,
    "int64": 8,
    "float64": 8,
}


#: a test's reading of a benchmark's harness facts, declared by its verifier (``Verifier.harness_check``): a warning
#: (the path below the benchmark, the message) where the declared facts and the comparison the test makes disagree
HarnessCheck = Callable[[BenchmarkRun, Model], "tuple[list[PathPart], str] | None"]


def harness_warnings(
    doc: YamlDoc,
    where: list[PathPart],
    run: BenchmarkRun,
    model: Model,
    tests: tuple[str, ...],
    checks: Mapping[str, HarnessCheck],
) -> list[Problem]:
    """Warnings (the specs stay valid) where a benchmark's declared harness facts and a required test's reading of
    them disagree, as each test's verifier declares it (``checks``, by test: no test is known here by name)."""
    warnings: list[Problem] = []
    for test in tests:
        found = checks[test](run, model) if test in checks else None
        if found is not None:
            warnings.append(doc.problem(where + found[0], found[1]))
    return warnings


def override_problems(
    doc: YamlDoc, where: list[PathPart], run: BenchmarkRun, round_name: str, tests: tuple[str, ...]
) -> list[Problem]:
    """An audit override must concern a test the round requires of the benchmark, in a scenario the system runs:
    any other would never reach an audit.config (and would read as a deviation that is not there)."""
    problems: list[Problem] = []
    for test, given in run.audit_overrides.items():
        if test not in tests:
            problems.append(
                doc.problem(
                    where + ["audit_overrides", test],
                    f"round {round_name} requires {', '.join(tests) or 'no test'} of {run.benchmark}, not {test}: "
                    "this override would never be used; remove it",
                    key=True,
                )
            )
            continue
        for scenario in [k for k, v in given.items() if isinstance(v, dict) and k not in run.scenarios]:
            problems.append(
                doc.problem(
                    where + ["audit_overrides", test, scenario],
                    f"this system runs {run.benchmark} in {', '.join(run.scenarios)}, not {scenario}: "
                    "this override would never be used; remove it",
                    key=True,
                )
            )
    return problems


def known_issues(data: list[dict[str, Any]]) -> tuple[KnownIssue, ...]:
    """A valid test spec's ``known_issues``."""
    return tuple(
        KnownIssue(
            tuple(k["models"]),
            tuple(k["scenarios"]) if "scenarios" in k else None,
            k["setting"],
            k["issue"],
            k["effect"],
        )
        for k in data
    )


def known_issue_warnings(
    doc: YamlDoc, where: list[PathPart], run: BenchmarkRun, specs: Specs, names: tuple[str, ...]
) -> list[Problem]:
    """Warnings where a system would run an official audit setting known to be broken upstream (a test spec's
    ``known_issues``) without overriding it: the run fails whatever the system does, and retries cannot mend it."""
    warnings: list[Problem] = []
    for test in (specs.tests[t] for t in names if t in specs.tests):  # a broken test spec is reported with its file
        for issue in test.known_issues:
            for i, scenario in enumerate(run.scenarios):
                if issue.affects(run.benchmark, scenario) and issue.setting not in run.overrides_for(
                    test.name, scenario
                ):
                    warnings.append(
                        doc.problem(
                            where + ["scenarios", i],
                            f"warning: the official {test.name} audit.config is broken for {run.benchmark} "
                            f"{scenario}: {issue.effect} ({issue.issue}); to deviate from it explicitly, give this "
                            f"benchmark 'audit_overrides: {{{test.name}: {{{scenario}: {{{issue.setting}: N}}}}}}' "
                            "(recorded as a deviation in the audit.config, the TEST folder and the summary)",
                        )
                    )
    return warnings


def shared_tree_problems(specs: Specs, docs: dict[str, YamlDoc]) -> list[Problem]:
    """Systems writing into one submission tree belong to one submission: one round (so one layout, the one
    the checker is run with: ``--version``) and one submitter (the checker's ``--submitter``; closed and open
    divisions may share the tree). Each later system is reported against the first one of its tree."""
    problems: list[Problem] = []
    by_tree: dict[str, list[System]] = {}
    for system in sorted(specs.systems.values(), key=lambda s: s.name):
        if system.round in specs.rounds:  # an unknown round is reported with the system
            by_tree.setdefault(os.path.realpath(system.submission_dir), []).append(system)
    for systems in by_tree.values():
        first = systems[0]
        for other in systems[1:]:
            doc = docs[other.name]
            for key, mine, theirs, what in (
                ("round", other.round, first.round, "one submission tree holds one round (and its layout)"),
                ("submitter", other.submitter, first.submitter, "one submission tree holds one submitter"),
            ):
                if mine != theirs:
                    problems.append(
                        doc.problem(
                            [key],
                            f"system '{other.name}' ({key} {mine}) shares the submission folder "
                            f"{other.submission_dir} with system '{first.name}' ({first.file}, {key} {theirs}): "
                            f"{what}; give '{other.name}' a submission_dir of its own",
                        )
                    )
    return problems


def benchmark_problems(doc: YamlDoc, where: list[PathPart], b: dict[str, Any]) -> list[Problem]:
    """What a valid benchmark entry of a system cannot say at once: where it runs, where its submission runs come
    from, and two modes the harness cannot tell apart."""
    problems = []
    if ("workdir" in b) == bool(b.get("isolated")):
        problems.append(
            doc.problem(
                where,
                "give either 'workdir' (where the command runs) or "
                "'isolated: true' (a fresh folder per run), not both or neither",
            )
        )
    if "results" in b and b.get("reference") is not None:
        problems.append(
            doc.problem(
                where,
                "give either 'results' (where the submission's accuracy and "
                "performance runs are) or 'reference' (produce them), not both",
            )
        )
    words = {mode: b["modes"].get(mode, mode) for mode in ("accuracy", "performance")}
    if words["accuracy"] == words["performance"]:
        # the harness would run both in one LoadGen mode: an accuracy run published as a performance run, or back
        problems.append(
            doc.problem(
                where + ["modes"],
                f"accuracy and performance runs would both get {{mode}} = '{words['accuracy']}', so the harness "
                "cannot tell them apart; give each mode the word or flag the harness takes for it",
            )
        )
    return problems
