"""Render audit.config files from test specs, and read them back the way LoadGen does.

LoadGen applies audit.config with model ``*`` only (docs/rules.md §1.2), so a line such as
``stable-diffusion-xl.Offline.min_query_count = 500`` is silently ignored. The renderer therefore resolves
model-specific values itself and writes only ``*.<Scenario>.key = value`` and ``*.*.key = value`` lines, in the
format LoadGen's parser needs (docs/rules.md §1.1): ``key = value`` with ``=`` as its own token, integer or double
values, comments on their own line starting with ``# ``, a final newline. Output is byte-for-byte deterministic.

Layer: imports :mod:`compliance.specs` only. Placing a rendered file in a working directory is the pipeline's
(:mod:`compliance.pipeline.staging`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from compliance.specs.types import AuditDeviation, Model, ModelParam, Number, TestSpec, loadgen_scenario

AUDIT_CONFIG = "audit.config"
MARKER = "# mlperf-compliance:"
DEVIATION = "# deviation:"
_UINT64_MAX = (1 << 64) - 1


class RenderError(ValueError):
    """The test cannot be rendered for this model and scenario (the message says why)."""


@dataclass(frozen=True)
class AuditLine:
    """One setting line: ``*.<scope>.<key> = <value>``; scope is a LoadGen scenario or ``*``."""

    scope: str
    key: str
    value: Number

    def render(self) -> str:
        return f"*.{self.scope}.{self.key} = {format_value(self.value)}"


def format_value(value: Number) -> str:
    """Format a value so that LoadGen's strtoull/strtod parse it whole.

    Raises:
        RenderError: for booleans, negative or too large integers, NaN and infinities.
    """
    if isinstance(value, bool):
        raise RenderError(f"{value!r} is a boolean; audit.config takes 0 or 1")
    if isinstance(value, int):
        if not 0 <= value <= _UINT64_MAX:
            raise RenderError(f"{value} is outside 0..2^64-1")
        return str(value)
    if not math.isfinite(value) or value < 0:
        raise RenderError(f"{value!r} is not a finite, non-negative number")
    return repr(float(value))


def resolve(test: TestSpec, model: Model, scenario: str) -> list[AuditLine]:
    """The settings of ``test`` for ``model`` in ``scenario``, one line per key, in first-appearance order.

    A later layer overrides an earlier one for the same key; each key is written once, so LoadGen's lookup
    order (``*.<Scenario>`` before ``*.*``) never has to arbitrate between two lines.

    Raises:
        RenderError: when the scenario is not one of the model's, or a model parameter is missing.
    """
    if scenario not in model.scenarios:
        raise RenderError(f"{model.name} has no scenario '{scenario}'; it has {', '.join(model.scenarios)}")
    lg = loadgen_scenario(scenario)
    params = model.audit_params.get(test.name, {})
    lines: dict[str, AuditLine] = {}
    for layer in test.audit:
        if not layer.applies(model.name, lg):
            continue
        scope = lg if layer.scenarios is not None else "*"
        for key, value in layer.settings:
            if isinstance(value, ModelParam):
                if value.name not in params:
                    raise RenderError(
                        f"{test.name} needs audit_params.{test.name}.{value.name} in the spec of "
                        f"{model.name} ({model.file or 'specs/models'}); {test.name} may not apply to it"
                    )
                value = params[value.name]
            lines[key] = AuditLine(scope, key, value)
    for deviation in test.deviations:  # a system's override, set on purpose (with_overrides): same line, its value
        known = lines.get(deviation.key)
        lines[deviation.key] = AuditLine(known.scope if known else "*", deviation.key, deviation.value)
    return list(lines.values())


def with_overrides(test: TestSpec, model: Model, scenario: str, overrides: Mapping[str, Number]) -> TestSpec:
    """``test`` as a system runs it for ``model`` in ``scenario`` with its ``audit_overrides``: each setting that
    differs from the official value becomes a deviation, which :func:`resolve` applies and :func:`render` tells.

    Raises:
        RenderError: see :func:`resolve`.
    """
    if not overrides:
        return test
    official = {line.key: line.value for line in resolve(replace(test, deviations=()), model, scenario)}
    deviations = tuple(
        AuditDeviation(key, value, official.get(key))
        for key, value in overrides.items()
        if key not in official or official[key] != value or type(official[key]) is not type(value)
    )
    return replace(test, deviations=deviations)


def render(test: TestSpec, model: Model, scenario: str, *, cell: str | None = None) -> str:
    """The audit.config text for ``test`` run on ``model`` in ``scenario``.

    Args:
        test: the test spec.
        model: the benchmark's model spec.
        scenario: a submission scenario (Interactive is written as Server).
        cell: optional cell id written in the marker comment, so a staged file can be recognised as ours.

    Raises:
        RenderError: see :func:`resolve` and :func:`format_value`.
    """
    settings = [line.render() for line in resolve(test, model, scenario)]
    marker = f"{MARKER} {test.name} {model.name} {scenario}" + (f" cell={cell}" if cell else "")
    comments = [f"# {text}" for text in test.comments]
    deviations = [f"{DEVIATION} {d.describe(test.name)}" for d in test.deviations]
    return "\n".join([*comments, marker, *deviations, *settings]) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Reading, by LoadGen's rules (TestSettings::FromConfig, docs/rules.md §1.1)

_C_UINT = re.compile(r"^[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")
_C_DOUBLE = re.compile(
    r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|(?i:inf|infinity|nan(?:\([0-9A-Za-z_]*\))?))$"
)


@dataclass
class ParsedConfig:
    """The raw ``model.scenario.key -> value`` entries of a config file and the errors LoadGen would log."""

    entries: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """False when LoadGen would reject the whole file (FromConfig returns -EINVAL, nothing applied)."""
        return not self.errors

    def lookup(self, key: str, scenario: str, model: str = "*") -> str | None:
        """The value LoadGen would use for ``key``; LoadGen itself always passes model ``*`` for audit.config."""
        for m, s in ((model, scenario), ("*", scenario), (model, "*"), ("*", "*")):
            if f"{m}.{s}.{key}" in self.entries:
                return self.entries[f"{m}.{s}.{key}"]
        return None

    def settings(self, scenario: str, model: str = "*") -> dict[str, Number]:
        """Every key that would take effect for ``scenario``, as numbers (empty when the file is invalid)."""
        if not self.valid:
            return {}
        keys = {k.split(".", 2)[2] for k in self.entries if k.count(".") >= 2}
        out: dict[str, Number] = {}
        for key in sorted(keys):
            raw = self.lookup(key, loadgen_scenario(scenario), model)
            if raw is not None:
                out[key] = _to_number(raw)
        return out


def _to_number(raw: str) -> Number:
    if _C_UINT.match(raw):
        return int(raw, 0) if not re.match(r"^[+-]?0[0-7]+$", raw) else int(raw.lstrip("+-"), 8)
    return float.fromhex(raw) if re.match(r"^[+-]?0[xX]", raw) else float(raw)


def parse(text: str) -> ParsedConfig:
    """Parse config text exactly as LoadGen's line parser does.

    Each line is split on whitespace. Expected are a key, an ``=`` token, and a value that parses whole as an
    integer (strtoull base 0) or a double. A ``#`` token ends the line unless a value is expected, where it is
    an error; an ``=`` glued to the key (``k=1``) makes the line a lone key, silently ignored; any error
    invalidates the whole file.
    """
    parsed = ParsedConfig()
    for number, line in enumerate(text.splitlines(), start=1):
        key = ""
        expecting = "key"
        for token in line.split():
            if token == "#" and expecting != "value":
                break
            if expecting == "value":
                if _C_UINT.match(token) or _C_DOUBLE.match(token):
                    parsed.entries[key] = token
                    continue  # LoadGen keeps reading: a later token overwrites the value
                parsed.errors.append(f"value needs to be integer or double, line={number}")
                break
            if expecting == "equals":
                if token != "=":
                    parsed.errors.append(f"expected 'key=value', line={number}")
                    break
                expecting = "value"
                continue
            key, expecting = token, "equals"
    return parsed
