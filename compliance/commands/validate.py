"""``mlperf-compliance validate``: load and check every spec, report every problem at once."""

from __future__ import annotations

from typing import TextIO

from compliance.commands import load_or_report, plural
from compliance.errors import EXIT_BAD_INPUT


def validate(specs_dir: str, out: TextIO, err: TextIO) -> int:
    """Validate the specs under ``specs_dir``; 0 when valid, 2 with one line per problem otherwise."""
    specs = load_or_report(specs_dir, err)
    if specs is None:
        return EXIT_BAD_INPUT
    counts = ", ".join(plural(len(items), kind) for kind, items in
                       (("round", specs.rounds), ("model", specs.models), ("test", specs.tests), ("system", specs.systems)))
    print(f"{specs_dir}: {counts}: OK", file=out)
    for system in specs.systems.values():
        benchmarks = ", ".join(f"{name} ({'/'.join(run.scenarios)})" for name, run in system.benchmarks.items())
        print(f"  system {system.name}: round {system.round}, {system.division}/{system.submitter}: {benchmarks}", file=out)
    return 0
