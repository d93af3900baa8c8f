"""Load a specs folder: read every YAML file, validate it, cross-check references, return typed objects.

A specs folder holds ``rounds/``, ``models/``, ``tests/`` and ``systems/``, one YAML file per item, each named after
the item (``specs/models/resnet.yaml`` has ``name: resnet``). Every problem of every file is collected and raised
at once as a :class:`~compliance.errors.SpecError`; nothing may run on invalid specs.

Relative paths in a system spec are relative to the folder that contains the specs folder (the project root for
the default ``specs/``).

Layer: the specs layer reads YAML (only it does) and imports :mod:`compliance.errors` only. What it must know of
the layers above (which tests this tool verifies, which launchers exist) is passed in by the caller.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

from compliance.errors import PathPart, Problem, SpecError, did_you_mean
from compliance.specs import quoting, sbatch, schemacheck
from compliance.specs.facts import harness_warnings, shared_tree_problems
from compliance.specs.types import (
    AuditLayer,
    BenchmarkRun,
    Launcher,
    Metric,
    Model,
    ModelParam,
    Round,
    Specs,
    System,
    TestSpec,
    Thresholds,
    Tokens,
    loadgen_scenario,
)
from compliance.specs.yamldoc import YamlDoc, load_yaml

KINDS = {"rounds": "round", "models": "model", "tests": "test", "systems": "system"}
REQUIRED_FOLDERS = ("rounds", "models", "tests")

#: Placeholders each template may use.
COMMAND_FIELDS = ("python", "system", "benchmark", "scenario", "loadgen_scenario", "test", "mode", "log_dir", "workdir")
PATH_FIELDS = ("system", "benchmark", "scenario", "loadgen_scenario")
LOG_DIR_FIELDS = PATH_FIELDS + ("test", "mode")
#: Placeholders of an accuracy command (compliance.verify.scoring).
ACCURACY_FIELDS = ("python", "benchmark", "scenario", "test", "accuracy_log", "output_file")
TEST_DIR_FIELDS = ("division", "submitter", "system", "benchmark", "scenario", "test")
RESULTS_DIR_FIELDS = TEST_DIR_FIELDS[:-1]


def template_fields(template: str) -> tuple[list[str], list[str]]:
    """The placeholder names of a ``str.format`` template, and what is wrong with it (empty when nothing)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        return [], [f"{exc} (write '{{{{' and '}}}}' for literal braces)"]
    names, errors = [], []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            literal = (
                "" if name.isidentifier() else " (for literal braces, as in awk '{{print $1}}', write '{{' and '}}')"
            )
            errors.append(f"placeholder '{{{shown}}}' must be a plain name like {{scenario}}{literal}")
        else:
            names.append(name)
    return names, errors


def _check_template(
    doc: YamlDoc, path: list, template: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> list[Problem]:
    names, errors = template_fields(template)
    problems = [doc.problem(path, error) for error in errors]
    command = allowed in (COMMAND_FIELDS, ACCURACY_FIELDS)  # a shell command: braces may be the shell's
    problems += [
        doc.problem(
            path,
            f"unknown placeholder '{{{n}}}'{did_you_mean(n, allowed)}; "
            f"known: {', '.join('{' + a + '}' for a in allowed)}"
            + (
                f" (for the shell's own braces, as in ${{{{{n}}}}}, write '{{{{' and '}}}}')"
                if command and not did_you_mean(n, allowed)
                else ""
            ),
        )
        for n in names
        if n not in allowed
    ]
    if not problems and command:  # each value is quoted for its place: refuse a place where that cannot be told
        problems += [doc.problem(path, message) for message in quoting.unquotable(template)]
    if not errors:
        problems += [doc.problem(path, f"must contain the placeholder '{{{r}}}'") for r in required if r not in names]
    return problems


class _Loader:
    def __init__(self, root: Path, verified: Collection[str], compares: Collection[str]):
        self.root = root
        self.verified = tuple(sorted(verified))
        self.compares = set(compares)
        self.base = root.parent
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.docs: dict[str, dict[str, YamlDoc]] = {kind: {} for kind in KINDS.values()}
        # Items whose file exists but is invalid: already reported, so references to them are not reported again.
        self.broken: dict[str, set[str]] = {kind: set() for kind in KINDS.values()}
        # (benchmark, test) -> the rounds that require the test for the benchmark
        self.required_by: dict[tuple[str, str], list[str]] = {}

    # -- reading and schema validation ------------------------------------------------------------------------
    def read_all(self) -> None:
        if not self.root.is_dir():
            what = "is not a folder" if self.root.exists() else "does not exist"
            raise SpecError(
                [Problem(str(self.root), None, "", f"specs folder {what}; pass --specs DIR (or specs=DIR to doit)")]
            )
        for folder, kind in KINDS.items():
            directory = self.root / folder
            if directory.exists() and not directory.is_dir():
                self.problems.append(
                    Problem(str(directory), None, "", f"is not a folder; {folder}/ holds one YAML file per {kind}")
                )
                continue
            if not directory.is_dir():
                if folder in REQUIRED_FOLDERS:
                    self.problems.append(
                        Problem(str(directory), None, "", f"missing folder: a specs folder needs {folder}/")
                    )
                continue
            try:
                entries = sorted(directory.iterdir())
            except OSError as exc:
                self.problems.append(Problem(str(directory), None, "", f"cannot be read: {exc.strerror or exc}"))
                continue
            for path in entries:
                if path.suffix not in (".yaml", ".yml"):
                    continue
                if path.name.startswith("."):
                    self.problems.append(
                        Problem(
                            str(path),
                            None,
                            "",
                            "a hidden spec file is not read; name it after "
                            f"its {kind} ({kind} names start with a letter "
                            "or digit), or move it out of the folder",
                        )
                    )
                    continue
                self._read(path, kind)

    def _read(self, path: Path, kind: str) -> None:
        try:
            doc = load_yaml(path, display=str(path))
        except SpecError as exc:
            self.problems.extend(exc.problems)
            self.broken[kind].add(path.stem)
            return
        problems = schemacheck.check(doc, kind) + (sbatch.doc_problems(doc) if kind == "system" else [])
        if not problems and doc.data.get("name") != path.stem:
            problems.append(
                doc.problem(["name"], f"name '{doc.data.get('name')}' must match the file name '{path.stem}'")
            )
        if not problems and path.stem in self.docs[kind]:
            problems.append(
                doc.problem([], f"another {kind} spec is also called '{path.stem}' ({self.docs[kind][path.stem].file})")
            )
        self.problems.extend(problems)
        if problems:
            self.broken[kind].add(path.stem)
        else:
            doc.data = schemacheck.apply_defaults(doc.data, kind)
            self.docs[kind][path.stem] = doc

    # -- building typed objects ------------------------------------------------------------------------------
    def _path(self, value: str) -> str:
        return os.path.normpath(self.base / value) if not os.path.isabs(value) else os.path.normpath(value)

    def build(self) -> Specs:
        rounds = {n: self._round(d) for n, d in self.docs["round"].items()}
        models = {n: self._model(d) for n, d in self.docs["model"].items()}
        tests = {n: self._test(d) for n, d in self.docs["test"].items()}
        systems = {n: self._system(d, models) for n, d in self.docs["system"].items()}
        return Specs(self.root, rounds, models, tests, systems)

    def _round(self, doc: YamlDoc) -> Round:
        d = doc.data
        templates = _check_template(
            doc, ["test_dir"], d["test_dir"], TEST_DIR_FIELDS, TEST_DIR_FIELDS
        ) + _check_template(doc, ["results_dir"], d["results_dir"], RESULTS_DIR_FIELDS, RESULTS_DIR_FIELDS)
        self.problems += templates or _layout_problems(doc, d["test_dir"], d["results_dir"])
        required = {b: tuple(tests) for b, tests in d["benchmarks"].items()}
        return Round(d["name"], d["test_dir"], d["results_dir"], required, d["description"], doc.file)

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
            self.problems += _check_template(doc, where + ["command"], b["command"], COMMAND_FIELDS)
            if "workdir" in b:
                self.problems += _check_template(doc, where + ["workdir"], b["workdir"], PATH_FIELDS)
            if ("workdir" in b) == bool(b.get("isolated")):
                self.problems.append(
                    doc.problem(
                        where,
                        "give either 'workdir' (where the command runs) or "
                        "'isolated: true' (a fresh folder per run), not both or neither",
                    )
                )
            for field_name, allowed in (("log_dir", LOG_DIR_FIELDS), ("results", PATH_FIELDS)):
                if field_name in b:
                    self.problems += _check_template(doc, where + [field_name], b[field_name], allowed)
            if "accuracy_command" in b:
                self.problems += _check_template(
                    doc, where + ["accuracy_command"], b["accuracy_command"], ACCURACY_FIELDS, ("accuracy_log",)
                )
            reference = b.get("reference")
            if reference is not None and "command" in reference:
                self.problems += _check_template(
                    doc, where + ["reference", "command"], reference["command"], COMMAND_FIELDS
                )
            if "results" in b and reference is not None:
                self.problems.append(
                    doc.problem(
                        where,
                        "give either 'results' (where the submission's accuracy and "
                        "performance runs are) or 'reference' (produce them), not both",
                    )
                )
            for i, pattern in enumerate([*d["inputs"], *b["inputs"]]):
                source = ["inputs", i] if i < len(d["inputs"]) else where + ["inputs", i - len(d["inputs"])]
                self.problems += _check_template(doc, source, pattern, PATH_FIELDS)
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
                launcher=_launcher(b.get("launcher", d["launcher"])),
                modes=dict(b["modes"]),
                inputs=tuple(self._path(p) for p in [*d["inputs"], *b["inputs"]]),
                accuracy_command=b.get("accuracy_command"),
                attempts=b.get("attempts", d.get("attempts")),
                attempt_pause=_seconds(b.get("attempt_pause", d.get("attempt_pause"))),
                output_dtype=b.get("output_dtype"),
                test01_dtype=b.get("test01", {}).get("dtype"),
                tokens=dict(b.get("tokens", {})),
                publish_reference=bool((reference or {}).get("publish", False)),
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
        for (benchmark, test_name), rounds in sorted(self.required_by.items()):
            self._check_model_for_test(specs.models[benchmark], specs.tests[test_name], rounds)
        for system in specs.systems.values():
            self._check_system(system, specs)
        self.problems += shared_tree_problems(specs, self.docs["system"])

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
        self._check_places(doc, system, {key: name for name, key in keys.items()})
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
            for i, scenario in enumerate(run.scenarios):
                if scenario not in model.scenarios:
                    self.problems.append(
                        doc.problem(
                            where + ["scenarios", i],
                            f"{name} has no scenario '{scenario}'; it has {list(model.scenarios)}",
                        )
                    )
            if run.results is not None:
                self._check_results(doc, where, run)
            self.warnings += harness_warnings(doc, where, run, model, rnd.tests_for(name))
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

    def _check_places(self, doc: YamlDoc, system: System, names: dict[str, str]) -> None:
        """The folders the tool writes in may not be /, the specs folder, or inside one another in harmful ways."""
        specs_root = os.path.realpath(self.root)

        def within(path: str, root: str) -> bool:
            real, top = os.path.realpath(path), os.path.realpath(root)
            return real == top or real.startswith(top.rstrip(os.sep) + os.sep)

        submission = system.submission_dir
        if os.path.realpath(submission) == os.sep:
            self.problems.append(doc.problem(["submission_dir"], "the submission folder may not be /"))
        elif within(submission, specs_root):
            self.problems.append(doc.problem(["submission_dir"], f"'{submission}' is inside the specs folder"))
        elif within(specs_root, submission):
            self.problems.append(doc.problem(["submission_dir"], f"'{submission}' holds the specs folder"))
        for key, run in doc.data["benchmarks"].items():
            if "workdir" not in run:
                continue
            where: list[PathPart] = ["benchmarks", key, "workdir"]
            bench = system.benchmarks.get(names.get(key, key))
            if bench is None:
                continue
            for scenario in bench.scenarios:
                try:
                    folder = self._path(
                        run["workdir"].format(
                            system=system.name,
                            benchmark=bench.benchmark,
                            scenario=scenario,
                            loadgen_scenario=loadgen_scenario(scenario),
                        )
                    )
                except (KeyError, ValueError, IndexError, AttributeError):
                    break  # a bad template: reported with the template
                if os.path.realpath(folder) == os.sep:
                    self.problems.append(doc.problem(where, "a working directory may not be /"))
                elif within(folder, specs_root):
                    self.problems.append(doc.problem(where, f"'{folder}' is inside the specs folder"))
                elif within(folder, submission):
                    self.problems.append(doc.problem(where, f"'{folder}' is inside the submission folder"))
                else:
                    continue
                break

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


def _layout_problems(doc: YamlDoc, test_dir: str, results_dir: str) -> list[Problem]:
    """Containment of a round's layout: both templates stay inside the submission folder (relative, no '..'), a TEST
    folder is a folder of its own named after the test, and it never is, holds or sits in a run folder of the
    results (a TEST folder is replaced whole: anything it covered would be lost)."""
    problems = []
    for key, template in (("test_dir", test_dir), ("results_dir", results_dir)):
        parts = template.replace("\\", "/").split("/")
        if template.startswith("/") or ".." in parts or "." in parts or "" in parts[:-1]:
            problems.append(
                doc.problem(
                    [key],
                    f"'{template}' must be a relative path inside the submission folder, "
                    "without '.', '..' or empty parts",
                )
            )
    if problems:
        return problems
    if test_dir.rsplit("/", 1)[-1] != "{test}":
        problems.append(
            doc.problem(
                ["test_dir"],
                f"'{test_dir}' must end with '/{{test}}': a TEST folder is a folder of its own, named after the test",
            )
        )
    sample = {"division": "d", "submitter": "s", "system": "y", "benchmark": "b", "scenario": "c"}
    try:
        tests = os.path.normpath(test_dir.format(**sample, test="TEST01"))
        results = os.path.normpath(results_dir.format(**sample))
    except (KeyError, ValueError, IndexError):
        return problems  # a bad template: reported by _check_template
    runs = [os.path.join(results, "accuracy"), os.path.join(results, "performance")]
    if (
        tests == results
        or results.startswith(tests + os.sep)
        or any(tests == r or tests.startswith(r + os.sep) for r in runs)
    ):
        problems.append(
            doc.problem(
                ["test_dir"],
                f"'{test_dir}' puts TEST folders on the results of '{results_dir}' (they would replace them)",
            )
        )
    return problems


def _seconds(value: float | None) -> float | None:
    return None if value is None else float(value)


def _launcher(data: dict[str, Any]) -> Launcher:
    """The launcher of a valid spec, with the defaults its kind declares filled in (lists become tuples)."""
    settings = {**launcher_defaults(data["kind"]), **data}
    return Launcher(
        data["kind"],
        tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in settings.items() if k != "kind")),
    )


def launcher_defaults(kind: str) -> dict[str, Any]:
    """The defaults of a launcher kind's settings: the schema declares them in the kind's own branch
    (``$defs.launcher.allOf``: if kind is K then these keys), which the generic default filling does not enter."""
    for branch in schemacheck.schema("system")["$defs"]["launcher"].get("allOf", ()):
        if branch["if"]["properties"]["kind"].get("const") == kind:
            return {
                key: sub["default"]
                for key, sub in branch["then"]["properties"].items()
                if isinstance(sub, dict) and "default" in sub
            }
    return {}


def _known(specs: Specs, name: str) -> bool:
    try:
        specs.model(name)
    except KeyError:
        return False
    return True


def load_specs(root: str | os.PathLike[str], *, verified: Collection[str], compares: Collection[str] = ()) -> Specs:
    """Load, validate and cross-check every spec under ``root``.

    Args:
        root: the specs folder.
        verified: the tests this tool has a verifier for (the verifier registry's names); a test spec that does not
            say ``verifier: false`` must be one of them.
        compares: the tests whose verifier compares with the submission's own runs: a benchmark of a round that
            requires one must say where they are (``results``) or that the system produces them (``reference``).

    Raises:
        SpecError: with every problem found, each naming its file, line and JSON path.
    """
    loader = _Loader(Path(root), verified, compares)
    try:
        loader.read_all()
    except SpecError as exc:
        raise SpecError(exc.problems, str(root)) from None
    specs = loader.build()
    loader.cross_check(specs)
    if loader.problems:
        raise SpecError(loader.problems, str(root))
    return replace(specs, warnings=tuple(sorted(set(loader.warnings))))
