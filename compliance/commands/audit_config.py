"""``mlperf-compliance audit-config TEST --model M --scenario S``: print the audit.config a test needs."""

from __future__ import annotations

from typing import TextIO

from compliance.auditconfig import RenderError, render
from compliance.commands import load_or_report
from compliance.errors import EXIT_BAD_INPUT, did_you_mean
from compliance.spectypes import SCENARIOS


def audit_config(specs_dir: str, test: str, model: str, scenario: str, out: TextIO, err: TextIO) -> int:
    """Print the rendered audit.config of ``test`` for ``model`` in ``scenario`` to ``out``.

    Returns 0, or 2 with one ``error:`` line when the specs, the test, the model or the scenario is wrong.
    """
    if scenario not in SCENARIOS:
        print(f"error: unknown scenario '{scenario}'{did_you_mean(scenario, SCENARIOS)}; known: {', '.join(SCENARIOS)}", file=err)
        return EXIT_BAD_INPUT
    specs = load_or_report(specs_dir, err)
    if specs is None:
        return EXIT_BAD_INPUT
    if test not in specs.tests:
        print(f"error: unknown test '{test}'{did_you_mean(test, specs.tests)}; known: {', '.join(sorted(specs.tests))}", file=err)
        return EXIT_BAD_INPUT
    try:
        spec_model = specs.model(model)
    except KeyError:
        names = list(specs.models) + [a for m in specs.models.values() for a in m.aliases]
        print(f"error: unknown model '{model}'{did_you_mean(model, names)}", file=err)
        return EXIT_BAD_INPUT
    try:
        text = render(specs.tests[test], spec_model, scenario)
    except RenderError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    out.write(text)
    return 0
