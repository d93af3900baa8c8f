"""``mlperf-compliance validate``: load and check every spec, report every problem at once."""

from __future__ import annotations

from typing import TextIO

from compliance.errors import plural
from compliance.plan import build_plan, load_specs


def validate(specs_dir: str, systems: list[str] | None, out: TextIO) -> int:
    """Validate the specs under ``specs_dir`` (raises SpecError listing every problem); 0 when valid."""
    specs = load_specs(specs_dir)
    build_plan(specs, systems)  # every cell can be planned (an unknown system is an error)
    counts = ", ".join(
        plural(len(items), kind)
        for kind, items in (
            ("round", specs.rounds),
            ("model", specs.models),
            ("test", specs.tests),
            ("system", specs.systems),
        )
    )
    print(f"{specs_dir}: {counts}: OK", file=out)
    for system in specs.systems.values():
        if systems is not None and system.name not in systems:
            continue
        benchmarks = ", ".join(f"{name} ({'/'.join(run.scenarios)})" for name, run in system.benchmarks.items())
        print(
            f"  system {system.name}: round {system.round}, {system.division}/{system.submitter}: {benchmarks}",
            file=out,
        )
    return 0
