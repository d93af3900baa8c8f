"""Real LoadGen runs of the demo harness for tests: submission runs and compliance runs, honest or faulty.

Each run is its own process in its own working directory; an audit.config is written there before the run and
removed after it, as the pipeline does. Runs are cached for the whole test session.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from compliance.auditconfig import render
from compliance.demo import harness
from compliance.plan import load_specs
from tests.helpers.paths import SHIPPED_SPECS

SPECS = load_specs(SHIPPED_SPECS)


class DemoRuns:
    """Makes and caches demo runs under ``root``."""

    def __init__(self, root: Path):
        self.root = root
        self.cache: dict[tuple, Path] = {}

    def run(
        self,
        name: str,
        benchmark: str,
        scenario: str,
        mode: str,
        fault: str | None = None,
        audit_text: str | None = None,
        test: str = "",
    ) -> Path:
        """Run the harness once (cached by name) and return its LoadGen log folder (``test``: its ``--test``)."""
        key = (name, benchmark, scenario, mode, fault, audit_text, test)
        if key in self.cache:
            return self.cache[key]
        workdir = self.root / f"{name}-{benchmark}-{scenario}-{mode}-{fault or 'honest'}-{len(self.cache)}"
        workdir.mkdir(parents=True)
        audit = workdir / "audit.config"
        if audit_text is not None:
            audit.write_text(audit_text, encoding="utf-8")
        command = harness.command(benchmark, scenario, mode, "logs", fault, test)
        try:
            done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=120)
        finally:
            audit.unlink(missing_ok=True)
        assert done.returncode == 0, f"exit status {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        self.cache[key] = workdir / "logs"
        return workdir / "logs"

    def results(self, benchmark: str, scenario: str, audit_text: str | None = None, tag: str = "ref") -> Path:
        """A submission scenario folder: accuracy/ and performance/run_1/."""
        key = ("results", benchmark, scenario, audit_text, tag)
        if key in self.cache:
            return self.cache[key]
        folder = self.root / f"results-{tag}-{benchmark}-{scenario}-{len(self.cache)}"
        shutil.copytree(self.run("acc", benchmark, scenario, "accuracy"), folder / "accuracy")
        shutil.copytree(
            self.run(f"perf-{tag}", benchmark, scenario, "performance", audit_text=audit_text),
            folder / "performance" / "run_1",
        )
        self.cache[key] = folder
        return folder

    def compliance(
        self, test: str, benchmark: str, scenario: str, fault: str | None = None, audit_text: str | None = None
    ) -> Path:
        """A compliance run: the test's rendered audit.config (or ``audit_text``) in the working directory."""
        text = audit_text if audit_text is not None else render(SPECS.tests[test], SPECS.model(benchmark), scenario)
        return self.run(test, benchmark, scenario, "performance", fault, text, test)
