"""Typed spec objects: what the loader returns and everything after it uses (no YAML past the loader).

Defaults are not repeated here: the schemas declare them (``default``) and the loader fills them in, so every
field is set from the spec or its schema.

Vocabulary: a *round* (v5.0, v6.0, ...) lists its *benchmarks* (models, by the submission checker's names) and
the compliance *tests* each requires; a *system* is one of the user's machines and says how it runs each
benchmark in each *scenario*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.errors import Problem

Number = int | float

#: Submission scenarios. Interactive is a submission scenario that LoadGen runs as Server (docs/rules.md §0).
SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline", "Interactive")
LOADGEN_SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")


def loadgen_scenario(scenario: str) -> str:
    """The scenario name LoadGen uses (and audit.config keys use) for a submission scenario."""
    return "Server" if scenario == "Interactive" else scenario


#: The system types of the checker's scenario tables (a systems/<system>.json's system_type).
SYSTEM_TYPES = ("datacenter", "edge", "datacenter,edge")


@dataclass(frozen=True)
class Seeds:
    """The LoadGen seeds of a round (every run of the round must use them; they tell a log's round)."""

    qsl: int
    sample_index: int
    schedule: int


@dataclass(frozen=True)
class ScenarioSet:
    """The scenarios a system of one type must (``required``) and may (``optional``) submit for a benchmark."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class PerformanceRules:
    """The checker's performance rules of a round (every performance run, TEST01 and TEST04 runs included), as the
    checker at the round's commit states them (specs/rounds/*.yaml ``performance_rules``; docs/rounds.md)."""

    commit: str  # the mlcommons/inference commit they are read from: the last before the round's deadline
    min_duration_ms: int
    min_queries: dict[str, dict[str, int]] = field(default_factory=dict)  # benchmark -> scenario -> count
    offline_min_samples_per_query: dict[str, int] = field(default_factory=dict)  # closed division
    latency_constraints_ns: dict[str, dict[str, int]] = field(default_factory=dict)  # benchmark -> scenario -> ns

    def min_query_count(self, benchmark: str, scenario: str) -> int | None:
        """The least effective_min_query_count of a ``scenario`` run (None: the checker sets none)."""
        return self.min_queries.get(benchmark, {}).get(scenario)


@dataclass(frozen=True)
class KnownDifference:
    """A deliberate difference of a round spec from the checker's tables: where, what the checker says, why."""

    at: tuple[str, ...]  # the path of the fact: (section, benchmark, ...)
    checker: Any  # the checker's value there (None: it has none)
    why: str


@dataclass(frozen=True)
class Round:
    """A round: benchmarks, the tests each requires, and where things go in its submission tree; from the
    checker's tables, the scenarios per system type, dataset sizes, accuracy thresholds, seeds and performance
    rules (absent from a round spec that does not give them)."""

    name: str
    test_dir: str
    results_dir: str
    required: dict[str, tuple[str, ...]]
    description: str
    file: str
    seeds: Seeds | None = None
    scenarios: dict[str, dict[str, ScenarioSet]] = field(default_factory=dict)  # system type -> benchmark -> set
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)  # benchmark -> size, performance_samples, ...
    accuracy: dict[str, dict[str, Any]] = field(default_factory=dict)  # benchmark -> targets, upper_limits, ...
    rules: PerformanceRules | None = None
    known_differences: tuple[KnownDifference, ...] = ()

    def tests_for(self, benchmark: str) -> tuple[str, ...]:
        """The tests the round requires for ``benchmark`` (empty when none or not in the round)."""
        return self.required.get(benchmark, ())

    def allowed_scenarios(self, benchmark: str) -> tuple[str, ...] | None:
        """Every scenario a system of some type may submit ``benchmark`` in (None: the round gives no scenario
        tables, so the model spec's scenarios apply)."""
        if not self.scenarios:
            return None
        found = {
            s
            for table in self.scenarios.values()
            if benchmark in table
            for s in (*table[benchmark].required, *table[benchmark].optional)
        }
        return tuple(s for s in SCENARIOS if s in found)


@dataclass(frozen=True)
class Tokens:
    """How an LLM benchmark encodes its output tokens (TEST06)."""

    eos_token_id: int
    dtype: str


@dataclass(frozen=True)
class Metric:
    """An accuracy metric the submission checker reads from the accuracy script's output (docs/rules.md §2.1)."""

    name: str  # the checker's name: acc, mAP, F1, FID_SCORE, ...
    pattern: str  # re.match on each line; group 1 is the value; the last matching line wins
    delta_percent: float | None  # TEST01 Part III's allowed |1 - baseline/compliance| * 100 (None: not in TEST01)


@dataclass(frozen=True)
class Model:
    """A benchmark, with the facts the compliance tests need about it."""

    name: str
    scenarios: tuple[str, ...]
    aliases: tuple[str, ...]
    audit_params: dict[str, dict[str, Number]]
    dtype: str  # TEST01's element type for the first-element comparison
    tokens: Tokens | None
    description: str
    file: str
    metrics: tuple[Metric, ...] = ()  # TEST07 scores with the first
    test07_samples: int | None = None  # samples of the TEST07 compliance dataset


@dataclass(frozen=True)
class ModelParam:
    """An audit value that comes from the model spec's ``audit_params.<TEST>.<name>``."""

    name: str


@dataclass(frozen=True)
class AuditLayer:
    """Settings applied to some models and LoadGen scenarios (all when ``None``)."""

    settings: tuple[tuple[str, Number | ModelParam], ...]
    models: tuple[str, ...] | None
    scenarios: tuple[str, ...] | None

    def applies(self, model: str, lg_scenario: str) -> bool:
        """Whether this layer applies to ``model`` run in LoadGen scenario ``lg_scenario``."""
        return (self.models is None or model in self.models) and (
            self.scenarios is None or lg_scenario in self.scenarios
        )


@dataclass(frozen=True)
class Thresholds:
    """Pass thresholds of a test (docs/rules.md §2.1-2.3); each verifier reads those of its test."""

    tolerance: float
    relaxed_tolerance: float
    relaxed_latency_ns: dict[str, int]
    strict_accuracy: bool
    latency_speedup_finding: float
    expected_samples: int
    ne_tolerance: float
    min_matched_fraction: float


@dataclass(frozen=True)
class KnownIssue:
    """An official audit setting known to be broken upstream (validate warns where a system meets it)."""

    models: tuple[str, ...]
    scenarios: tuple[str, ...] | None  # submission scenarios (None: all)
    setting: str
    issue: str  # e.g. mlcommons/inference#2493
    effect: str

    def affects(self, model: str, scenario: str) -> bool:
        return model in self.models and (self.scenarios is None or scenario in self.scenarios)


@dataclass(frozen=True)
class AuditDeviation:
    """An audit setting a system sets otherwise than the official audit.config, on purpose (``audit_overrides``)."""

    key: str
    value: Number
    official: Number | None  # None: the official audit.config does not set it

    def describe(self, test: str) -> str:
        official = "does not set it" if self.official is None else f"sets {self.official}"
        return (
            f"{test} audit setting {self.key} = {self.value} deviates from the official audit.config, which "
            f"{official} (audit_overrides of the system spec)"
        )


@dataclass(frozen=True)
class TestSpec:
    """A compliance test: how its audit.config is made and its thresholds (its files: compliance.verify.layout)."""

    __test__ = False  # not a pytest class

    name: str
    title: str
    audit: tuple[AuditLayer, ...]
    thresholds: Thresholds
    comments: tuple[str, ...]
    verifier: bool
    model_fields: tuple[str, ...]
    description: str
    file: str
    attempts: int = 1  # runs a cell may get when it fails by what noise can cause (compliance.verify.result)
    attempt_pause: float = 0.0  # seconds between two attempts
    known_issues: tuple[KnownIssue, ...] = ()
    #: the settings of this cell's audit.config that differ from the official ones (set per cell by the plan)
    deviations: tuple[AuditDeviation, ...] = ()


@dataclass(frozen=True)
class Launcher:
    """How a system's runs are started: a kind from the launcher table, and that kind's settings."""

    kind: str
    settings: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class BenchmarkRun:
    """How a system runs one benchmark. Paths are resolved against the folder holding the specs folder."""

    benchmark: str
    scenarios: tuple[str, ...]
    command: str
    workdir: str
    log_dir: str | None
    env: dict[str, str]
    timeout: float
    results: str | None
    reference_command: str | None
    isolated: bool  # each run in its own fresh folder under build/ (workdir is then unused)
    launcher: Launcher
    modes: dict[str, str] = field(default_factory=dict)  # what {mode} becomes, per mode (default: the mode's word)
    inputs: tuple[str, ...] = ()  # files or globs whose content makes the runs rerun (templates, resolved paths)
    attempts: int | None = None  # the benchmark's, else the system's; None: as the test spec says
    attempt_pause: float | None = None
    # Harness facts (docs/harnesses.md): what the harness writes, and where it differs from the model's defaults
    output_dtype: str | None = None  # the element type of each output (for validate's warnings)
    test01_dtype: str | None = None  # TEST01's comparison type (None: the model's test01.dtype)
    tokens: dict[str, Any] = field(default_factory=dict)  # TEST06: eos_token_id and/or dtype (else the model's)
    publish_reference: bool = False  # copy the produced submission runs into the tree's results layout
    accuracy_command: str | None = None  # scores an accuracy log ({accuracy_log}, {output_file}): TEST07, TEST01
    #: test -> setting -> value (every scenario) or scenario -> {setting -> value}: deviations on purpose
    audit_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def overrides_for(self, test: str, scenario: str) -> dict[str, Number]:
        """The audit settings of ``test`` this benchmark overrides in ``scenario`` (a scenario's own win)."""
        given = self.audit_overrides.get(test, {})
        settings = {k: v for k, v in given.items() if not isinstance(v, dict)}
        return {**settings, **given.get(scenario, {})}

    @property
    def produces_reference(self) -> bool:
        """True when the system produces its own accuracy and performance runs (``reference:``)."""
        return self.reference_command is not None


@dataclass(frozen=True)
class Upload:
    """The checks of a system's tree before upload (docs/upload.md): whether pre-flight applies the checker's
    performance rules to its compliance runs, and the checkout of mlcommons/inference whose truncation and checker
    run on a copy of the tree (None: none)."""

    performance_rules: bool = True
    official_checkout: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any], resolve: Callable[[str], str]) -> Upload:
        """The settings of a system document's ``upload`` (defaults filled), its checkout resolved as a path."""
        checkout = data.get("official_checkout")
        return cls(bool(data.get("performance_rules", True)), resolve(checkout) if checkout else None)


@dataclass(frozen=True)
class System:
    """One of the user's systems."""

    name: str
    round: str
    division: str
    submitter: str
    submission_dir: str
    benchmarks: dict[str, BenchmarkRun]
    description: str
    file: str
    strict_accuracy: bool | None  # None: as the test spec says
    upload: Upload = Upload()


@dataclass(frozen=True, order=True)
class Override:
    """A spec of the project that replaces the packaged one of the same kind and name (the project's wins)."""

    file: str  # the project's file
    kind: str  # round, model or test
    name: str
    packaged: str  # the packaged file it replaces

    def __str__(self) -> str:
        return f"{self.file} overrides the packaged {self.kind} {self.name} ({self.packaged})"


@dataclass(frozen=True)
class Specs:
    """Every spec of a specs folder, validated and cross-checked."""

    root: Path
    rounds: dict[str, Round]
    models: dict[str, Model]
    tests: dict[str, TestSpec]
    systems: dict[str, System]
    warnings: tuple[Problem, ...] = ()  # valid, but probably not what the user meant (validate prints them)
    overrides: tuple[Override, ...] = ()  # the project's rounds, models and tests that replace packaged ones

    def model(self, name: str) -> Model:
        """The model called ``name`` or having it as an alias.

        Raises:
            KeyError: when no model has that name.
        """
        if name in self.models:
            return self.models[name]
        for model in self.models.values():
            if name in model.aliases:
                return model
        raise KeyError(name)
