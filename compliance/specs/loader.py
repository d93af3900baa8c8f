"""Load a project's specs over the packaged ones: read every YAML file, validate it, cross-check references, return
typed objects.

A specs folder holds ``rounds/``, ``models/``, ``tests/`` and ``systems/``, one YAML file per item, each named after
the item (``specs/models/resnet.yaml`` has ``name: resnet``). The package ships the rounds, models and tests
(``compliance.specdata``, the repository's top-level ``specs/``); a project's specs folder holds its systems and may
add rounds, models and tests, or replace a packaged one with a file of the same name: the project's file wins, and
:attr:`~compliance.specs.types.Specs.overrides` names each that differs from the packaged one (validate prints them).

Every problem of every file is collected and raised at once as a :class:`~compliance.errors.SpecError`, in one pass:
a system with schema problems is still cross-checked on the part its schema accepts (rounds, models and tests with
schema problems are set aside, and references to them are not reported again). Nothing may run on invalid specs.

Paths in a system spec are expanded (``~``, ``$VAR``: :mod:`.paths`); relative ones are relative to the folder that
contains the specs folder (the project root for the default ``specs/``).

Layer: the specs layer reads YAML (only it does) and imports :mod:`compliance.errors` only. What it must know of
the layers above (which tests this tool verifies, which launchers exist) is passed in by the caller.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from importlib.resources import files
from pathlib import Path

from compliance.errors import PathPart, Problem, SpecError, did_you_mean
from compliance.specs import launchers, paths, sbatch, schemacheck, templates
from compliance.specs.facts import (
    HarnessCheck,
    benchmark_problems,
    harness_warnings,
    known_issue_warnings,
    known_issues,
    override_problems,
    shared_tree_problems,
)
from compliance.specs.inputs import input_problems
from compliance.specs.rounds import round_fields, round_problems
from compliance.specs.types import (
    AuditLayer,
    BenchmarkRun,
    Metric,
    Model,
    ModelParam,
    Override,
    Round,
    Specs,
    System,
    TestSpec,
    Thresholds,
    Tokens,
    Upload,
    loadgen_scenario,
)
from compliance.specs.yamldoc import YamlDoc, load_yaml

KINDS = {"rounds": "round", "models": "model", "tests": "test", "systems": "system"}
REQUIRED_FOLDERS = ("rounds", "models", "tests")
#: what the package ships (compliance.specdata); systems are always the project's own
PACKAGED_FOLDERS = ("rounds", "models", "tests")

# Names of the templates module, which the layers above still import from here
COMMAND_FIELDS, PATH_FIELDS, LOG_DIR_FIELDS = templates.COMMAND_FIELDS, templates.PATH_FIELDS, templates.LOG_DIR_FIELDS
ACCURACY_FIELDS, template_fields = templates.ACCURACY_FIELDS, templates.template_fields


def packaged_specs() -> Path | None:
    """The folder of the rounds, models and tests the package ships (``compliance.specdata``), or None."""
    try:
        folder = files("compliance.specdata")
    except ModuleNotFoundError:
        return None
    return folder if isinstance(folder, Path) and (folder / "rounds").is_dir() else None


class _Loader:
    def __init__(self, root: Path | None, verified: Collection[str], compares: Collection[str], packaged: Path | None):
        self.root = root if root is not None else (packaged or Path("specs"))
        self.project = root
        # the packaged layer, unless the project's specs folder is that folder (an editable install in a clone)
        same = root is not None and packaged is not None and os.path.realpath(root) == os.path.realpath(packaged)
        self.packaged = None if same else packaged
        self.verified = tuple(sorted(verified))
        self.compares = set(compares)
        self.harness_checks: Mapping[str, HarnessCheck] = {}
        self.base = self.root.parent
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.overrides: list[Override] = []
        self.docs: dict[str, dict[str, YamlDoc]] = {kind: {} for kind in KINDS.values()}
        # Items whose file exists but is invalid: already reported, so references to them are not reported again.
        self.broken: dict[str, set[str]] = {kind: set() for kind in KINDS.values()}
        # kind -> name -> (file, whether it is packaged) of the spec read for it
        self.origin: dict[str, dict[str, tuple[Path, bool]]] = {kind: {} for kind in KINDS.values()}
        # (benchmark, test) -> the rounds that require the test for the benchmark
        self.required_by: dict[tuple[str, str], list[str]] = {}

    # -- reading and schema validation ------------------------------------------------------------------------
    def read_all(self) -> None:
        """Read the packaged rounds, models and tests, then the project's specs folder, whose files win."""
        layers: list[tuple[Path, tuple[str, ...], bool]] = []
        if self.packaged is not None:
            layers.append((self.packaged, PACKAGED_FOLDERS, True))
        if self.project is not None:
            if not self.project.is_dir():
                what = "is not a folder" if self.project.exists() else "does not exist"
                raise SpecError(
                    [
                        Problem(
                            str(self.project),
                            None,
                            "",
                            f"specs folder {what}; pass --specs DIR (or specs=DIR to doit), or start a project with "
                            "'mlperf-compliance init'",
                        )
                    ]
                )
            layers.append((self.project, tuple(KINDS), False))
        for folder, kind in KINDS.items():
            found = False
            for root, folders, packaged in layers:
                if folder in folders:
                    found = self._read_folder(root / folder, kind, packaged) or found
            if not found and folder in REQUIRED_FOLDERS:
                self.problems.append(
                    Problem(str(self.root / folder), None, "", f"missing folder: a specs folder needs {folder}/")
                )

    def _read_folder(self, directory: Path, kind: str, packaged: bool) -> bool:
        """Read every spec file of one folder; False when the folder does not exist."""
        if directory.exists() and not directory.is_dir():
            self.problems.append(
                Problem(str(directory), None, "", f"is not a folder; {directory.name}/ holds one YAML file per {kind}")
            )
            return True
        if not directory.is_dir():
            return False
        try:
            entries = sorted(directory.iterdir())
        except OSError as exc:
            self.problems.append(Problem(str(directory), None, "", f"cannot be read: {exc.strerror or exc}"))
            return True
        for path in entries:
            if path.suffix not in (".yaml", ".yml"):
                continue
            if path.name.startswith("."):
                self.problems.append(
                    Problem(
                        str(path),
                        None,
                        "",
                        f"a hidden spec file is not read; name it after its {kind} ({kind} names start with a letter "
                        "or digit), or move it out of the folder",
                    )
                )
                continue
            self._read(path, kind, packaged)
        return True

    def _replaces_packaged(self, path: Path, kind: str) -> bool:
        """Whether the project's ``path`` takes the place of a packaged spec of the same name (the project's file
        wins; an identical copy replaces it silently, another one is noted as an override)."""
        earlier = self.origin[kind].get(path.stem)
        if earlier is None or not earlier[1]:
            return False
        self.docs[kind].pop(path.stem, None)
        self.broken[kind].discard(path.stem)
        try:
            same = path.read_bytes() == earlier[0].read_bytes()
        except OSError:
            same = False  # reported when the file is read
        if not same:
            self.overrides.append(Override(str(path), kind, path.stem, str(earlier[0])))
        return True

    def _read(self, path: Path, kind: str, packaged: bool) -> None:
        replacing = not packaged and self._replaces_packaged(path, kind)
        other = self.origin[kind].get(path.stem)
        self.origin[kind].setdefault(path.stem, (path, packaged))
        if replacing:
            self.origin[kind][path.stem] = (path, packaged)
        try:
            doc = load_yaml(path, display=str(path))
        except SpecError as exc:
            self.problems.extend(exc.problems)
            self.broken[kind].add(path.stem)
            return
        if kind == "system":
            self.problems += paths.expand_system_paths(doc)
            self.problems += templates.system_template_problems(doc)
            self.problems += sbatch.doc_problems(doc)
        problems = schemacheck.check(doc, kind)
        if problems:
            self.broken[kind].add(path.stem)
            self.problems.extend(problems)
            # A system is the user's own file: its valid part is still cross-checked (every problem in one pass);
            # rounds, models and tests with schema problems are not (references to them are not reported either).
            valid = schemacheck.valid_part(doc.data, kind) if kind == "system" else None
            if valid is None:
                return
            doc = replace(doc, data=valid)
        elif other is not None and not replacing:
            self.problems.append(doc.problem([], f"another {kind} spec is also called '{path.stem}' ({other[0]})"))
            return
        if doc.data.get("name") != path.stem:
            self.problems.append(
                doc.problem(["name"], f"name '{doc.data.get('name')}' must match the file name '{path.stem}'")
            )
            return
        doc.data = schemacheck.apply_defaults(doc.data, kind)
        self.docs[kind][path.stem] = doc

    # -- building typed objects ------------------------------------------------------------------------------
    def _path(self, value: str) -> str:
        return paths.resolve(self.base, value)

    def build(self) -> Specs:
        rounds = {n: self._round(d) for n, d in self.docs["round"].items()}
        models = {n: self._model(d) for n, d in self.docs["model"].items()}
        tests = {n: self._test(d) for n, d in self.docs["test"].items()}
        systems = {n: self._system(d, models) for n, d in self.docs["system"].items()}
        return Specs(self.root, rounds, models, tests, systems)

    def _round(self, doc: YamlDoc) -> Round:
        d = doc.data
        fields, results = templates.TEST_DIR_FIELDS, templates.RESULTS_DIR_FIELDS
        bad = templates.check_template(doc, ["test_dir"], d["test_dir"], fields, fields)
        bad += templates.check_template(doc, ["results_dir"], d["results_dir"], results, results)
        self.problems += bad or templates.layout_problems(doc, d["test_dir"], d["results_dir"])
        required = {b: tuple(tests) for b, tests in d["benchmarks"].items()}
        return Round(
            d["name"], d["test_dir"], d["results_dir"], required, d["description"], doc.file, **round_fields(d)
        )

    def _model(self, doc: YamlDoc) -> Model:
        d = doc.data
        tokens = Tokens(d["tokens"]["eos_token_id"], d["tokens"]["dtype"]) if "tokens" in d else None
        for i, metric in enumerate(d["accuracy_metrics"]):
            try:
                groups = re.compile(metric["regex"]).groups
            except re.error as exc:
                where: list[PathPart] = ["accuracy_metrics", i, "regex"]
                self.problems.append(doc.problem(where, f"not a regular expression: {exc}"))
                continue
            if groups < 1:
                self.problems.append(
                    doc.problem(["accuracy_metrics", i, "regex"], "needs a group: the metric's value is group 1")
                )
        return Model(
            d["name"],
            tuple(d["scenarios"]),
            tuple(d["aliases"]),
            d["audit_params"],
            d["test01"]["dtype"],
            tokens,
            d["description"],
            doc.file,
            tuple(Metric(m["name"], m["regex"], m.get("delta_percent")) for m in d["accuracy_metrics"]),
            d["test07"]["samples"] if "test07" in d else None,
        )

    def _test(self, doc: YamlDoc) -> TestSpec:
        d = doc.data
        layers = []
        for layer in d["audit"]:
            settings = tuple(
                (k, ModelParam(v["model_param"]) if isinstance(v, dict) else v) for k, v in layer["settings"].items()
            )
            models = tuple(layer["models"]) if "models" in layer else None
            scenarios = tuple(layer["scenarios"]) if "scenarios" in layer else None
            layers.append(AuditLayer(settings, models, scenarios))
        thresholds = Thresholds(**d["thresholds"])
        if d["verifier"] and d["name"] not in self.verified:
            where: list[PathPart] = ["verifier"] if ("verifier",) in doc.key_lines else ["name"]
            self.problems.append(
                doc.problem(
                    where,
                    f"this tool has no verifier for {d['name']} (it verifies "
                    f"{', '.join(self.verified)}); set 'verifier: false'",
                )
            )
        return TestSpec(
            d["name"],
            d["title"],
            tuple(layers),
            thresholds,
            tuple(d["comments"]),
            d["verifier"],
            tuple(d["model_fields"]),
            d["description"],
            doc.file,
            d["attempts"],
            float(d["attempt_pause"]),
            known_issues(d["known_issues"]),
        )

    def _system(self, doc: YamlDoc, models: dict[str, Model]) -> System:
        d = doc.data
        aliases = {a: m.name for m in models.values() for a in m.aliases}
        runs: dict[str, BenchmarkRun] = {}
        for key, b in d["benchmarks"].items():
            where: list[PathPart] = ["benchmarks", key]
            name = aliases.get(key, key)
            if name in runs:
                self.problems.append(
                    doc.problem(where, f"benchmark '{name}' is listed twice (as '{key}' too)", key=True)
                )
                continue
            self.problems += benchmark_problems(doc, where, b)
            reference = b.get("reference")
            env = {**d["env"], **b["env"]}
            runs[name] = BenchmarkRun(
                benchmark=name,
                scenarios=tuple(b["scenarios"]),
                command=b["command"],
                workdir=self._path(b.get("workdir", ".")),
                log_dir=b.get("log_dir"),
                env={k: str(v) for k, v in env.items()},
                timeout=float(b.get("timeout", d["timeout"])),
                results=self._path(b["results"]) if "results" in b else None,
                reference_command=(reference or {}).get("command", b["command"]) if reference is not None else None,
                isolated=b["isolated"],
                launcher=launchers.launcher(b.get("launcher", d["launcher"])),
                modes=dict(b["modes"]),
                inputs=tuple(self._path(p) for p in [*d["inputs"], *b["inputs"]]),
                accuracy_command=b.get("accuracy_command"),
                attempts=b.get("attempts", d.get("attempts")),
                attempt_pause=_seconds(b.get("attempt_pause", d.get("attempt_pause"))),
                output_dtype=b.get("output_dtype"),
                test01_dtype=b.get("test01", {}).get("dtype"),
                tokens=dict(b.get("tokens", {})),
                publish_reference=bool((reference or {}).get("publish", False)),
                audit_overrides=dict(b["audit_overrides"]),
            )
        return System(
            d["name"],
            d["round"],
            d["division"],
            d["submitter"],
            self._path(d["submission_dir"]),
            runs,
            d["description"],
            doc.file,
            d.get("strict_accuracy"),
            Upload.of(d["upload"], self._path),
        )

    # -- cross-references ------------------------------------------------------------------------------------
    def cross_check(self, specs: Specs) -> None:
        alias_of = {a: m.name for m in specs.models.values() for a in m.aliases}
        for model in specs.models.values():
            doc = self.docs["model"][model.name]
            for i, alias in enumerate(model.aliases):
                if alias in specs.models or list(alias_of).count(alias) > 1 or alias_of.get(alias) != model.name:
                    self.problems.append(
                        doc.problem(["aliases", i], f"alias '{alias}' is already a name or alias of another model")
                    )
        for test in specs.tests.values():
            doc = self.docs["test"][test.name]
            for i, layer in enumerate(test.audit):
                for j, name in enumerate(layer.models or ()):
                    if name not in specs.models:
                        self.problems.append(
                            doc.problem(
                                ["audit", i, "models", j], f"unknown model '{name}'{did_you_mean(name, specs.models)}"
                            )
                        )
        for rnd in specs.rounds.values():
            self._check_round(rnd, specs, alias_of)
        self.problems += round_problems(specs, self.docs["round"], self.docs["model"])
        for (benchmark, test_name), rounds in sorted(self.required_by.items()):
            self._check_model_for_test(specs.models[benchmark], specs.tests[test_name], rounds)
        for system in specs.systems.values():
            self._check_system(system, specs)
        self.problems += shared_tree_problems(specs, self.docs["system"])
        self.problems += paths.shared_folder_problems(specs, self.docs["system"])

    def _check_round(self, rnd: Round, specs: Specs, alias_of: dict[str, str]) -> None:
        doc = self.docs["round"][rnd.name]
        for benchmark, tests in rnd.required.items():
            where: list[PathPart] = ["benchmarks", benchmark]
            if benchmark not in specs.models:
                if benchmark in self.broken["model"]:
                    continue
                hint = (
                    f"; rounds use the checker's name '{alias_of[benchmark]}'"
                    if benchmark in alias_of
                    else did_you_mean(benchmark, specs.models) + f"; add specs/models/{benchmark}.yaml if it is new"
                )
                self.problems.append(doc.problem(where, f"unknown benchmark '{benchmark}'{hint}", key=True))
                continue
            for i, test_name in enumerate(tests):
                if test_name in specs.tests:
                    self.required_by.setdefault((benchmark, test_name), []).append(rnd.name)
                elif test_name not in self.broken["test"]:
                    self.problems.append(
                        doc.problem(where + [i], f"unknown test '{test_name}'{did_you_mean(test_name, specs.tests)}")
                    )

    def _check_model_for_test(self, model: Model, test: TestSpec, rounds: list[str]) -> None:
        doc = self.docs["model"][model.name]
        several = len(rounds) > 1
        why = (
            f"round{'s' if several else ''} {', '.join(rounds)} require{'' if several else 's'} {test.name} "
            f"for {model.name}"
        )
        if "tokens" in test.model_fields and model.tokens is None:
            self.problems.append(doc.problem([], f"{why}, which needs 'tokens: {{eos_token_id: N, dtype: int32}}'"))
        params = model.audit_params.get(test.name, {})
        missing = sorted(
            {
                value.name
                for layer in test.audit
                if layer.models is None or model.name in layer.models
                for _, value in layer.settings
                if isinstance(value, ModelParam) and value.name not in params
            }
        )
        for name in missing:
            self.problems.append(
                doc.problem(["audit_params"], f"{why}, whose audit.config needs audit_params.{test.name}.{name}")
            )

    def _check_system(self, system: System, specs: Specs) -> None:
        doc = self.docs["system"][system.name]
        rnd = specs.rounds.get(system.round)
        if rnd is None and system.round in self.broken["round"]:
            return
        if rnd is None:
            self.problems.append(
                doc.problem(
                    ["round"],
                    f"unknown round '{system.round}'{did_you_mean(system.round, specs.rounds)}; "
                    f"known: {', '.join(sorted(specs.rounds))}",
                )
            )
            return
        keys = {specs.model(k).name if _known(specs, k) else k: k for k in doc.data["benchmarks"]}
        self.problems += paths.place_problems(doc, system, {name: key for name, key in keys.items()}, self.root)
        for name, run in system.benchmarks.items():
            where: list[PathPart] = ["benchmarks", keys.get(name, name)]
            if name not in rnd.required:
                self.problems.append(
                    doc.problem(
                        where,
                        f"benchmark '{name}' is not in round {rnd.name}{did_you_mean(name, rnd.required)}",
                        key=True,
                    )
                )
                continue
            if name not in specs.models:
                continue  # the round names a model whose spec is broken or missing: reported with the round
            model = specs.models[name]
            allowed = rnd.allowed_scenarios(name)  # the round's tables (the checker's), else the model's scenarios
            for i, scenario in enumerate(run.scenarios):
                if scenario not in (model.scenarios if allowed is None else allowed):
                    self.problems.append(
                        doc.problem(
                            where + ["scenarios", i],
                            f"{name} has no scenario '{scenario}'; it has {list(model.scenarios)}"
                            if allowed is None
                            else f"round {rnd.name} has no scenario '{scenario}' for {name}; it has {list(allowed)}",
                        )
                    )
            if run.results is not None:
                self._check_results(doc, where, run)
            refused, warned = input_problems(doc, where, run, self.problems)
            self.problems, self.warnings = self.problems + refused, self.warnings + warned
            self.warnings += harness_warnings(doc, where, run, model, rnd.tests_for(name), self.harness_checks)
            self.problems += override_problems(doc, where, run, rnd.name, rnd.tests_for(name))
            self.warnings += known_issue_warnings(doc, where, run, specs, rnd.tests_for(name))
            needing = sorted(t for t in rnd.tests_for(name) if t in self.compares)
            if needing and run.results is None and not run.produces_reference and system.division != "open":
                self.problems.append(
                    doc.problem(
                        where,
                        f"{', '.join(needing)} compare{'s' if len(needing) == 1 else ''} "
                        "with the submission's own runs: give 'results' (where they are) "
                        "or 'reference: {}' (produce them)",
                    )
                )

    def _check_results(self, doc: YamlDoc, where: list, run: BenchmarkRun) -> None:
        assert run.results is not None
        for scenario in run.scenarios:
            try:
                folder = run.results.format(
                    system=doc.data["name"],
                    benchmark=run.benchmark,
                    scenario=scenario,
                    loadgen_scenario=loadgen_scenario(scenario),
                )
            except (KeyError, ValueError, IndexError):
                return  # already reported as a bad template
            if not os.path.isdir(folder):
                self.problems.append(
                    doc.problem(where + ["results"], f"results folder '{folder}' ({scenario}) does not exist")
                )


def _seconds(value: float | None) -> float | None:
    return None if value is None else float(value)


def _known(specs: Specs, name: str) -> bool:
    try:
        specs.model(name)
    except KeyError:
        return False
    return True


def load_specs(
    root: str | os.PathLike[str] | None,
    *,
    verified: Collection[str],
    compares: Collection[str] = (),
    packaged: Path | None = None,
    harness_checks: Mapping[str, HarnessCheck] | None = None,
) -> Specs:
    """Load, validate and cross-check every spec of a project and of the package.

    The rounds, models and tests come from ``packaged`` (the package's, :func:`packaged_specs`); the project's
    specs folder adds its own and may replace a packaged one by a file of the same name (the project's wins, and
    :attr:`Specs.overrides` says so); systems are the project's only.

    Args:
        root: the project's specs folder; None for the packaged specs alone (no systems).
        verified: the tests this tool has a verifier for (the verifier registry's names); a test spec that does not
            say ``verifier: false`` must be one of them.
        compares: the tests whose verifier compares with the submission's own runs: a benchmark of a round that
            requires one must say where they are (``results``) or that the system produces them (``reference``).
        packaged: the folder of the packaged rounds, models and tests (None: the project's specs alone).
        harness_checks: by test, how its verifier reads a benchmark's harness facts (warnings where they disagree).

    Raises:
        SpecError: with every problem found, each naming its file, line and JSON path.
    """
    loader = _Loader(None if root is None else Path(root), verified, compares, packaged)
    loader.harness_checks = harness_checks or {}
    try:
        loader.read_all()
    except SpecError as exc:
        raise SpecError(exc.problems, str(loader.root)) from None
    specs = loader.build()
    loader.cross_check(specs)
    if loader.problems:
        raise SpecError(loader.problems, str(loader.root))
    return replace(specs, warnings=tuple(sorted(set(loader.warnings))), overrides=tuple(sorted(loader.overrides)))
