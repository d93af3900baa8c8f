"""TEST09: the mean output length of a performance run over the whole dataset lies within bounds (docs/rules.md §2.6).

Vocabulary: a sample's *length* is its number of output tokens: the tokens of ``data`` in the model's token type,
plus the separately logged first token (``token_data``) when LoadGen's ``token_count`` says it is not part of
``data`` (the reference gpt-oss harness in Server and Interactive); the dataset size and the bounds are the model
spec's ``audit_params.TEST09`` (``min_query_count``, ``test09_min_output_tokens``, ``test09_max_output_tokens``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compliance import layout
from compliance.errors import InputError
from compliance.logs import LogError
from compliance.logs.accuracy import AccuracyLog, HexField
from compliance.report.measure import Measure
from compliance.specs.types import Model, TestSpec, loadgen_scenario
from compliance.verify import official
from compliance.verify.base import Request, Verifier
from compliance.verify.checks import evidence, inputs, tokens
from compliance.verify.result import EXAMPLES, Cause, Check, Outcome, Result

CHECK_COVERAGE = "samples covered"
CHECK_TOKENS = "token counts"
CHECK_MEAN = "mean output length"
OFFICIAL_TOKEN_BYTES = 4  # the official script reads every output as 4-byte tokens (docs/rules.md §3, item 40)
BOUND_KEYS = ("test09_min_output_tokens", "test09_max_output_tokens")


@dataclass
class _Scan:
    """What one pass over the accuracy log found."""

    expected: int
    token_bytes: int
    seen: bytearray = field(init=False)
    entries: int = 0
    samples: int = 0  # distinct qsl_idx in range with a valid length
    total: int = 0
    squares: int = 0
    shortest: int | None = None
    longest: int | None = None
    duplicates: int = 0
    out_of_range: int = 0
    bad_data: int = 0
    count_mismatches: int = 0
    no_count: int = 0
    first_token_apart: int = 0
    official_entries: int = 0
    official_total: int = 0
    examples: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen = bytearray(self.expected)

    def problem(self, example: str) -> None:
        if len(self.examples) < EXAMPLES:
            self.examples.append(example)

    def entry(self, fields: dict[str, Any], ordinal: int) -> None:
        self.entries += 1
        data, first, count = fields.get("data"), fields.get("token_data"), fields.get("token_count")
        # the official script: 4-byte chunks of a decodable data, else 0 (docs/rules.md §2.6)
        self.official_entries += 1
        if isinstance(data, HexField) and data.problem is None:
            self.official_total += data.n_bytes // OFFICIAL_TOKEN_BYTES
        qsl_idx = fields.get("qsl_idx")
        where = f"entry {ordinal} (qsl_idx {'a string' if isinstance(qsl_idx, HexField) else repr(qsl_idx)})"
        if not isinstance(qsl_idx, int) or isinstance(qsl_idx, bool) or not 0 <= qsl_idx < self.expected:
            self.out_of_range += 1
            self.problem(f"{where}: not a sample of the {self.expected}-sample dataset")
            return
        length = self._length(data, first, count, where)
        if self.seen[qsl_idx]:
            self.duplicates += 1
            self.problem(f"{where}: the sample is logged again")
            return
        self.seen[qsl_idx] = 1
        if length is None:
            return
        self.samples += 1
        self.total += length
        self.squares += length * length
        self.shortest = length if self.shortest is None else min(self.shortest, length)
        self.longest = length if self.longest is None else max(self.longest, length)

    def _tokens(self, value: Any, what: str, where: str) -> int | None:
        if not isinstance(value, HexField) or value.problem or value.n_bytes % self.token_bytes:
            why = (
                f"no '{what}'"
                if not isinstance(value, HexField)
                else value.problem or f"{value.n_bytes} bytes is not a whole number of {self.token_bytes}-byte tokens"
            )
            self.bad_data += 1
            self.problem(f"{where}: {what}: {why}")
            return None
        return value.n_bytes // self.token_bytes

    def _length(self, data: Any, first: Any, count: Any, where: str) -> int | None:
        n_tokens = self._tokens(data, "data", where)
        if n_tokens is None:
            return None
        firsts = 0
        if first is not None:
            firsts_or_none = self._tokens(first, "token_data", where)
            if firsts_or_none is None:
                return None
            firsts = firsts_or_none
        if count is None:
            self.no_count += 1
            return n_tokens + firsts
        if not isinstance(count, int) or isinstance(count, bool):
            self.count_mismatches += 1
            self.problem(f"{where}: token_count {count!r} is not a number of tokens")
            return None
        if count == n_tokens + firsts:
            self.first_token_apart += firsts > 0
            return count
        if firsts and count == n_tokens:  # the first token is also the start of data (as TEST06 wants it)
            return count
        self.count_mismatches += 1
        self.problem(
            f"{where}: token_count {count}, but data holds {n_tokens} tokens"
            + (f" and token_data {firsts}" if firsts else "")
            + f" of {self.token_bytes} bytes"
        )
        return None

    @property
    def mean(self) -> float | None:
        return self.total / self.samples if self.samples else None

    @property
    def std(self) -> float | None:
        if not self.samples:
            return None
        mean = self.total / self.samples
        return math.sqrt(max(self.squares / self.samples - mean * mean, 0.0))


def resolve(test: TestSpec, model: Model | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """dtype: given, else the model's tokens, else int32 (the official script's 4-byte tokens). The bounds are not
    options: they are the model's audit settings, as LoadGen was given them (docs/rules.md §3, item 44)."""
    facts = model.tokens if model else None
    return {"dtype": given.get("dtype") or (facts.dtype if facts else tokens.OFFICIAL_DTYPE)}


def _facts(test: TestSpec, model: Model | None, scenario: str) -> tuple[int, float, float]:
    """(dataset size, lower bound, upper bound) from the model's TEST09 audit settings."""
    if model is None:
        raise InputError("TEST09 needs --model: the dataset size and the length bounds come from the model spec")
    settings = evidence.expected_settings(test, model, scenario)
    missing = [k for k in ("min_query_count", *BOUND_KEYS) if k not in settings]
    if missing:
        raise InputError(
            f"model {model.name} has no TEST09 {', '.join(missing)} (audit_params.TEST09 of its spec): "
            "TEST09 is not a test of this benchmark"
        )
    return int(settings["min_query_count"]), float(settings[BOUND_KEYS[0]]), float(settings[BOUND_KEYS[1]])


def verify(request: Request) -> Result:
    """Verify a TEST09 compliance run (option: ``dtype``, the token type).

    Raises:
        InputError: a required file is missing or unreadable, or the model is unknown or has no TEST09 facts.
    """
    test, model, scenario, dtype = request.test, request.model, request.scenario, request.options["dtype"]
    assert scenario is not None
    expected, low, high = _facts(test, model, scenario)
    assert model is not None
    comp_dir = inputs.compliance_folder(request.compliance_dir)
    paths = inputs.compliance_logs(comp_dir)
    result = Result("TEST09", scenario=scenario, model=model.name, inputs=dict(paths))
    result.settings = {
        "dtype": dtype,
        "expected_samples": expected,
        "min_output_tokens": low,
        "max_output_tokens": high,
    }
    comp = inputs.detail(paths["compliance_detail"], result)
    inputs.summary_complete(paths["compliance_summary"], result, comp)
    if comp is not None:
        result.add(evidence.check_applied(comp, test, model, scenario))
        if comp.scenario and comp.scenario != loadgen_scenario(scenario):
            result.add(Check("scenario", Outcome.FAIL, f"the run was made in {comp.scenario}, not {scenario}"))
        inputs.log_errors(result, {"compliance": comp})
    scan = _Scan(expected, tokens.token_bytes(dtype))
    log = AccuracyLog(paths["compliance_accuracy_log"], check_all_hex=True)
    broken = ""
    try:
        for entry in log:
            scan.entry(entry.fields, entry.ordinal)
    except LogError as exc:
        broken = str(exc)
    reported = comp.get("qsl_reported_total_count") if comp is not None else None
    if log.truncated and not broken:  # a published folder after the mandatory truncation (docs/rules.md §8.1)
        why = (
            "the accuracy log is truncated (the submission tools keep its first and last 4 KiB): TEST09 needs it whole"
        )
        result.add(Check(CHECK_COVERAGE, Outcome.NOT_CHECKABLE, why, cause=Cause.TRUNCATED_LOG))
        _token_counts(result, scan, dtype)  # on the entries that survive
        result.add(Check(CHECK_MEAN, Outcome.NOT_CHECKABLE, why, cause=Cause.TRUNCATED_LOG))
    else:
        _coverage(result, scan, broken, log.truncated, reported)
        _token_counts(result, scan, dtype)
        _mean(result, scan, low, high)
    result.official_verdict, result.official_notes = official.test09_verdict(
        scan.official_entries, scan.official_total, low, high, broken
    )
    return result


def _coverage(result: Result, scan: _Scan, broken: str, truncated: bool, reported: Any) -> None:
    covered = sum(scan.seen)
    figures = {
        "entries": scan.entries,
        "covered": covered,
        "expected": scan.expected,
        "duplicates": scan.duplicates,
        "out_of_range": scan.out_of_range,
        "qsl_reported_total_count": reported,
    }
    problems = []
    if broken:
        problems.append(f"the accuracy log cannot be read to its end ({broken})")
    if truncated:
        problems.append("the accuracy log is truncated ('...' in the middle): TEST09 needs the whole log")
    if covered < scan.expected:
        problems.append(f"{scan.expected - covered} of the {scan.expected} samples are not in the log")
    if scan.duplicates:
        problems.append(f"{scan.duplicates} entries repeat a sample")
    if scan.out_of_range:
        problems.append(f"{scan.out_of_range} entries are of no sample of the dataset")
    if isinstance(reported, int) and reported != scan.expected:
        problems.append(f"the QSL reported {reported} samples, the dataset has {scan.expected}")
    examples = [e for e in scan.examples if "logged again" in e or "dataset" in e]
    if problems and examples:
        problems.append("e.g. " + examples[0])
    result.add(Check(CHECK_COVERAGE, Outcome.FAIL if problems else Outcome.PASS, "; ".join(problems), figures))


def _token_counts(result: Result, scan: _Scan, dtype: str) -> None:
    figures = {
        "bad_data": scan.bad_data,
        "count_mismatches": scan.count_mismatches,
        "without_token_count": scan.no_count,
        "first_token_apart": scan.first_token_apart,
        "dtype": dtype,
    }
    if scan.no_count:
        result.note(f"{scan.no_count} entries have no token_count: their lengths could not be cross-checked")
    problems = []
    if scan.bad_data:
        problems.append(f"{scan.bad_data} outputs are not whole {dtype} tokens")
    if scan.count_mismatches:
        problems.append(
            f"{scan.count_mismatches} outputs hold another number of {dtype} tokens than their token_count "
            "(outputs of another token type, or a false count)"
        )
    examples = [e for e in scan.examples if "token" in e or "data" in e]
    if problems and examples:
        problems.append("e.g. " + examples[0])
    result.add(Check(CHECK_TOKENS, Outcome.FAIL if problems else Outcome.PASS, "; ".join(problems), figures))


def _mean(result: Result, scan: _Scan, low: float, high: float) -> None:
    mean = scan.mean
    figures = {
        "samples": scan.samples,
        "mean": mean,
        "min": scan.shortest,
        "max": scan.longest,
        "std": scan.std,
        "low": low,
        "high": high,
    }
    if mean is None:
        result.add(Check(CHECK_MEAN, Outcome.FAIL, "no output length could be measured", figures))
    elif not low <= mean <= high:
        side = "below" if mean < low else "above"
        result.add(Check(CHECK_MEAN, Outcome.FAIL, f"mean output length {mean:.2f} is {side} [{low}, {high}]", figures))
    else:
        result.add(Check(CHECK_MEAN, Outcome.PASS, "", figures))


# -- rendering -----------------------------------------------------------------------------------------------------

SEPARATOR = "=" * 80


def _render(result: Result) -> dict[str, str]:
    """verify_output_len.txt: the official script's statistics and verdict lines, with our checks before the final
    ``TEST PASS``/``TEST FAIL`` (the checker looks for ``TEST PASS`` anywhere: a failure never writes it)."""
    mean_check, coverage = result.check(CHECK_MEAN), result.check(CHECK_COVERAGE)
    m = mean_check.figures if mean_check else {}
    c = coverage.figures if coverage else {}

    def number(value: Any) -> str:
        return "n/a" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)

    low, high = result.settings.get("min_output_tokens"), result.settings.get("max_output_tokens")
    mean = m.get("mean")
    lines = [
        SEPARATOR,
        "TEST09: Verify Output Token Length in Performance Mode",
        SEPARATOR,
        "Output Token Length Statistics",
        "-" * 40,
        f"Total samples: {number(m.get('samples'))}",
        f"Mean output tokens: {number(mean)}",
        f"Min output tokens: {number(m.get('min'))}",
        f"Max output tokens: {number(m.get('max'))}",
        f"Std deviation: {number(m.get('std'))}",
        f"Samples covered: {number(c.get('covered'))} of {number(c.get('expected'))}"
        f" ({number(c.get('duplicates'))} repeated, {number(c.get('out_of_range'))} outside the dataset)",
        f"Token type: {result.settings.get('dtype')}",
        SEPARATOR,
        "Verification Results",
        SEPARATOR,
        f"Mean output tokens: {number(mean)}",
        f"Min threshold: {low}",
        f"Max threshold: {high}",
        f"Min check pass: {mean is not None and mean >= low}",
        f"Max check pass: {mean is not None and mean <= high}",
    ]
    for check in result.checks:
        lines.append(f"{check.name}: {check.outcome.value}" + (f": {check.reason}" if check.reason else ""))
    lines += ["", "TEST PASS" if result.verdict == "PASS" else "TEST FAIL"]
    return {layout.VERIFY_OUTPUT_LEN: "\n".join(lines) + "\n"}


def _measures(data: Mapping[str, Any]) -> tuple[Measure, ...]:
    checks = {c["name"]: c for c in data.get("checks", [])}
    check = checks.get(CHECK_MEAN, {})
    m = check.get("figures", {})
    if not all(isinstance(m.get(k), (int, float)) for k in ("mean", "low", "high")):
        return ()
    passed = check.get("outcome") != Outcome.FAIL.value
    return (Measure("mean length", m["mean"], passed, m["low"], m["high"], digits=2, unit="tokens"),)


def _figures(data: Mapping[str, Any]) -> str:
    checks = {c["name"]: c for c in data.get("checks", [])}
    m = checks.get(CHECK_MEAN, {}).get("figures", {})
    c = checks.get(CHECK_COVERAGE, {}).get("figures", {})
    found = _measures(data)
    mean = m.get("mean")
    shown = f"mean length {mean:.2f}" if isinstance(mean, (int, float)) else "mean length ?"
    said = found[0].text() if found else f"{shown} in [{m.get('low', '?')}, {m.get('high', '?')}]"
    return f"{said}, {c.get('covered', '?')}/{c.get('expected', '?')} samples"


def _check_detail(check: Check) -> str:
    f = check.figures
    if check.name == CHECK_MEAN and f.get("mean") is not None:
        return f"{f['mean']:.2f} tokens over {f['samples']} samples, bounds [{f['low']}, {f['high']}]"
    if check.name == CHECK_COVERAGE and "covered" in f:
        return f"{f['covered']} of {f['expected']}"
    return ""


VERIFIER = Verifier(
    name="TEST09",
    summary="mean output length over the whole dataset within the model's bounds",
    reference_runs=(),
    needs_scenario=True,
    text_files=(layout.VERIFY_OUTPUT_LEN,),
    copies=inputs.RUN_COPIES,
    options=(tokens.DTYPE_OPTION,),
    resolve=resolve,
    verify=verify,
    render=_render,
    figures=_figures,
    measures=_measures,
    check_detail=_check_detail,
)
