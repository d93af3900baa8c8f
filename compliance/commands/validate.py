"""``mlperf-compliance validate``: load and check every spec, report every problem at once."""

from __future__ import annotations

from typing import TextIO

from compliance.errors import EXIT_BAD_INPUT, SpecError
from compliance.specs import load_specs


def validate(specs_dir: str, out: TextIO, err: TextIO) -> int:
    """Validate the specs under ``specs_dir``; 0 when valid, 2 with one line per problem otherwise."""
    try:
        specs = load_specs(specs_dir)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        print(f"error: {_plural(len(exc.problems), 'problem')} in {specs_dir}; nothing was run", file=err)
        return EXIT_BAD_INPUT
    counts = ", ".join(_plural(len(items), kind) for kind, items in
                       (("round", specs.rounds), ("model", specs.models), ("test", specs.tests), ("system", specs.systems)))
    print(f"{specs_dir}: {counts}: OK", file=out)
    for system in specs.systems.values():
        benchmarks = ", ".join(f"{name} ({'/'.join(run.scenarios)})" for name, run in system.benchmarks.items())
        print(f"  system {system.name}: round {system.round}, {system.division}/{system.submitter}: {benchmarks}", file=out)
    return 0


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
