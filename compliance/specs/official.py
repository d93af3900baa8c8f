"""Read the official tables of a checkout of mlcommons/inference without running any of its code.

The submission checker keeps its round data as Python literals: ``MODEL_CONFIG`` (per round: models, required and
optional scenarios per system type, dataset sizes, accuracy targets, seeds, minimum query counts, latency
constraints, the models of each compliance test) and module-level constants (``TEST_DURATION_MS``,
``OFFLINE_MIN_SPQ_SINCE_V4``, ``ACC_PATTERN``). They are read with :mod:`ast`: only literals and arithmetic on
numbers (``76.46 * 0.99``) are evaluated, nothing is imported or executed. The compliance tests' ``audit.config``
files are read as text.

The tables are turned into the shape of a round spec's sections (``benchmarks``, ``scenarios``, ``datasets``,
``accuracy``, ``seeds``, ``performance_rules``) so that they compare one to one with ``specs/rounds/*.yaml``
(``mlperf-compliance round-data``, docs/rounds.md).

Layer: the specs layer (reads files of a checkout); imports nothing above it.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.errors import InputError

#: The modular checker (from 2026-01), then the single-file one of earlier rounds.
CHECKER_FILES = (
    "tools/submission/submission_checker/constants.py",
    "tools/submission/submission_checker.py",
)
#: Where the compliance tests live: compliance/TESTxx, before 2025-10 (#2354) compliance/nvidia/TESTxx.
COMPLIANCE_DIRS = ("compliance", "compliance/nvidia")
#: The compliance tests a checker's ``models_TESTxx`` lists can name, in the order round specs list them.
TESTS = ("TEST01", "TEST04", "TEST05", "TEST06", "TEST07", "TEST08", "TEST09")
#: Round-spec system type -> the suffix of the checker's ``required-scenarios-<suffix>`` tables.
SYSTEM_TYPES = {"datacenter": "datacenter", "edge": "edge", "datacenter,edge": "datacenter-edge"}


class _NotInChecker:
    """A fact the checker does not state as a table (its tests decided in code, a table it does not have)."""

    def __repr__(self) -> str:
        return "not in this checker"


#: The value of a fact the checker holds no table for: compared with nothing.
NOT_IN_CHECKER: Any = _NotInChecker()

_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class NotLiteral(ValueError):
    """An expression that is not a literal (a name, a call, ...): it is not evaluated."""


def literal(node: ast.expr) -> Any:
    """The value of a literal expression: constants, lists, tuples (as lists), sets (as sorted lists), dicts, and
    ``+ - * /`` on numbers.

    Raises:
        NotLiteral: for anything else.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e) for e in node.elts]
    if isinstance(node, ast.Set):
        return sorted(literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotLiteral("a ** entry in a dict")
        return {literal(k): literal(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = literal(node.left), literal(node.right)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right)):
            return _OPERATORS[type(node.op)](left, right)
    raise NotLiteral(ast.dump(node)[:60])


def literal_assignments(source: str) -> dict[str, Any]:
    """Every module-level ``NAME = <literal>`` of ``source`` (later assignments win); others are left out."""
    values: dict[str, Any] = {}
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                values[target.id] = literal(value)
            except NotLiteral:
                values.pop(target.id, None)
    return values


@dataclass(frozen=True)
class Checker:
    """The literal tables of one checker file."""

    file: str  # relative to the checkout
    model_config: dict[str, dict[str, Any]]  # MODEL_CONFIG: round -> its tables
    constants: dict[str, Any] = field(default_factory=dict)  # the other module-level literals

    @property
    def rounds(self) -> list[str]:
        return sorted(self.model_config)


def read_checker(checkout: Path) -> Checker:
    """The tables of the newest checker the checkout holds (the modular one, else the single-file one).

    Raises:
        InputError: the folder is no checkout of mlcommons/inference, or its checker holds no MODEL_CONFIG literal.
    """
    if not checkout.is_dir():
        raise InputError(f"{checkout}: {'is not a folder' if checkout.exists() else 'does not exist'}")
    for relative in CHECKER_FILES:
        path = checkout / relative
        if not path.is_file():
            continue
        try:
            source = path.read_text(encoding="utf-8")
            values = literal_assignments(source)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
            raise InputError(f"{path}: cannot be read as Python: {exc}") from None
        config = values.pop("MODEL_CONFIG", None)
        if not isinstance(config, dict) or not all(isinstance(v, dict) for v in config.values()):
            raise InputError(f"{path}: no MODEL_CONFIG literal (a dict of rounds) in it")
        return Checker(relative, config, values)
    raise InputError(
        f"{checkout}: no submission checker in it ({' or '.join(CHECKER_FILES)}); pass the root of a checkout of "
        "mlcommons/inference"
    )


def read_audit_configs(checkout: Path) -> dict[str, dict[str, str]]:
    """The official audit.config files: test -> {model folder ('' for a test's shared file): text}, sorted."""
    configs: dict[str, dict[str, str]] = {}
    roots = [checkout / d for d in COMPLIANCE_DIRS if any((checkout / d).glob("TEST*"))]
    if not roots:
        return configs
    root = roots[0]
    # before 2025-06 (#2127) rgat's file was called audit.conf
    found = [
        p
        for name in ("audit.conf", "audit.config")
        for p in (*root.glob(f"TEST*/{name}"), *root.glob(f"TEST*/*/{name}"))
    ]
    for path in found:  # an audit.config wins over an audit.conf of the same folder
        test = path.relative_to(root).parts[0]
        folder = "" if path.parent.name == test else path.parent.name
        try:
            configs.setdefault(test, {})[folder] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read: {exc}") from None
    return {test: dict(sorted(folders.items())) for test, folders in sorted(configs.items())}


# -- the tables in the shape of a round spec -----------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pairs(values: Any) -> dict[str, Any]:
    """The checker's ``("NAME", value, "NAME2", value2)`` tuples as ``{NAME: value}``."""
    items = values if isinstance(values, list) else []
    return {str(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)}


def round_tables(checker: Checker, version: str) -> dict[str, Any]:
    """The tables of round ``version`` as round-spec sections; a section the checker does not have is absent.

    Only the round's models (``models``) are kept: the checker's tables also name models of other rounds.
    """
    base = checker.model_config[version]
    models = [str(m) for m in base.get("models", [])]
    tables: dict[str, Any] = {}
    test_lists = {t: base[f"models_{t}"] for t in TESTS if isinstance(base.get(f"models_{t}"), list)}
    if test_lists:  # the single-file checkers decide the tests in code (check_compliance_dir): not a table
        tables["benchmarks"] = {m: [t for t in TESTS if m in test_lists.get(t, [])] for m in models}
    else:
        tables["benchmarks"] = {m: NOT_IN_CHECKER for m in models}
    tables["scenarios"] = {}
    for kind, suffix in SYSTEM_TYPES.items():
        required = _dict(base.get(f"required-scenarios-{suffix}"))
        optional = _dict(base.get(f"optional-scenarios-{suffix}"))
        tables["scenarios"][kind] = {
            m: {"required": list(required.get(m, [])), "optional": list(optional.get(m, []))}
            for m in models
            if m in required or m in optional
        }
    tables["datasets"] = _datasets(base, models)
    tables["accuracy"] = _accuracy(base, models)
    seeds = _dict(base.get("seeds"))
    if seeds:
        tables["seeds"] = {
            "qsl": seeds.get("qsl_rng_seed"),
            "sample_index": seeds.get("sample_index_rng_seed"),
            "schedule": seeds.get("schedule_rng_seed"),
        }
    tables["performance_rules"] = _rules(checker, base, models)
    return tables


def _datasets(base: dict[str, Any], models: list[str]) -> dict[str, Any]:
    sources = (
        ("size", "dataset-size"),
        ("performance_samples", "performance-sample-count"),
        ("accuracy_samples", "accuracy-sample-count"),
    )
    datasets: dict[str, Any] = {}
    for m in models:
        entry = {
            ours: _dict(base[theirs]).get(m) if theirs in base else NOT_IN_CHECKER
            for ours, theirs in sources
            if theirs not in base or m in _dict(base[theirs])
        }
        if entry:
            datasets[m] = entry
    return datasets


def _accuracy(base: dict[str, Any], models: list[str]) -> dict[str, Any]:
    accuracy: dict[str, Any] = {}
    for m in models:
        entry: dict[str, Any] = {}
        target = _dict(base.get("accuracy-target")).get(m)
        if isinstance(target, dict):  # per scenario (qwen3-vl-235b-a22b from v6.1)
            entry["targets_by_scenario"] = {str(s): _pairs(v) for s, v in target.items()}
        elif target is not None:
            entry["targets"] = _pairs(target)
        if m in _dict(base.get("accuracy-upper-limit")):
            entry["upper_limits"] = _pairs(base["accuracy-upper-limit"][m])
        if m in _dict(base.get("accuracy-delta-perc")):
            entry["delta_percent"] = dict(base["accuracy-delta-perc"][m])
        if entry:
            accuracy[m] = entry
    return accuracy


def _rules(checker: Checker, base: dict[str, Any], models: list[str]) -> dict[str, Any]:
    """The performance rules a run must meet (the checker's performance checks): minimum duration, minimum
    query counts per scenario, Offline samples per query (closed division) and latency constraints."""
    rules: dict[str, Any] = {}
    if "TEST_DURATION_MS" in checker.constants:
        rules["min_duration_ms"] = checker.constants["TEST_DURATION_MS"]
    min_queries = _dict(base.get("min-queries"))
    rules["min_queries"] = {m: dict(min_queries[m]) for m in models if m in min_queries}
    spq = _dict(checker.constants.get("OFFLINE_MIN_SPQ_SINCE_V4"))
    rules["offline_min_samples_per_query"] = {m: spq[m] for m in models if m in spq}
    latency = _dict(base.get("latency-constraint"))
    rules["latency_constraints_ns"] = {m: dict(latency[m]) for m in models if m in latency}
    return rules


def delta_percent(tables: dict[str, Any], model: str, metric: str) -> float:
    """TEST01's allowed ``|1 - baseline/compliance| * 100`` for ``metric`` (the checker's rule: the round's
    ``accuracy-delta-perc``, else 0.1 for a model whose name contains 99.9, else 1; docs/rules.md §2.1)."""
    listed = _dict(_dict(tables.get("accuracy")).get(model)).get("delta_percent", {})
    if metric in listed:
        return float(listed[metric])
    return 0.1 if "99.9" in model else 1.0
