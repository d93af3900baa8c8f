"""TEST06: consistency of LLM output: one trailing EOS, first token, token count (domain.md 2.3)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from compliance.logs import AccuracyLog, HexField, LogError
from compliance.spectypes import Model, TestSpec, loadgen_scenario
from compliance.verify import evidence, inputs, layout, official
from compliance.verify.result import Check, Outcome, Result

TOKEN_FORMATS = {"int16": "<h", "int32": "<i", "int64": "<q", "float32": "<f"}
CHECK_FIRST_TOKEN = "first token"
CHECK_EOS = "EOS"
CHECK_LENGTH = "sample length"
CHECK_SAMPLES = "samples logged"
OFFICIAL_DEFAULT_EOS = 2


@dataclass
class _Tally:
    """Failures of one token check, with a few examples."""

    failed: int = 0
    examples: list[str] = field(default_factory=list)

    def fail(self, example: str) -> None:
        self.failed += 1
        if len(self.examples) < 5:
            self.examples.append(example)


def verify(compliance_dir: str | Path, scenario: str, test: TestSpec, model: Model | None,
           eos_token_id: int, dtype: str) -> Result:
    """Verify a TEST06 compliance run's accuracy log.

    Raises:
        InputError: a required file is missing or unreadable.
    """
    comp_dir = inputs.compliance_folder(compliance_dir)
    paths = {"compliance_accuracy_log": inputs.required(comp_dir / layout.ACCURACY)}
    detail_path = comp_dir / layout.DETAIL
    if detail_path.is_file():
        paths["compliance_detail"] = inputs.required(detail_path)
    result = Result("TEST06", scenario=scenario, model=model.name if model else None, inputs=dict(paths))
    result.settings = {"eos_token_id": eos_token_id, "dtype": dtype, "expected_samples": test.thresholds.expected_samples}
    comp = inputs.detail(paths["compliance_detail"], result) if "compliance_detail" in paths else None
    if "compliance_detail" not in paths:
        # A published TEST06 folder keeps only the accuracy log; say that the evidence was not checked.
        result.add(Check(evidence.CHECK_APPLIED, Outcome.SKIPPED,
                         f"no {layout.DETAIL} beside the accuracy log: whether the audit config was in effect "
                         "could not be checked"))
    if comp is not None:
        result.add(evidence.check_applied(comp, test, model, scenario))
        if comp.scenario and comp.scenario != loadgen_scenario(scenario):
            result.add(Check("scenario", Outcome.FAIL, f"the run was made in {comp.scenario}, not {scenario}"))
    first_token, eos, length = _Tally(), _Tally(), _Tally()
    official_state = {"crash": "", "first": True, "eos": True, "length": True}
    size = struct.calcsize(TOKEN_FORMATS[dtype])
    needs_first_token = loadgen_scenario(scenario) != "Offline"
    try:
        log = AccuracyLog(paths["compliance_accuracy_log"], check_all_hex=True)
        with open(paths["compliance_accuracy_log"], "rb") as file:
            for entry in log:
                _entry(entry.fields, entry.ordinal, file, size, dtype, eos_token_id, needs_first_token,
                       (first_token, eos, length), official_state)
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
    if count == 0:
        result.add(Check(CHECK_SAMPLES, Outcome.FAIL, "the accuracy log has no entries: nothing was checked", figures))
    else:
        result.add(Check(CHECK_SAMPLES, Outcome.PASS, "", figures))
        if count < expected:
            result.note(f"{count} samples were logged, {expected} expected (LoadGen samples them at random)")
    if truncated:
        result.note("the accuracy log is truncated: only the entries around the cut were checked")
    _official(result, official_state, eos_token_id)
    return result


def _check(name: str, tally: _Tally, what: str) -> Check:
    if not tally.failed:
        return Check(name, Outcome.PASS)
    return Check(name, Outcome.FAIL, f"{tally.failed} {what}, e.g. {tally.examples[0]}", {"failed": tally.failed,
                                                                                        "examples": tally.examples})


def _tokens(raw: bytes, dtype: str) -> list[Any]:
    fmt = TOKEN_FORMATS[dtype]
    size = struct.calcsize(fmt)
    return [struct.unpack_from(fmt, raw, i)[0] for i in range(0, len(raw) - len(raw) % size, size)]


def _entry(fields: dict[str, Any], ordinal: int, file: BinaryIO, size: int, dtype: str, eos_id: int,
           needs_first_token: bool, tallies: tuple[_Tally, _Tally, _Tally], state: dict) -> None:
    first_token, eos, length = tallies
    where = f"entry {ordinal} (qsl_idx {fields.get('qsl_idx')})"
    data = fields.get("data")
    if not isinstance(data, HexField) or data.problem or data.n_bytes % size:
        why = ("no 'data'" if not isinstance(data, HexField) else data.problem
               or f"{data.n_bytes} bytes is not a whole number of {dtype} tokens")
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
    state["eos"] = state["eos"] and official.test06_eos_official(last, n_tokens, eos_id, eos_id != OFFICIAL_DEFAULT_EOS)
    count = fields.get("token_count")
    if "token_count" not in fields:
        length.fail(f"{where}: no token_count (the run did not use token latencies)")
        state["crash"] = state["crash"] or "KeyError: 'token_count' in the sample length check (not caught)"
    elif not isinstance(count, int) or isinstance(count, bool) or count != n_tokens:
        length.fail(f"{where}: token_count {count!r}, {n_tokens} tokens in data")
        state["length"] = False
    if needs_first_token:
        _first_token(fields.get("token_data"), data, file, size, where, first_token, state)


def _first_token(token_data: Any, data: HexField, file: BinaryIO, size: int, where: str, tally: _Tally,
                 state: dict) -> None:
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
        return  # an empty first token passes the official check: zip() over nothing (domain.md 3, item 12)
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
    if eos_id != OFFICIAL_DEFAULT_EOS:
        result.official_notes.append(f"with -e {eos_id} the official EOS check cannot fail (domain.md 3, item 12)")
