"""TEST06: consistency of LLM output: one trailing EOS, first token, token count (docs/rules.md §2.3)."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from compliance import layout
from compliance.logs import LogError
from compliance.logs.accuracy import AccuracyLog, HexField
from compliance.specs.types import Model, TestSpec, loadgen_scenario
from compliance.verify import evidence, inputs
from compliance.verify.base import Option, Request, Verifier
from compliance.verify.result import Check, Outcome, Result

TOKEN_FORMATS = {"int16": "<h", "int32": "<i", "int64": "<q", "float32": "<f"}
CHECK_FIRST_TOKEN = "first token"
CHECK_EOS = "EOS"
CHECK_LENGTH = "sample length"
CHECK_SAMPLES = "samples logged"
#: The official script's defaults, used when no model is given (docs/rules.md §2.3): EOS id 2, int32 tokens
OFFICIAL_EOS = 2
OFFICIAL_DTYPE = "int32"
DTYPE_OPTION = Option(
    "dtype", "--dtype", "token type (default: the model's, else int32)", choices=tuple(sorted(TOKEN_FORMATS))
)


@dataclass
class _Tally:
    """Failures of one token check, with a few examples."""

    failed: int = 0
    examples: list[str] = field(default_factory=list)

    def fail(self, example: str) -> None:
        self.failed += 1
        if len(self.examples) < 5:
            self.examples.append(example)


def resolve(test: TestSpec, model: Model | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """eos_token_id and dtype: given, else the model's tokens, else the official script's defaults."""
    tokens = model.tokens if model else None
    eos = given.get("eos_token_id")
    eos = eos if eos is not None else (tokens.eos_token_id if tokens else OFFICIAL_EOS)
    # the official script is given -e when the id was given here or is not its default: its EOS check then
    # cannot fail (docs/rules.md §3, item 12)
    return {
        "eos_token_id": eos,
        "dtype": given.get("dtype") or (tokens.dtype if tokens else OFFICIAL_DTYPE),
        "official_eos_flag": given.get("eos_token_id") is not None or eos != OFFICIAL_EOS,
    }


def verify(request: Request) -> Result:
    """Verify a TEST06 compliance run's accuracy log (options: ``eos_token_id``, ``dtype``).

    Raises:
        InputError: a required file is missing or unreadable.
    """
    test, model, scenario = request.test, request.model, request.scenario
    eos_token_id, dtype = request.options["eos_token_id"], request.options["dtype"]
    eos_flag = bool(request.options.get("official_eos_flag", eos_token_id != OFFICIAL_EOS))
    assert scenario is not None
    comp_dir = inputs.compliance_folder(request.compliance_dir)
    paths = {"compliance_accuracy_log": inputs.required(comp_dir / layout.ACCURACY)}
    detail_path = comp_dir / layout.DETAIL
    if detail_path.is_file():
        paths["compliance_detail"] = inputs.required(detail_path)
    result = Result("TEST06", scenario=scenario, model=model.name if model else None, inputs=dict(paths))
    result.settings = {
        "eos_token_id": eos_token_id,
        "dtype": dtype,
        "expected_samples": test.thresholds.expected_samples,
    }
    comp = inputs.detail(paths["compliance_detail"], result) if "compliance_detail" in paths else None
    if "compliance_detail" not in paths:
        # A published TEST06 folder keeps only the accuracy log; say that the evidence was not checked.
        result.add(
            Check(
                evidence.CHECK_APPLIED,
                Outcome.SKIPPED,
                f"no {layout.DETAIL} beside the accuracy log: whether the audit config was in effect "
                "could not be checked",
            )
        )
    if comp is not None:
        result.add(evidence.check_applied(comp, test, model, scenario))
        if comp.scenario and comp.scenario != loadgen_scenario(scenario):
            result.add(Check("scenario", Outcome.FAIL, f"the run was made in {comp.scenario}, not {scenario}"))
    first_token, eos, length = _Tally(), _Tally(), _Tally()
    official_state = {"crash": "", "first": True, "eos": True, "length": True, "eos_flag": eos_flag}
    size = struct.calcsize(TOKEN_FORMATS[dtype])
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
        return result
    if needs_first_token:
        result.add(_check(CHECK_FIRST_TOKEN, first_token, "outputs whose first-token response is not their start"))
    else:
        result.add(Check(CHECK_FIRST_TOKEN, Outcome.SKIPPED, "Offline reports no first token"))
    result.add(_check(CHECK_EOS, eos, f"outputs that end with more than one EOS ({eos_token_id})"))
    result.add(_check(CHECK_LENGTH, length, "outputs whose token_count is not their number of tokens"))
    expected = test.thresholds.expected_samples
    figures = {"logged": count, "expected": expected, "truncated": truncated}
    if truncated:
        result.add(
            Check(
                CHECK_SAMPLES,
                Outcome.FAIL,
                "the accuracy log is truncated ('...' in the middle, as the "
                "submission tools cut logs): TEST06 needs the whole log of the compliance run",
                figures,
            )
        )
        official_state["crash"] = official_state["crash"] or "json.load fails on the truncated accuracy log"
    elif count == 0:
        result.add(Check(CHECK_SAMPLES, Outcome.FAIL, "the accuracy log has no entries: nothing was checked", figures))
    else:
        result.add(Check(CHECK_SAMPLES, Outcome.PASS, "", figures))
        if count < expected:
            result.note(f"{count} samples were logged, {expected} expected (LoadGen samples them at random)")
    _official(result, official_state, eos_token_id)
    return result


def _check(name: str, tally: _Tally, what: str) -> Check:
    if not tally.failed:
        return Check(name, Outcome.PASS)
    return Check(
        name,
        Outcome.FAIL,
        f"{tally.failed} {what}, e.g. {tally.examples[0]}",
        {"failed": tally.failed, "examples": tally.examples},
    )


def _tokens(raw: bytes, dtype: str) -> list[Any]:
    fmt = TOKEN_FORMATS[dtype]
    size = struct.calcsize(fmt)
    return [struct.unpack_from(fmt, raw, i)[0] for i in range(0, len(raw) - len(raw) % size, size)]


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
    last = _tokens(data.last_bytes(2 * size), dtype)
    trailing = 0
    for token in reversed(last):
        if token != eos_id:
            break
        trailing += 1
    if trailing >= 2:
        eos.fail(f"{where} ends with {'only ' if n_tokens == trailing else ''}{trailing} or more EOS tokens")
    state["eos"] = state["eos"] and official_eos_check(last, n_tokens, eos_id, state["eos_flag"])
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


def _official(result: Result, state: dict, eos_id: int) -> None:
    """The official script's verdict on the same log."""
    if state["crash"]:
        result.official_verdict = "FAIL"
        result.official_notes = [f"the script crashes: {state['crash']}"]
        return
    passed = state["first"] and state["eos"] and state["length"]
    result.official_verdict = "PASS" if passed else "FAIL"
    result.official_notes = [f"first token {state['first']}, EOS {state['eos']}, sample length {state['length']}"]
    if state["eos_flag"]:
        result.official_notes.append(f"with -e {eos_id} the official EOS check cannot fail (docs/rules.md §3, item 12)")


def official_eos_check(last_tokens: list[int], total: int, eos: int, eos_given: bool) -> bool:
    """The official EOS check: walk back from the last token while tokens equal EOS, failing at the second one.

    ``while i > 0`` never looks at index 0, so ``[EOS, EOS]`` passes; with ``-e`` given the id is a string that
    never equals a token, so the check cannot fail (docs/rules.md §3, item 12). ``last_tokens`` are the last tokens of
    an output of ``total`` tokens.
    """
    if eos_given:
        return True
    count, i = 0, total - 1
    offset = total - len(last_tokens)
    while i > 0 and i >= offset and last_tokens[i - offset] == eos:
        count += 1
        if count >= 2:
            return False
        i -= 1
    return True


# -- rendering -----------------------------------------------------------------------------------------------------

_STATE = {Outcome.PASS: "True", Outcome.FAIL: "False", Outcome.SKIPPED: "Skipped"}


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
        lines.append("TEST06 verification failed")
        lines += [f"reason: {c.name}: {c.reason}" for c in result.checks if c.outcome is Outcome.FAIL]
    return {layout.VERIFY_ACCURACY: "\n".join(lines) + "\n"}


def _figures(data: Mapping[str, Any]) -> str:
    checks = {c["name"]: c for c in data.get("checks", [])}

    def state(name: str) -> str:
        return {"PASS": "True", "FAIL": "False", "SKIPPED": "Skipped"}.get(checks.get(name, {}).get("outcome"), "?")

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
        DTYPE_OPTION,
    ),
    resolve=resolve,
    verify=verify,
    render=_render,
    figures=_figures,
    check_detail=_check_detail,
)
