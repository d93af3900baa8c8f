"""TEST06: consistency of LLM output: one trailing EOS, first token, token count (docs/rules.md §2.3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from compliance import layout
from compliance.errors import PathPart
from compliance.logs import LogError
from compliance.logs.accuracy import AccuracyLog, HexField
from compliance.logs.detail import DetailLog
from compliance.specs.types import BenchmarkRun, Model, TestSpec, loadgen_scenario
from compliance.verify import official
from compliance.verify.base import Option, Request, Verifier
from compliance.verify.checks import evidence, inputs, runs, tokens
from compliance.verify.result import Cause, Check, Kind, Outcome, Result

CHECK_FIRST_TOKEN = "first token"
CHECK_EOS = "EOS"
CHECK_LENGTH = "sample length"
CHECK_SAMPLES = "samples logged"


@dataclass
class _Tally:
    """Failures of one token check, with a few examples."""

    failed: int = 0
    examples: list[str] = field(default_factory=list)

    def fail(self, example: str) -> None:
        self.failed += 1
        if len(self.examples) < 5:
            self.examples.append(example)


def harness_options(run: BenchmarkRun) -> dict[str, Any]:
    """The token facts a benchmark's spec gives (``tokens: {eos_token_id, dtype}``), over the model's."""
    return dict(run.tokens)


def harness_check(run: BenchmarkRun, model: Model) -> tuple[list[PathPart], str] | None:
    """A warning where the harness writes outputs of another type than TEST06 decodes tokens in: its length and EOS
    checks would read other numbers."""
    output = run.output_dtype
    token_dtype = run.tokens.get("dtype") or (model.tokens.dtype if model.tokens else None)
    if output is None or token_dtype is None or token_dtype == output:
        return None
    return (
        ["output_dtype"],
        f"warning: the harness writes {output} outputs, but TEST06 decodes tokens as {token_dtype}: its length and "
        f"EOS checks would read other numbers; set 'tokens: {{dtype: {output}}}' on this benchmark",
    )


def resolve(test: TestSpec, model: Model | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """eos_token_id: given, else the model's, else the official script's default; dtype: given (else read from
    the log when verifying, falling back on ``default_dtype``: the model's, else the official int32)."""
    facts = model.tokens if model else None
    eos = given.get("eos_token_id")
    eos_given = eos is not None
    eos = eos if eos_given else (facts.eos_token_id if facts else tokens.OFFICIAL_EOS)
    # the official script is given -e when the id was given here or is not its default: its EOS check then
    # cannot fail (docs/rules.md §3, item 12)
    return {
        "eos_token_id": eos,
        "dtype": given.get("dtype") or None,
        "default_dtype": facts.dtype if facts else tokens.OFFICIAL_DTYPE,
        "official_eos_flag": eos_given or eos != tokens.OFFICIAL_EOS,
        "eos_given": eos_given,
    }


def _detail(comp_dir: Path, paths: dict[str, str], result: Result) -> DetailLog | None:
    """The compliance run's detail log, when the folder has one (anything in its place must be a readable file:
    a folder or a loop of links is bad input, not an absent log)."""
    path = inputs.compliance_log(comp_dir, layout.DETAIL)
    if not inputs.present(path):
        return None
    paths["compliance_detail"] = inputs.required(path)
    result.inputs["compliance_detail"] = paths["compliance_detail"]
    return inputs.detail(paths["compliance_detail"], result)


def _evidence_without_detail(result: Result, issued: int, expected: int) -> None:
    """A published TEST06 folder keeps only the accuracy log (review.md §1): whether LoadGen found and applied the
    audit.config cannot be read, but its seq_id values show how many samples the run issued, and with TEST06's
    settings (min_query_count 100, min_duration 0) it issues only the samples it logs."""
    figures = {"samples_issued_at_least": issued, "expected": expected}
    if issued > expected:
        result.add(
            Check(
                evidence.CHECK_APPLIED,
                Outcome.FAIL,
                f"the accuracy log's seq_id values reach {issued - 1}: the run issued at least {issued} samples, "
                f"where TEST06's settings make a run of {expected}; the audit config was not in effect",
                figures,
            )
        )
        return
    result.add(
        Check(
            evidence.CHECK_APPLIED,
            Outcome.NOT_CHECKABLE,
            f"no {layout.DETAIL} beside the accuracy log: whether the audit config was in effect cannot be checked "
            f"(its seq_id values, below {expected}, are those of a run of TEST06's length)",
            figures,
            cause=Cause.NO_DETAIL_LOG,
        )
    )


def verify(request: Request) -> Result:
    """Verify a TEST06 compliance run's accuracy log (options: ``eos_token_id``, ``dtype``).

    A truncated log (the submission tools' cut) has its surviving whole entries checked: a failure among them
    fails, else the checks are NOT CHECKABLE; so is the audit evidence of a folder without a detail log, and the
    EOS check of a model whose EOS token is not known (``request.model_name``).

    Raises:
        InputError: a required file is missing or unreadable.
    """
    test, model, scenario = request.test, request.model, request.scenario
    options = request.options
    eos_token_id = options["eos_token_id"]
    eos_flag = bool(options.get("official_eos_flag", eos_token_id != tokens.OFFICIAL_EOS))
    assert scenario is not None
    comp_dir = inputs.compliance_folder(request.compliance_dir)
    paths = {"compliance_accuracy_log": inputs.compliance_file(comp_dir, layout.ACCURACY)}
    result = Result("TEST06", scenario=scenario, model=model.name if model else None, inputs=dict(paths))
    comp = _detail(comp_dir, paths, result)
    default_dtype = tokens.OFFICIAL_DTYPE
    try:
        dtype, dtype_from = (
            (options["dtype"], "given")
            if options.get("dtype")
            else tokens.log_dtype(
                paths["compliance_accuracy_log"], options.get("default_dtype") or tokens.OFFICIAL_DTYPE
            )
        )
    except LogError:
        dtype, dtype_from = options.get("default_dtype") or default_dtype, "the default (the log is malformed)"
    eos_unknown = model is None and request.model_name is not None and not options.get("eos_given")
    result.settings = {
        "eos_token_id": None if eos_unknown else eos_token_id,
        "dtype": dtype,
        "dtype_from": dtype_from,
        "expected_samples": test.thresholds.expected_samples,
    }
    if comp is not None:
        result.add(evidence.check_applied(comp, test, model, scenario))
    first_token, eos, length = _Tally(), _Tally(), _Tally()
    official_state: dict[str, Any] = {
        "crash": "",
        "first": True,
        "eos": True,
        "length": True,
        "eos_flag": eos_flag,
        "issued": 0,  # samples the run issued at least (its highest seq_id + 1)
    }
    size = tokens.token_bytes(dtype)
    needs_first_token = loadgen_scenario(scenario) != "Offline"
    try:
        log = AccuracyLog(paths["compliance_accuracy_log"], check_all_hex=True)
        with open(paths["compliance_accuracy_log"], "rb") as file:
            for entry in log:
                _entry(
                    entry.fields,
                    entry.ordinal,
                    file,
                    size,
                    dtype,
                    eos_token_id,
                    needs_first_token,
                    (first_token, eos, length),
                    official_state,
                )
        count, truncated = log.entries, log.truncated
    except LogError as exc:
        result.add(Check(CHECK_SAMPLES, Outcome.FAIL, str(exc)))
        result.official_notes = ["json.load fails on the accuracy log"]
        _run_checks(result, comp, scenario)
        return result
    if comp is None:
        _evidence_without_detail(result, official_state["issued"], test.thresholds.expected_samples)
    cut = f"{count} whole entries of the truncated log pass" if truncated else ""
    if needs_first_token:
        result.add(_check(CHECK_FIRST_TOKEN, first_token, "outputs whose first-token response is not their start", cut))
    else:
        result.add(Check(CHECK_FIRST_TOKEN, Outcome.SKIPPED, "Offline reports no first token"))
    if eos_unknown and not eos.failed:
        result.add(
            Check(
                CHECK_EOS,
                Outcome.NOT_CHECKABLE,
                f"the EOS token of {request.model_name} is not known (no model spec maps it; give --eos-token-id)",
                cause=Cause.MODEL_UNKNOWN,
            )
        )
    else:
        result.add(_check(CHECK_EOS, eos, f"outputs that end with more than one EOS ({eos_token_id})", cut))
    result.add(_check(CHECK_LENGTH, length, f"outputs whose token_count is not their number of {dtype} tokens", cut))
    _samples(result, comp, count, truncated, test.thresholds.expected_samples, official_state)
    _run_checks(result, comp, scenario)
    result.official_verdict, result.official_notes = official.test06_verdict(official_state, eos_token_id)
    return result


def _run_checks(result: Result, comp: DetailLog | None, scenario: str) -> None:
    """The run's scenario against the folder's, and the LoadGen errors it logged."""
    if comp is not None:
        check = runs.scenario(scenario, {"compliance": comp})
        if check is not None:
            result.add(check)
        inputs.log_errors(result, {"compliance": comp})


def _samples(
    result: Result, comp: DetailLog | None, count: int, truncated: bool, expected: int, official_state: dict
) -> None:
    """The samples check: the log whole and not empty; a finding, with its likely cause, when another number of
    samples than expected was logged."""
    figures = {"logged": count, "expected": expected, "truncated": truncated}
    if truncated:
        result.add(
            Check(
                CHECK_SAMPLES,
                Outcome.NOT_CHECKABLE,
                f"the accuracy log is truncated (the submission tools keep its first and last 4 KiB): {count} whole "
                "entries survive and were checked; TEST06 needs the whole log of the compliance run",
                figures,
                cause=Cause.TRUNCATED_LOG,
            )
        )
        official_state["crash"] = official_state["crash"] or "json.load fails on the truncated accuracy log"
        return
    if count == 0:
        result.add(Check(CHECK_SAMPLES, Outcome.FAIL, "the accuracy log has no entries: nothing was checked", figures))
        return
    result.add(Check(CHECK_SAMPLES, Outcome.PASS, "", figures))
    if count == expected:
        return
    applied = result.check(evidence.CHECK_APPLIED)
    issued = official_state["issued"]
    if applied is not None and applied.outcome is Outcome.FAIL:
        queries = comp.get("generated_query_count") if comp is not None else None
        run = (
            f"the run issued {queries} queries"
            if isinstance(queries, int)
            else f"the run issued {issued} samples or more"
        )
        why = (
            f"the TEST06 settings were not in effect ({run}), so LoadGen logged a random sample of about the "
            "sampling target rather than each sample of a 100-sample run"
        )
    elif comp is None:
        why = (
            "with the TEST06 settings in effect LoadGen logs each sample of its run; there is no detail log to tell "
            "why this one differs"
        )
    else:
        why = "the TEST06 settings are in effect, under which LoadGen logs each sample of the run"
    result.note(f"{count} samples were logged, {expected} expected: {why}", CHECK_SAMPLES, Kind.SAMPLES_SHORT)


def _check(name: str, tally: _Tally, what: str, cut: str = "") -> Check:
    """PASS, or FAIL with the tally's examples; NOT CHECKABLE when none failed among the entries of a truncated
    log (``cut`` says how many were checked)."""
    if not tally.failed and cut:
        return Check(name, Outcome.NOT_CHECKABLE, f"{cut}; the others cannot be checked", cause=Cause.TRUNCATED_LOG)
    if not tally.failed:
        return Check(name, Outcome.PASS)
    return Check(
        name,
        Outcome.FAIL,
        f"{tally.failed} {what}, e.g. {tally.examples[0]}",
        {"failed": tally.failed, "examples": tally.examples},
    )


def _entry(
    fields: dict[str, Any],
    ordinal: int,
    file: BinaryIO,
    size: int,
    dtype: str,
    eos_id: int,
    needs_first_token: bool,
    tallies: tuple[_Tally, _Tally, _Tally],
    state: dict,
) -> None:
    first_token, eos, length = tallies
    seq_id = fields.get("seq_id")
    if isinstance(seq_id, int) and not isinstance(seq_id, bool):
        state["issued"] = max(state["issued"], seq_id + 1)  # LoadGen numbers a run's samples from 0
    where = f"entry {ordinal} (qsl_idx {fields.get('qsl_idx')})"
    data = fields.get("data")
    if not isinstance(data, HexField) or data.problem or data.n_bytes % size:
        why = (
            "no 'data'"
            if not isinstance(data, HexField)
            else data.problem or f"{data.n_bytes} bytes is not a whole number of {dtype} tokens"
        )
        for tally in tallies[1:] + ((first_token,) if needs_first_token else ()):
            tally.fail(f"{where}: {why}")
        state["crash"] = state["crash"] or f"np.frombuffer raises on {where}"
        return
    n_tokens = data.n_bytes // size
    last = tokens.decode(data.last_bytes(2 * size), dtype)
    trailing = 0
    for token in reversed(last):
        if token != eos_id:
            break
        trailing += 1
    if trailing >= 2:
        eos.fail(f"{where} ends with {'only ' if n_tokens == trailing else ''}{trailing} or more EOS tokens")
    state["eos"] = state["eos"] and official.test06_eos_check(last, n_tokens, eos_id, state["eos_flag"])
    count = fields.get("token_count")
    if "token_count" not in fields:
        length.fail(f"{where}: no token_count (the run did not use token latencies)")
        state["crash"] = state["crash"] or "KeyError: 'token_count' in the sample length check (not caught)"
    elif not isinstance(count, int) or isinstance(count, bool) or count != n_tokens:
        length.fail(f"{where}: token_count {count!r}, {n_tokens} tokens in data")
        state["length"] = False
    if needs_first_token:
        _first_token(fields.get("token_data"), data, file, size, where, first_token, state)


def _first_token(
    token_data: Any, data: HexField, file: BinaryIO, size: int, where: str, tally: _Tally, state: dict
) -> None:
    if not isinstance(token_data, HexField):
        tally.fail(f"{where}: no token_data (the first-token response was not logged)")
        state["first"] = False  # the official check catches the exception and reports False
        return
    if token_data.problem or token_data.n_bytes % size:
        tally.fail(f"{where}: the first-token response is {token_data.problem or 'not whole tokens'}")
        state["first"] = False  # decoding raises inside the official check, which reports False
        return
    if token_data.length == 0:
        tally.fail(f"{where}: the first-token response is empty")
        return  # an empty first token passes the official check: zip() over nothing (docs/rules.md §3, item 12)
    file.seek(token_data.offset)
    first = file.read(min(token_data.length, 1 << 20))
    file.seek(data.offset)
    prefix = file.read(min(token_data.length, data.length))
    if token_data.length > data.length or first.upper() != prefix.upper():
        tally.fail(f"{where}: first-token response {first[:16].decode()} is not the start of the output")
        common = min(len(first), len(prefix))
        if first[:common].upper() != prefix[:common].upper():
            state["first"] = False


# -- rendering -----------------------------------------------------------------------------------------------------

_STATE = {
    Outcome.PASS: "True",
    Outcome.FAIL: "False",
    Outcome.SKIPPED: "Skipped",
    Outcome.NOT_CHECKABLE: "Not checkable",  # no line the checker accepts
}


def _render(result: Result) -> dict[str, str]:
    """verify_accuracy.txt with the exact lines the checker looks for (docs/rules.md §5.3)."""

    def state(name: str) -> str:
        check = result.check(name)
        return "False" if check is None else _STATE[check.outcome]

    lines = [
        f"First token check pass: {state(CHECK_FIRST_TOKEN)}",
        f"EOS check pass: {state(CHECK_EOS)}",
        f"Sample length check pass: {state(CHECK_LENGTH)}",
    ]
    if result.verdict == "PASS":
        lines.append("TEST06 verification complete")
    else:
        failed = result.verdict == "FAIL"
        lines.append("TEST06 verification failed" if failed else "TEST06 verification not checkable")
        shown = Outcome.FAIL if failed else Outcome.NOT_CHECKABLE
        lines += [f"reason: {c.name}: {c.reason}" for c in result.checks if c.outcome is shown]
    return {layout.VERIFY_ACCURACY: "\n".join(lines) + "\n"}


def _figures(data: Mapping[str, Any]) -> str:
    checks = {c["name"]: c for c in data.get("checks", [])}

    def state(name: str) -> str:
        outcome = checks.get(name, {}).get("outcome")
        return {o.value: word for o, word in _STATE.items()}.get(outcome, "?")

    samples = checks.get(CHECK_SAMPLES, {}).get("figures", {})
    return (
        f"first token {state(CHECK_FIRST_TOKEN)}, EOS {state(CHECK_EOS)}, length {state(CHECK_LENGTH)}, "
        f"{samples.get('logged', '?')}/{samples.get('expected', '?')} samples"
    )


def _check_detail(check: Check) -> str:
    if check.name == CHECK_SAMPLES and "logged" in check.figures:
        return f"{check.figures['logged']} of {check.figures['expected']} expected"
    return ""


VERIFIER = Verifier(
    name="TEST06",
    summary="LLM outputs: one trailing EOS, first token, token count",
    reference_runs=(),
    needs_scenario=True,
    text_files=(layout.VERIFY_ACCURACY,),
    copies={layout.TEST_ACCURACY_LOG: "compliance_accuracy_log"},  # no performance logs (docs/rules.md §2.3)
    options=(
        Option("eos_token_id", "--eos-token-id", "EOS token id (default: the model's, else 2)", type=int),
        tokens.LOG_DTYPE_OPTION,
    ),
    resolve=resolve,
    verify=verify,
    render=_render,
    figures=_figures,
    check_detail=_check_detail,
    harness_options=harness_options,
    harness_check=harness_check,
)
