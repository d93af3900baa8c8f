"""A round spec's tables from the checker: scenarios per system type, datasets, accuracy, seeds, performance rules.

:func:`round_fields` builds them for a :class:`~compliance.specs.types.Round` from a valid round spec, :func:`tables`
gives them back in the shape of the spec's sections (which :mod:`compliance.specs.official` gives for a checkout, so
that ``mlperf-compliance round-data`` compares the two one to one), and :func:`round_problems` cross-checks them with
the round's benchmarks and the model specs: a model spec's ``scenarios`` are exactly the scenarios the rounds that
have it allow (so the two cannot drift apart).

Layer: the specs layer.
"""

from __future__ import annotations

from typing import Any

from compliance.errors import PathPart, Problem
from compliance.specs.types import (
    SCENARIOS,
    SYSTEM_TYPES,
    KnownDifference,
    PerformanceRules,
    Round,
    ScenarioSet,
    Seeds,
    Specs,
)
from compliance.specs.yamldoc import YamlDoc

#: The round spec's sections that hold per-benchmark tables, and under which key of each the benchmark is.
BENCHMARK_TABLES = ("datasets", "accuracy")
RULE_TABLES = ("min_queries", "offline_min_samples_per_query", "latency_constraints_ns")


def round_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :class:`Round` that come from a valid round spec's tables (defaults filled in)."""
    seeds = data.get("seeds")
    rules = data.get("performance_rules")
    return {
        "seeds": Seeds(seeds["qsl"], seeds["sample_index"], seeds["schedule"]) if seeds else None,
        "scenarios": {
            kind: {b: ScenarioSet(tuple(s["required"]), tuple(s["optional"])) for b, s in table.items()}
            for kind, table in data.get("scenarios", {}).items()
        },
        "datasets": {b: dict(d) for b, d in data.get("datasets", {}).items()},
        "accuracy": {b: dict(a) for b, a in data.get("accuracy", {}).items()},
        "rules": PerformanceRules(
            rules["commit"],
            rules["min_duration_ms"],
            {b: dict(v) for b, v in rules["min_queries"].items()},
            dict(rules["offline_min_samples_per_query"]),
            {b: dict(v) for b, v in rules["latency_constraints_ns"].items()},
        )
        if rules
        else None,
        "known_differences": tuple(
            KnownDifference(tuple(k["at"]), k["checker"], k["why"]) for k in data["known_differences"]
        ),
    }


def tables(rnd: Round) -> dict[str, Any]:
    """The round's tables in the shape of its spec's sections (a section the spec does not give is absent)."""
    out: dict[str, Any] = {"benchmarks": {b: list(t) for b, t in rnd.required.items()}}
    if rnd.scenarios:
        out["scenarios"] = {
            kind: {b: {"required": list(s.required), "optional": list(s.optional)} for b, s in table.items()}
            for kind, table in rnd.scenarios.items()
        }
    if rnd.datasets:
        out["datasets"] = rnd.datasets
    if rnd.accuracy:
        out["accuracy"] = rnd.accuracy
    if rnd.seeds is not None:
        out["seeds"] = {"qsl": rnd.seeds.qsl, "sample_index": rnd.seeds.sample_index, "schedule": rnd.seeds.schedule}
    if rnd.rules is not None:
        rules = rnd.rules
        out["performance_rules"] = {
            "min_duration_ms": rules.min_duration_ms,
            "min_queries": rules.min_queries,
            "offline_min_samples_per_query": rules.offline_min_samples_per_query,
            "latency_constraints_ns": rules.latency_constraints_ns,
        }
    return out


def round_problems(specs: Specs, round_docs: dict[str, YamlDoc], model_docs: dict[str, YamlDoc]) -> list[Problem]:
    """Tables that name a benchmark the round does not have, benchmarks the scenario tables leave without any
    scenario, and model specs whose ``scenarios`` differ from what the rounds that have the model allow."""
    found: list[Problem] = []
    for rnd in specs.rounds.values():
        doc = round_docs[rnd.name]
        named: list[tuple[list[PathPart], str]] = [
            (["scenarios", kind, b], b) for kind, table in rnd.scenarios.items() for b in table
        ]
        named += [([section, b], b) for section in BENCHMARK_TABLES for b in getattr(rnd, section)]
        if rnd.rules is not None:
            named += [(["performance_rules", table, b], b) for table in RULE_TABLES for b in getattr(rnd.rules, table)]
        for where, benchmark in named:
            if benchmark not in rnd.required:
                found.append(
                    doc.problem(
                        where,
                        f"'{benchmark}' is not a benchmark of round {rnd.name}; add it to 'benchmarks' or remove it",
                        key=True,
                    )
                )
        if rnd.scenarios:
            for benchmark in rnd.required:
                if not rnd.allowed_scenarios(benchmark):
                    found.append(
                        doc.problem(
                            ["benchmarks", benchmark],
                            f"'{benchmark}' has no scenario in any system type's table "
                            f"({', '.join(SYSTEM_TYPES)}): no system could submit it",
                            key=True,
                        )
                    )
    found += _model_scenarios(specs, model_docs)
    return found


def _model_scenarios(specs: Specs, model_docs: dict[str, YamlDoc]) -> list[Problem]:
    """A model spec's ``scenarios`` (where its audit.configs can be rendered) must be exactly the union of what the
    rounds that have it allow, when each of them gives scenario tables."""
    found: list[Problem] = []
    for model in specs.models.values():
        rounds = [r for r in specs.rounds.values() if model.name in r.required]
        if not rounds or any(not r.scenarios for r in rounds):
            continue
        allowed = {s for r in rounds for s in r.allowed_scenarios(model.name) or ()}
        if set(model.scenarios) != allowed:
            union = [s for s in SCENARIOS if s in allowed]
            found.append(
                model_docs[model.name].problem(
                    ["scenarios"],
                    f"{list(model.scenarios)} differs from the scenarios rounds "
                    f"{', '.join(sorted(r.name for r in rounds))} allow for {model.name}: {union}; "
                    "write those (the round specs' scenario tables are the checker's)",
                )
            )
    return found
