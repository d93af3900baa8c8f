"""The plan: which cells exist and everything resolved for each, from the specs. Pure: no I/O.

A *cell* is (system, benchmark, scenario, test): the round of the system requires the test for the benchmark, and
the system runs the benchmark in the scenario (open-division systems need no compliance tests). Every path here is
a normalised string relative to the folder doit runs in (doit links a file_dep to a target on an exact string).

Build folder layout::

    build/<system>/<benchmark>/<scenario>/<test>/logs/        LoadGen logs of the compliance run
    build/<system>/<benchmark>/<scenario>/<test>/run.log      the command's stdout and stderr
    build/<system>/<benchmark>/<scenario>/<test>/verify/      verification output (<test>/ inside, as verify -o)
    build/<system>/<benchmark>/<scenario>/reference/          the submission runs, when the system produces them:
                                                              accuracy/ and performance/run_1/ (a RESULTS_DIR)
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
from dataclasses import asdict, dataclass, field

from compliance.auditconfig import render
from compliance.spectypes import BenchmarkRun, Model, Specs, System, TestSpec, loadgen_scenario
from compliance.verify import layout

BUILD = "build"
LOG_FILES = (layout.DETAIL, layout.SUMMARY, layout.ACCURACY)


def norm(*parts: str) -> str:
    """A normalised path string (the one form every task uses)."""
    return os.path.normpath(os.path.join(*parts))


@dataclass(frozen=True, order=True)
class Cell:
    """One compliance test of one benchmark in one scenario on one system."""

    system: str
    benchmark: str
    scenario: str
    test: str

    @property
    def id(self) -> str:
        return f"{self.system}/{self.benchmark}/{self.scenario}/{self.test}"


@dataclass(frozen=True)
class RunPlan:
    """One LoadGen run of a benchmark command: a compliance run or a submission (reference) run."""

    label: str  # e.g. demo/resnet/Offline/TEST01 or demo/resnet/Offline/accuracy
    system: str
    command: str  # formatted, ready for the shell
    workdir: str
    output_dir: str  # build folder that receives the LoadGen logs
    harness_log_dir: str | None  # where the harness writes its logs when the command takes no {log_dir}
    stdout_log: str
    env: dict[str, str]
    timeout: float
    audit_text: str | None  # the audit.config staged for the run (None for a reference run)
    isolated: bool = False  # workdir is a fresh folder of ours (ISOLATED_MARKER inside)

    @property
    def logs(self) -> list[str]:
        return [norm(self.output_dir, name) for name in LOG_FILES]

    @property
    def status_file(self) -> str:
        """Where the run records how it ended (beside its output log, as .json)."""
        return os.path.splitext(self.stdout_log)[0] + ".json"

    @property
    def signature(self) -> str:
        """What makes two runs the same run: the resolved command, environment, folders and audit.config."""
        data = {k: v for k, v in asdict(self).items() if k not in ("timeout", "label")}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CellPlan:
    """Everything the tasks of one cell need."""

    cell: Cell
    run: RunPlan
    build_dir: str
    verify_dir: str  # receives <test>/ (verify -o)
    results_dir: str  # the submission's runs for this scenario (accuracy/, performance/run_1/)
    reference_files: tuple[str, ...]  # the files of results_dir the verification reads
    tree_dir: str  # the cell's TEST folder in the submission tree
    test: TestSpec
    model: Model
    dtype: str
    strict: bool

    @property
    def verified_dir(self) -> str:
        return norm(self.verify_dir, self.cell.test)

    @property
    def verify_json(self) -> str:
        return norm(self.verified_dir, layout.VERIFY_JSON)

    @property
    def verify_meta(self) -> str:
        """What the last verification read: the spec digest and the inputs' timestamps (for STALE)."""
        return norm(self.build_dir, "verify.meta.json")

    @property
    def verified_files(self) -> list[str]:
        return [norm(self.verified_dir, name) for name in layout.files(self.cell.test)]

    @property
    def tree_files(self) -> list[str]:
        return [norm(self.tree_dir, name) for name in layout.files(self.cell.test)]

    @property
    def verify_inputs(self) -> list[str]:
        """The files the verification reads: the compliance run's logs and the submission runs'."""
        return self.run.logs + list(self.reference_files)

    def verify_config(self, version: str) -> dict:
        """The resolved spec slice the verification depends on (a change re-verifies)."""
        return {"test": asdict(self.test), "model": asdict(self.model), "dtype": self.dtype, "strict": self.strict,
                "results_dir": self.results_dir, "verifier": version}

    def verify_digest(self, version: str) -> str:
        return hashlib.sha256(json.dumps(self.verify_config(version), sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class ReferencePlan:
    """A submission run the system produces itself (accuracy or performance)."""

    system: str
    benchmark: str
    scenario: str
    mode: str
    run: RunPlan

    @property
    def id(self) -> str:
        return f"{self.system}/{self.benchmark}/{self.scenario}/{self.mode}"


@dataclass
class Plan:
    """All cells and reference runs of the systems, and the required tests no cell can cover."""

    specs: Specs
    cells: list[CellPlan] = field(default_factory=list)
    references: list[ReferencePlan] = field(default_factory=list)
    uncovered: list[tuple[Cell, str]] = field(default_factory=list)  # (cell, why it has no tasks)


def _command(template: str, run: BenchmarkRun, system: System, scenario: str, test: str, mode: str,
             output_dir: str, workdir: str) -> str:
    values = {"python": sys.executable, "system": system.name, "benchmark": run.benchmark, "scenario": scenario,
              "loadgen_scenario": loadgen_scenario(scenario), "test": test, "mode": mode,
              "log_dir": os.path.abspath(output_dir), "workdir": os.path.abspath(workdir)}
    return template.format(**{k: shlex.quote(v) for k, v in values.items()})


def _folder(template: str, run: BenchmarkRun, system: System, scenario: str, **extra: str) -> str:
    return template.format(system=system.name, benchmark=run.benchmark, scenario=scenario,
                           loadgen_scenario=loadgen_scenario(scenario), **extra)


ISOLATED_MARKER = ".mlperf-compliance-workdir"


def _run_plan(label: str, template: str, run: BenchmarkRun, system: System, scenario: str, test: str, mode: str,
              output_dir: str, stdout_log: str, audit_text: str | None) -> RunPlan:
    # an isolated run gets a fresh folder beside its logs; the marker file there says the folder is ours
    workdir = norm(output_dir, "..", "work") if run.isolated else _folder(run.workdir, run, system, scenario)
    harness_logs = None
    if "{log_dir}" not in template:
        relative = _folder(run.log_dir, run, system, scenario, test=test, mode=mode) if run.log_dir else "."
        harness_logs = norm(workdir, relative)
    return RunPlan(label, system.name, _command(template, run, system, scenario, test, mode, output_dir, workdir),
                   norm(workdir), norm(output_dir), harness_logs, stdout_log, dict(run.env), run.timeout, audit_text,
                   run.isolated)


def build_plan(specs: Specs, systems: list[str] | None = None) -> Plan:
    """The plan for ``systems`` (all by default), in sorted order."""
    plan = Plan(specs)
    for system in sorted(specs.systems.values(), key=lambda s: s.name):
        if systems is not None and system.name not in systems:
            continue
        rnd = specs.rounds[system.round]
        for name in sorted(system.benchmarks):
            run = system.benchmarks[name]
            model = specs.models[name]
            for scenario in sorted(run.scenarios):
                base = norm(BUILD, system.name, name, scenario)
                # The submission runs the required tests compare with (TEST06 needs none)
                modes = [m for m in layout.REFERENCE_LOGS
                         if any(m in layout.reference_runs(t) for t in rnd.tests_for(name))]
                if run.produces_reference:
                    results_dir = norm(base, "reference")
                    for mode in modes:
                        output = norm(results_dir, "accuracy" if mode == "accuracy" else "performance/run_1")
                        plan.references.append(ReferencePlan(system.name, name, scenario, mode, _run_plan(
                            f"{system.name}/{name}/{scenario}/{mode}", run.reference_command or run.command, run,
                            system, scenario, "", mode, output, norm(base, f"reference-{mode}.log"), None)))
                else:
                    results_dir = norm(_folder(run.results or "", run, system, scenario))
                for test_name in rnd.tests_for(name):
                    cell = Cell(system.name, name, scenario, test_name)
                    test = specs.tests[test_name]
                    if system.division == "open":
                        plan.uncovered.append((cell, "open division: compliance tests are not required"))
                        continue
                    if not test.verifier:
                        plan.uncovered.append((cell, f"{test_name} is not verified by this tool"))
                        continue
                    plan.cells.append(_cell_plan(specs, system, run, model, test, cell, base, results_dir))
    return plan


def _cell_plan(specs: Specs, system: System, run: BenchmarkRun, model: Model, test: TestSpec, cell: Cell,
               base: str, results_dir: str) -> CellPlan:
    build_dir = norm(base, cell.test)
    audit = render(test, model, cell.scenario, cell=cell.id)
    compliance = _run_plan(cell.id, run.command, run, system, cell.scenario, cell.test, "performance",
                           norm(build_dir, "logs"), norm(build_dir, "run.log"), audit)
    # The files the verification needs (compliance.verify.layout)
    reference_files = [norm(results_dir, layout.REFERENCE_LOGS[mode].path) for mode in layout.reference_runs(cell.test)]
    rnd = specs.rounds[system.round]
    tree_dir = norm(system.submission_dir, rnd.test_dir.format(
        division=system.division, submitter=system.submitter, system=system.name, benchmark=cell.benchmark,
        scenario=cell.scenario, test=cell.test))
    return CellPlan(cell, compliance, build_dir, norm(build_dir, "verify"), results_dir, tuple(reference_files),
                    tree_dir, test, model, model.dtype,
                    test.thresholds.strict_accuracy if system.strict_accuracy is None else system.strict_accuracy)
