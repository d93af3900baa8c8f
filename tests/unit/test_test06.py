"""TEST06 on logs as real trees hold them: the token width read from the log, no detail log (its seq_id values
still tell a full-length run), truncated logs, open-division names, and bad detail logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.plan import load_specs
from compliance.verify import registry
from compliance.verify.base import Request
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

EFFECTIVE = {
    "effective_scenario": "Offline",
    "effective_test_mode": "PerformanceOnly",
    "effective_accuracy_log_rng_seed": w.AUDIT_SEED,
    "effective_accuracy_log_sampling_target": 100,
    "effective_min_duration_ms": 0,
    "effective_samples_per_query": 100,
    "effective_sample_concatenate_permutation": False,
}


def _log(count: int = 100, fmt: str = "<i", tokens: tuple[int, ...] = (5, 6, 2), seq: int = 0) -> str:
    return w.accuracy_log(
        w.accuracy_entry(seq + i, i, w.hexdata(tokens, fmt), token_count=len(tokens)) for i in range(count)
    )


def _verify(capsys, comp: Path, *extra: str, scenario: str = "Offline") -> tuple[int, dict, str]:
    argv = ["verify", "TEST06", "-c", str(comp), "-o", str(comp.parent / "out"), "-s", scenario]
    code = main([*argv, "--specs", str(SHIPPED_SPECS), *extra])
    captured = capsys.readouterr()
    path = comp.parent / "out/TEST06/verify.json"
    return code, (json.loads(path.read_text()) if path.exists() and code != 2 else {}), captured.out + captured.err


def _checks(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["checks"]}


def test_int64_tokens_are_read_as_the_log_shows_them(tmp_path: Path, capsys) -> None:
    # some harnesses log int64 tokens (review.md §2): read as the model's int32 they were token-count mismatches
    write_tree(tmp_path / "comp", {"mlperf_log_accuracy.json": _log(fmt="<q"), "mlperf_log_detail.txt": ""})
    os.remove(tmp_path / "comp/mlperf_log_detail.txt")
    code, data, out = _verify(capsys, tmp_path / "comp", "--model", "llama2-70b-99")
    assert _checks(data)["sample length"]["outcome"] == "PASS" and _checks(data)["EOS"]["outcome"] == "PASS", out
    assert data["settings"]["dtype"] == "int64" and "8 bytes per token" in data["settings"]["dtype_from"]
    code, data, _ = _verify(capsys, tmp_path / "comp", "--model", "llama2-70b-99", "--dtype", "int32")
    assert code == 1 and _checks(data)["sample length"]["outcome"] == "FAIL"  # an option still decides


def test_without_a_detail_log_the_evidence_is_not_checkable_unless_the_seq_ids_tell(tmp_path: Path, capsys) -> None:
    write_tree(tmp_path / "short", {"mlperf_log_accuracy.json": _log()})
    code, data, _ = _verify(capsys, tmp_path / "short", "--model", "llama2-70b-99")
    evidence = _checks(data)["audit config in effect"]
    assert (code, data["verdict"], evidence["cause"]) == (1, "NOT CHECKABLE", "no detail log")
    # 93 samples of a run that issued 300,000: the TEST06 settings were not in effect (review.md §4: 8 folders)
    write_tree(tmp_path / "long", {"mlperf_log_accuracy.json": _log(93, seq=300_000)})
    code, data, _ = _verify(capsys, tmp_path / "long", "--model", "llama2-70b-99")
    evidence = _checks(data)["audit config in effect"]
    assert (code, data["verdict"], evidence["outcome"]) == (1, "FAIL", "FAIL")
    assert "the run issued at least 300093 samples" in evidence["reason"]
    note = next(f for f in data["findings"] if f.get("kind") == "fewer samples logged")["message"]
    assert "were not in effect" in note and "random sample" in note


def test_a_detail_log_with_a_full_length_run_explains_the_sample_count(tmp_path: Path, capsys) -> None:
    long_run = {**EFFECTIVE, "effective_min_duration_ms": 600000, "generated_query_count": 82000}
    write_tree(
        tmp_path / "comp",
        {"mlperf_log_accuracy.json": _log(104), "mlperf_log_detail.txt": w.detail_log(long_run, audit=True)},
    )
    code, data, _ = _verify(capsys, tmp_path / "comp", "--model", "llama2-70b-99")
    assert code == 1 and _checks(data)["audit config in effect"]["outcome"] == "FAIL"
    note = next(f for f in data["findings"] if f.get("kind") == "fewer samples logged")["message"]
    assert "104 samples were logged, 100 expected" in note and "the run issued 82000 queries" in note
    assert "LoadGen samples them at random" not in json.dumps(data)


def test_a_truncated_log_is_not_checkable_unless_a_surviving_entry_fails(tmp_path: Path, capsys) -> None:
    long_outputs = (*range(100, 140), 2)  # 41 tokens: 100 entries make a log of about 40 KB
    write_tree(tmp_path / "comp", {"mlperf_log_accuracy.json": w.truncate(_log(tokens=long_outputs), crlf=True)})
    code, data, _ = _verify(capsys, tmp_path / "comp", "--model", "llama2-70b-99")
    checks = _checks(data)
    assert data["verdict"] == "NOT CHECKABLE" and checks["samples logged"]["cause"] == "truncated accuracy log"
    assert (
        checks["EOS"]["outcome"] == "NOT CHECKABLE"
        and "whole entries of the truncated log pass" in checks["EOS"]["reason"]
    )
    text = (tmp_path / "out/TEST06/verify_accuracy.txt").read_text().splitlines()
    assert "EOS check pass: Not checkable" in text and "TEST06 verification not checkable" in text
    write_tree(tmp_path / "bad", {"mlperf_log_accuracy.json": w.truncate(_log(tokens=(*long_outputs, 2)))})
    code, data, _ = _verify(capsys, tmp_path / "bad", "--model", "llama2-70b-99")
    assert (code, data["verdict"], _checks(data)["EOS"]["outcome"]) == (1, "FAIL", "FAIL")


def test_an_open_division_name_takes_its_familys_tokens_or_leaves_eos_not_checkable(tmp_path: Path, capsys) -> None:
    eot = 128009
    write_tree(tmp_path / "comp", {"mlperf_log_accuracy.json": _log(tokens=(5, 6, eot, eot))})
    code, data, out = _verify(capsys, tmp_path / "comp", "--model", "llama3_1-70b-fp8_dyn")
    assert _checks(data)["EOS"]["outcome"] == "FAIL" and data["settings"]["eos_token_id"] == eot, out
    assert any(f.get("kind") == "model mapped" and "llama3_1 family" in f["message"] for f in data["findings"])
    specs = load_specs(SHIPPED_SPECS)
    verifier, test = registry.get("TEST06"), specs.tests["TEST06"]
    request = Request(
        test, None, tmp_path / "comp", None, "Offline", verifier.resolve(test, None, {}), model_name="qwen9-custom"
    )
    eos = verifier.verify(request).check("EOS")
    assert eos is not None and eos.outcome.value == "NOT CHECKABLE" and eos.cause == "model facts unknown"


def test_a_name_of_no_known_family_is_refused_as_a_typo(tmp_path: Path, capsys) -> None:
    write_tree(tmp_path / "comp", {"mlperf_log_accuracy.json": _log()})
    code, _, err = _verify(capsys, tmp_path / "comp", "--model", "lama2-70b-99")
    assert code == 2 and "unknown model 'lama2-70b-99' (did you mean 'llama2-70b-99'?)" in err


@pytest.mark.parametrize("kind", ["folder", "loop"])
def test_a_detail_log_that_is_a_folder_or_a_loop_is_bad_input(tmp_path: Path, capsys, kind: str) -> None:
    # issue 24 item 7: TEST06 passed, taking it for an absent detail log
    write_tree(tmp_path / "comp", {"mlperf_log_accuracy.json": _log()})
    detail = tmp_path / "comp/mlperf_log_detail.txt"
    if kind == "folder":
        detail.mkdir()
    else:
        detail.symlink_to(detail)
    code, _, err = _verify(capsys, tmp_path / "comp", "--model", "llama2-70b-99")
    assert code == 2 and str(detail) in err and ("is a folder" in err or "loop of links" in err)


@pytest.mark.parametrize("value", ['["Offline"]', "7"])
def test_a_detail_log_naming_no_scenario_fails(tmp_path: Path, capsys, value: str) -> None:
    detail = w.detail_log(EFFECTIVE, audit=True).replace('"value": "Offline"', f'"value": {value}', 1)
    write_tree(tmp_path / "comp", {"mlperf_log_accuracy.json": _log(), "mlperf_log_detail.txt": detail})
    code, data, _ = _verify(capsys, tmp_path / "comp", "--model", "llama2-70b-99")
    assert code == 1 and "names no scenario LoadGen knows" in _checks(data)["scenario"]["reason"]


def test_error_invalid_config_after_the_settings_is_said(tmp_path: Path, capsys) -> None:
    # issue 24 item 7: the audit settings applied, an error_invalid_config logged after them, and not a word
    detail = w.detail_log(EFFECTIVE, audit=True, errors=[("error_invalid_config", "Multiple conf files are used")])
    write_tree(tmp_path / "comp", {"mlperf_log_accuracy.json": _log(), "mlperf_log_detail.txt": detail})
    code, data, _ = _verify(capsys, tmp_path / "comp", "--model", "llama2-70b-99")
    kinds = {f.get("kind"): f["message"] for f in data["findings"]}
    assert code == 0 and "Multiple conf files are used" in kinds["config error, settings applied"]
    assert "LoadGen errors" in kinds
