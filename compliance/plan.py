"""The plan: which cells exist and everything resolved for each, from the specs. Pure: no I/O.

A *cell* is (system, benchmark, scenario, test): the round of the system requires the test for the benchmark, and
the system runs the benchmark in the scenario (open-division systems need no compliance tests). Paths come from
:mod:`compliance.layout`; what each test compares with and writes comes from its verifier
(:mod:`compliance.verify.registry`).

Layer: imports the specs, layout, auditconfig and verify layers; used by the status, pipeline and command layers.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from compliance import layout
from compliance.auditconfig import AUDIT_CONFIG, render, with_overrides
from compliance.errors import UnknownName, did_you_mean
from compliance.layout import CellFiles, RunFiles, norm
from compliance.specs import loader, quoting
from compliance.specs.types import BenchmarkRun, Launcher, Model, Specs, System, TestSpec, loadgen_scenario
from compliance.verify import registry
from compliance.verify.base import Verifier


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
    files: RunFiles  # where its logs, output and record go
    harness_log_dir: str | None  # where the harness writes its logs when the command takes no {log_dir}
    env: dict[str, str]
    timeout: float
    audit_text: str | None  # the audit.config staged for the run (None for a reference run)
    isolated: bool  # workdir is a fresh folder of ours (layout.ISOLATED_MARKER inside)
    launcher: Launcher
    inputs: tuple[str, ...] = ()  # declared input files or globs (resolved paths): their content reruns the run

    @property
    def logs(self) -> list[str]:
        return self.files.log_files

    def signature_fields(self) -> dict[str, str]:
        """What makes two runs the same run, field by field (so a change can be named)."""
        return {
            "command": self.command,
            "environment": json.dumps(self.env, sort_keys=True),
            "working directory": self.workdir,
            "log folder": self.files.logs,
            "harness log folder": self.harness_log_dir or "",
            "isolated": str(self.isolated),
            "audit.config": self.audit_text or "",
            "declared inputs": json.dumps(self.inputs),
        }

    @property
    def signature(self) -> str:
        """What makes two runs the same run: the resolved command, environment, folders and audit.config."""
        return hashlib.sha256(json.dumps(self.signature_fields(), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ReferencePlan:
    """A submission run the system produces itself (accuracy or performance)."""

    system: str
    benchmark: str
    scenario: str
    mode: str
    run: RunPlan
    tree_dir: str | None = None  # with reference: {publish: true}, its folder in the tree's results layout
    submission_dir: str = ""  # the root of that tree (nothing is written outside it)
    publish_record: str = ""  # the record of what the tool wrote there (its ownership)

    @property
    def id(self) -> str:
        return f"{self.system}/{self.benchmark}/{self.scenario}/{self.mode}"


@dataclass(frozen=True)
class CellPlan:
    """Everything the tasks of one cell need."""

    cell: Cell
    run: RunPlan
    files: CellFiles
    results_dir: str  # the submission's runs for this scenario (accuracy/, performance/run_1/)
    reference_files: tuple[str, ...]  # the files of results_dir the verification reads
    tree_dir: str  # the cell's TEST folder in the submission tree
    submission_dir: str  # the root of the submission tree (nothing is written outside it)
    test: TestSpec
    model: Model
    verifier: Verifier
    options: dict[str, Any]  # the verifier's options, resolved from the system, model and test specs
    references: tuple[ReferencePlan, ...] = ()  # the submission runs the system produces that this cell needs
    attempts: int = 1  # runs the cell may get when it fails by what noise can cause (benchmark, system, test spec)
    attempt_pause: float = 0.0  # seconds between two attempts

    @property
    def verified_files(self) -> list[str]:
        return [norm(self.files.verified_dir, name) for name in self.verifier.files()]

    @property
    def tree_files(self) -> list[str]:
        return [norm(self.tree_dir, name) for name in self.verifier.files()]

    def needed_runs(self) -> list[tuple[str, str, RunPlan]]:
        """The runs the verification needs, as (kind, label, run): the compliance run, then the submission runs the
        system produces for it."""
        return [("run", "run", self.run)] + [
            ("reference", f"submission {ref.mode} run", ref.run) for ref in self.references
        ]

    @property
    def verify_inputs(self) -> list[str]:
        """What the verification reads: the compliance run's logs and the submission runs', and the records of
        how those runs ended (a new run, failed or not, re-verifies)."""
        records = [run.files.record for _, _, run in self.needed_runs()]
        return self.run.logs + list(self.reference_files) + records

    def verify_parts(self, version: str) -> dict[str, str]:
        """What the verification depends on besides its input files, part by part (a change re-verifies and is
        named): the test spec (thresholds, audit settings), the model spec, the verifier's options, the results
        folder, and the tool's version (its verifiers)."""

        def digest(data: Any) -> str:
            return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]

        # how many attempts a cell may get decides nothing about a verdict: changing it re-verifies nothing
        test = {k: v for k, v in asdict(self.test).items() if k not in ("attempts", "attempt_pause")}
        return {
            "test spec": digest(test),
            "model spec": digest(asdict(self.model)),
            "verifier options": digest(self.options),
            "results folder": self.results_dir,
            "verifier version": version,
        }


@dataclass(frozen=True)
class ReviewPlan:
    """A system's part of the submission tree, as its review task sees it (``review:<system>``): the folder reviewed
    (its organisation's; only this system's cells in it), what the review reads there (``folders``, ``files``: a
    change to a file under them reviews again), the round, the publish tasks it follows, and its record."""

    system: str
    round: str
    submission_dir: str
    scope: str
    folders: tuple[str, ...]
    files: tuple[str, ...]
    after: tuple[str, ...]  # the publish tasks of the system's cells and submission runs in the tree
    specs_digest: str  # of what its cells' verifications depend on (test and model specs, options)
    record: str

    @property
    def id(self) -> str:
        return self.system

    def parts(self, version: str) -> dict[str, str]:
        """What the review's outcome depends on besides the tree's files (a change reviews again, and is named)."""
        return {"round": self.round, "specs": self.specs_digest, "version": version}


@dataclass
class Plan:
    """All cells and reference runs of the systems, the required tests no cell can cover, and the review of each
    system's part of the tree."""

    specs: Specs
    cells: list[CellPlan] = field(default_factory=list)
    references: list[ReferencePlan] = field(default_factory=list)
    uncovered: list[tuple[Cell, str]] = field(default_factory=list)  # (cell, why it has no tasks)
    reviews: list[ReviewPlan] = field(default_factory=list)
    trees: list[TreePlan] = field(default_factory=list)  # the submission trees the systems write into


@dataclass(frozen=True)
class TreePlan:
    """A submission tree the plan's systems write into, as the checks before upload see it (docs/upload.md): its
    round, its systems (those whose spec turns the performance rules off), the checkouts of mlcommons/inference
    whose chain runs on a copy of it (those its systems name), and where these checks keep their records."""

    submission_dir: str
    round: str
    systems: tuple[str, ...]
    no_performance_rules: tuple[str, ...]
    checkouts: tuple[str, ...]
    files: layout.TreeFiles

    @property
    def id(self) -> str:
        return self.submission_dir

    def parts(self, version: str) -> dict[str, str]:
        """What the pre-flight's outcome depends on besides the tree's files (its freshness)."""
        return {
            "round": self.round,
            "systems": ",".join(self.systems),
            "no performance rules": ",".join(self.no_performance_rules),
            "version": version,
        }


def _command(
    template: str, run: BenchmarkRun, system: System, scenario: str, test: str, mode: str, output_dir: str, workdir: str
) -> str:
    values = {
        "python": sys.executable,
        "system": system.name,
        "benchmark": run.benchmark,
        "scenario": scenario,
        "loadgen_scenario": loadgen_scenario(scenario),
        "test": test,
        "log_dir": os.path.abspath(output_dir),
        "workdir": os.path.abspath(workdir),
        # where the run's audit.config is staged (a submission run finds none there): for a harness that takes
        # --audit_conf PATH (several reference ones default to audit.conf; docs/harnesses.md)
        "audit_config": os.path.join(os.path.abspath(workdir), AUDIT_CONFIG),
    }
    # each value quoted for its place in the template (compliance.specs.quoting: bare, '...' or "..."); the mode's
    # word for this harness is inserted as the spec writes it (a flag, or nothing)
    return quoting.render(template, {**values, "mode": run.modes.get(mode, mode)})


def _run_plan(
    label: str,
    template: str,
    run: BenchmarkRun,
    system: System,
    scenario: str,
    test: str,
    mode: str,
    files: RunFiles,
    isolated_workdir: str,
    audit_text: str | None,
) -> RunPlan:
    workdir = (
        isolated_workdir if run.isolated else layout.system_folder(run.workdir, system.name, run.benchmark, scenario)
    )
    harness_logs = None
    if "{log_dir}" not in template:
        relative = (
            layout.system_folder(run.log_dir, system.name, run.benchmark, scenario, test=test, mode=mode)
            if run.log_dir
            else "."
        )
        harness_logs = norm(workdir, relative)
    inputs = tuple(norm(layout.system_folder(p, system.name, run.benchmark, scenario)) for p in run.inputs)
    return RunPlan(
        label,
        system.name,
        _command(template, run, system, scenario, test, mode, files.logs, workdir),
        norm(workdir),
        files,
        harness_logs,
        dict(run.env),
        run.timeout,
        audit_text,
        run.isolated,
        run.launcher,
        inputs,
    )


def load_specs(folder: str | os.PathLike[str] | None) -> Specs:
    """The specs of the project's ``folder`` (None: the packaged ones alone) over the packaged rounds, models and
    tests, checked against the tests this tool verifies (raises SpecError)."""
    return loader.load_specs(
        folder,
        verified=registry.names(),
        compares=[v.name for v in registry.all_verifiers() if v.reference_runs],
        harness_checks={v.name: v.harness_check for v in registry.all_verifiers() if v.harness_check is not None},
        packaged=loader.packaged_specs(),
    )


def build_plan(specs: Specs, systems: list[str] | None = None) -> Plan:
    """The plan for ``systems`` (all by default), in sorted order.

    Raises:
        UnknownName: a system in ``systems`` has no spec.
    """
    for name in systems or ():
        if name not in specs.systems:
            raise UnknownName(
                f"unknown system '{name}'{did_you_mean(name, specs.systems)}; known: {', '.join(sorted(specs.systems))}"
            )
    plan = Plan(specs)
    for system in sorted(specs.systems.values(), key=lambda s: s.name):
        if systems is not None and system.name not in systems:
            continue
        for name in sorted(system.benchmarks):
            run = system.benchmarks[name]
            for scenario in sorted(run.scenarios):
                _scenario(plan, specs, system, run, scenario)
        review = _review(plan, specs, system)
        if review is not None:
            plan.reviews.append(review)
    plan.trees = _trees(specs, [s for s in specs.systems.values() if systems is None or s.name in systems])
    return plan


def _trees(specs: Specs, systems: list[System]) -> list[TreePlan]:
    """One per submission tree: the systems writing into it."""
    found: dict[str, list[System]] = {}
    for system in sorted(systems, key=lambda s: s.name):
        found.setdefault(system.submission_dir, []).append(system)
    return [
        TreePlan(
            tree,
            group[0].round,
            tuple(s.name for s in group),
            tuple(s.name for s in group if not s.upload.performance_rules),
            tuple(sorted({s.upload.official_checkout for s in group if s.upload.official_checkout})),
            layout.tree_files(tree),
        )
        for tree, group in sorted(found.items())
    ]


def _review(plan: Plan, specs: Specs, system: System) -> ReviewPlan | None:
    """The review of what the system put into the tree (None when it puts nothing there)."""
    cells = [cp for cp in plan.cells if cp.cell.system == system.name]
    runs = [ref for ref in plan.references if ref.system == system.name and ref.tree_dir is not None]
    if not cells and not runs:
        return None
    parts = sorted((cp.cell.id, cp.verify_parts("")) for cp in cells)
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
    return ReviewPlan(
        system.name,
        system.round,
        system.submission_dir,
        layout.tree_org_dir(system),
        layout.tree_system_dirs(specs.rounds[system.round], system),
        layout.tree_system_files(system),
        tuple(f"publish:{cp.cell.id}" for cp in cells) + tuple(f"publish:{ref.id}" for ref in runs),
        digest,
        layout.review_record(system.name),
    )


def _scenario(plan: Plan, specs: Specs, system: System, run: BenchmarkRun, scenario: str) -> None:
    rnd = specs.rounds[system.round]
    name = run.benchmark
    verifiers = [registry.get(t) for t in rnd.tests_for(name) if specs.tests[t].verifier]
    # The submission runs the required tests compare with (TEST06 needs none); both when they are published
    modes = [m for m in layout.RESULT_RUNS if run.publish_reference or any(m in v.reference_runs for v in verifiers)]
    produced: dict[str, ReferencePlan] = {}
    if run.produces_reference:
        results_dir = layout.produced_results_dir(system.name, name, scenario)
        for mode in modes:
            files = layout.reference_run_files(system.name, name, scenario, mode)
            workdir = layout.reference_isolated_workdir(system.name, name, scenario, mode)
            produced[mode] = ReferencePlan(
                system.name,
                name,
                scenario,
                mode,
                _run_plan(
                    f"{system.name}/{name}/{scenario}/{mode}",
                    run.reference_command or run.command,
                    run,
                    system,
                    scenario,
                    "",
                    mode,
                    files,
                    workdir,
                    None,
                ),
                layout.tree_run_dir(rnd, system, name, scenario, mode) if run.publish_reference else None,
                norm(system.submission_dir),
                layout.reference_publish_record(system.name, name, scenario, mode),
            )
        plan.references += produced.values()
    else:
        results_dir = norm(layout.system_folder(run.results or "", system.name, name, scenario))
    for test_name in rnd.tests_for(name):
        cell = Cell(system.name, name, scenario, test_name)
        test = specs.tests[test_name]
        if system.division == "open":
            plan.uncovered.append((cell, "open division: compliance tests are not required"))
        elif not test.verifier:
            plan.uncovered.append((cell, f"{test_name} is not verified by this tool"))
        else:
            plan.cells.append(_cell_plan(specs, system, run, specs.models[name], test, cell, results_dir, produced))


def _cell_plan(
    specs: Specs,
    system: System,
    run: BenchmarkRun,
    model: Model,
    test: TestSpec,
    cell: Cell,
    results_dir: str,
    produced: dict[str, ReferencePlan],
) -> CellPlan:
    files = layout.cell_files(*[getattr(cell, f) for f in ("system", "benchmark", "scenario", "test")])
    # the system's audit_overrides, as deviations the audit.config, the verification and the summary tell
    test = with_overrides(test, model, cell.scenario, run.overrides_for(test.name, cell.scenario))
    audit = render(test, model, cell.scenario, cell=cell.id)
    compliance = _run_plan(
        cell.id,
        run.command,
        run,
        system,
        cell.scenario,
        cell.test,
        "performance",
        files.run,
        files.isolated_workdir,
        audit,
    )
    verifier = registry.get(cell.test)
    reference_files = tuple(layout.reference_log(results_dir, mode) for mode in verifier.reference_runs)
    tree_dir = layout.tree_test_dir(specs.rounds[system.round], system, cell.benchmark, cell.scenario, cell.test)
    # the harness facts the test's verifier takes as options, where the system spec overrides the model's defaults
    given: dict[str, Any] = {"strict": system.strict_accuracy, **verifier.harness_options(run)}
    if run.accuracy_command is not None:  # run like the benchmark command: its environment and timeout
        given.update(accuracy_command=run.accuracy_command, accuracy_env=dict(run.env), accuracy_timeout_s=run.timeout)
    options = verifier.resolve(test, model, given)
    references = tuple(produced[mode] for mode in verifier.reference_runs if mode in produced)
    return CellPlan(
        cell,
        compliance,
        files,
        results_dir,
        reference_files,
        tree_dir,
        norm(system.submission_dir),
        test,
        model,
        verifier,
        options,
        references,
        run.attempts if run.attempts is not None else test.attempts,
        run.attempt_pause if run.attempt_pause is not None else test.attempt_pause,
    )
