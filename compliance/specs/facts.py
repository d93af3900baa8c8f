"""Cross-checks of system specs beyond their schema: harness facts against the comparisons the required tests
make (warnings), and the systems that share a submission tree (errors).

Layer: the specs layer; the loader calls these with the documents it read (for file:line locations).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from compliance.errors import PathPart, Problem
from compliance.specs.types import BenchmarkRun, Model, Specs, System
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
