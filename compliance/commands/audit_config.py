"""``mlperf-compliance audit-config TEST --model M --scenario S``: print the audit.config a test needs."""

from __future__ import annotations

from typing import TextIO

from compliance.auditconfig import RenderError, render
from compliance.errors import InputError, UnknownName, did_you_mean
from compliance.plan import load_specs
from compliance.specs.types import SCENARIOS, Model, Specs


def model(specs: Specs, name: str) -> Model:
    """The model called ``name`` (or with that alias); UnknownName otherwise."""
    try:
        return specs.model(name)
    except KeyError:
        names = list(specs.models) + [a for m in specs.models.values() for a in m.aliases]
        raise UnknownName(f"unknown model '{name}'{did_you_mean(name, names)}") from None


def scenario(name: str) -> str:
    if name not in SCENARIOS:
        raise UnknownName(f"unknown scenario '{name}'{did_you_mean(name, SCENARIOS)}; known: {', '.join(SCENARIOS)}")
    return name


def audit_config(specs_dir: str | None, test: str, model_name: str, scenario_name: str, out: TextIO) -> int:
    """Print the rendered audit.config of ``test`` for ``model_name`` in ``scenario_name`` to ``out``; 0."""
    scenario(scenario_name)
    specs = load_specs(specs_dir)
    if test not in specs.tests:
        raise UnknownName(
            f"unknown test '{test}'{did_you_mean(test, specs.tests)}; known: {', '.join(sorted(specs.tests))}"
        )
    try:
        text = render(specs.tests[test], model(specs, model_name), scenario_name)
    except RenderError as exc:
        raise InputError(str(exc)) from None
    out.write(text)
    return 0
