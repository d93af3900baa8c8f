"""``mlperf-compliance validate``: load and check every spec, report every problem at once."""

from __future__ import annotations

import sys
from typing import TextIO

from compliance.errors import plural
from compliance.plan import build_plan, load_specs


def validate(specs_dir: str, systems: list[str] | None, out: TextIO, err: TextIO | None = None) -> int:
    """Validate the specs under ``specs_dir`` (raises SpecError listing every problem); 0 when valid.

    Warnings (valid specs that probably do not say what the user means, e.g. a TEST01 comparison of the first byte
    of float32 outputs) go to ``err`` (standard error), one per line, as ``file:line: $.path: warning: ...``; they
    do not change the exit status. The project's rounds, models and tests that replace packaged ones are listed
    after the counts (``specs/rounds/v5.0.yaml overrides the packaged round v5.0 (...)``).
    """
    specs = load_specs(specs_dir)
    build_plan(specs, systems)  # every cell can be planned (an unknown system is an error)
    shown = [w for w in specs.warnings if systems is None or any(w.file == specs.systems[n].file for n in systems)]
    for warning in shown:
        print(warning, file=err or sys.stderr)
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
    for override in specs.overrides:
        print(f"  {override}", file=out)
    for system in specs.systems.values():
        if systems is not None and system.name not in systems:
            continue
        benchmarks = ", ".join(f"{name} ({'/'.join(run.scenarios)})" for name, run in system.benchmarks.items())
        print(
            f"  system {system.name}: round {system.round}, {system.division}/{system.submitter}: {benchmarks}",
            file=out,
        )
    return 0
