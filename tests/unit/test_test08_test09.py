"""TEST08 and TEST09 on logs written by the test log writer: exact figures, the official scripts' verdicts on the
same logs (docs/rules.md §3, items 30-45), and bad input (a clear message naming the file, never a traceback)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.verify.tests.test08 import normalized_entropy
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

SPECS = ["--specs", str(SHIPPED_SPECS)]
SEED = 720381539243781796
RAG_SAMPLES = 824  # e2e-rag-qna: mean length within 246.43-301.19


def _verify(capsys, test: str, *argv: str) -> tuple[int, dict, str]:
    out = Path("out")
    code = main(["verify", test, *argv, "-o", str(out), *SPECS])
    printed = capsys.readouterr()
    assert code in (0, 1), printed.err
    return code, json.loads((out / test / "verify.json").read_text()), printed.out


def _bad_input(capsys, test: str, *argv: str) -> str:
    code = main(["verify", test, *argv, "-o", "out", *SPECS])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    return err


def _failed(data: dict) -> dict[str, str]:
    return {c["name"]: c["reason"] for c in data["checks"] if c["outcome"] == "FAIL"}


def _figures(data: dict, check: str) -> dict:
    return next(c for c in data["checks"] if c["name"] == check)["figures"]


# -- TEST09 ---------------------------------------------------------------------------------------------------------


def _t9_detail(scenario: str = "Offline", samples: int = RAG_SAMPLES) -> str:
    values = {
        "effective_scenario": scenario,
        "effective_test_mode": "PerformanceOnly",
        "effective_accuracy_log_rng_seed": SEED,
        "effective_accuracy_log_sampling_target": 10000,
        "effective_min_duration_ms": 0,
        "effective_sample_concatenate_permutation": False,
        "qsl_reported_total_count": samples,
    }
    values["effective_samples_per_query" if scenario == "Offline" else "effective_min_query_count"] = samples
    return w.detail_log(values, audit=True)


def _t9_run(root: Path, entries: list[str], scenario: str = "Offline", log: str | None = None) -> Path:
    write_tree(
        root,
        {
            "mlperf_log_accuracy.json": w.accuracy_log(entries) if log is None else log,
            "mlperf_log_detail.txt": _t9_detail(scenario),
            "mlperf_log_summary.txt": w.summary_log(scenario, 100.0),
        },
    )
    return root


def _tokens(qsl_idx: int, length: int, fmt: str = "<i") -> str:
    return w.hexdata([100 + (qsl_idx + i) % 50 for i in range(length)], fmt)


def _honest(n: int = RAG_SAMPLES, length: int = 274) -> list[str]:
    return [w.accuracy_entry(i, i, _tokens(i, length), token_count=length) for i in range(n)]


def test_test09_honest_rag_log_passes_with_exact_statistics(tmp_path: Path, capsys) -> None:
    comp = _t9_run(tmp_path / "c", _honest())
    code, data, printed = _verify(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna")
    assert (code, data["official_verdict"]) == (0, "PASS"), _failed(data)
    mean = _figures(data, "mean output length")
    assert (mean["samples"], mean["mean"], mean["low"], mean["high"]) == (RAG_SAMPLES, 274.0, 246.43, 301.19)
    text = Path("out/TEST09/verify_output_len.txt").read_text()
    assert text.rstrip().splitlines()[-1] == "TEST PASS" and "Mean output tokens: 274.00" in text
    assert Path("out/TEST09/accuracy/mlperf_log_accuracy.json").is_file()
    assert Path("out/TEST09/performance/run_1/mlperf_log_detail.txt").is_file()


def test_test09_half_length_int64_outputs_fail_where_the_official_script_passes(tmp_path: Path, capsys) -> None:
    """137 int64 tokens are the bytes of 274 int32 ones: token_count (137) gives them away (item 40)."""
    entries = [w.accuracy_entry(i, i, _tokens(i, 137, "<q"), token_count=137) for i in range(RAG_SAMPLES)]
    comp = _t9_run(tmp_path / "c", entries)
    code, data, _ = _verify(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna")
    assert (code, data["official_verdict"]) == (1, "PASS")
    assert "824 outputs hold another number of int32 tokens than their token_count" in _failed(data)["token counts"]
    # read as int64 (the option, as for TEST06) they are whole and counted right: the mean is too short
    code, data, _ = _verify(
        capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna", "--dtype", "int64"
    )
    assert code == 1 and set(_failed(data)) == {"mean output length"}
    assert "137.00 is below [246.43, 301.19]" in _failed(data)["mean output length"]


def test_test09_ten_entries_fail_coverage_where_the_official_script_passes(tmp_path: Path, capsys) -> None:
    comp = _t9_run(tmp_path / "c", _honest(10))
    code, data, _ = _verify(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna")
    assert (code, data["official_verdict"]) == (1, "PASS")
    assert set(_failed(data)) == {"samples covered"}
    assert "814 of the 824 samples are not in the log" in _failed(data)["samples covered"]
    text = Path("out/TEST09/verify_output_len.txt").read_text()
    assert "TEST PASS" not in text and text.rstrip().splitlines()[-1] == "TEST FAIL"


def test_test09_duplicates_and_foreign_samples_fail(tmp_path: Path, capsys) -> None:
    entries = _honest()[:-2] + [w.accuracy_entry(900, 5, _tokens(5, 274), token_count=274)]
    entries += [w.accuracy_entry(901, 824, _tokens(1, 274), token_count=274)]
    entries += [w.accuracy_entry(902, True, _tokens(1, 274), token_count=274)]
    comp = _t9_run(tmp_path / "c", entries)
    code, data, _ = _verify(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna")
    assert code == 1
    reason = _failed(data)["samples covered"]
    assert "2 of the 824 samples are not in the log" in reason and "1 entries repeat a sample" in reason
    assert "2 entries are of no sample of the dataset" in reason


def test_test09_first_token_logged_apart_is_counted(tmp_path: Path, capsys) -> None:
    """data holds all but the first token, token_data the first, token_count both (item 43; the reference gpt-oss
    harness logs so in Server, the log is Offline here because e2e-rag-qna is submitted in Offline only)."""
    entries = [
        w.accuracy_entry(i, i, _tokens(i, 273), token_data=_tokens(i, 1), token_count=274) for i in range(RAG_SAMPLES)
    ]
    comp = _t9_run(tmp_path / "c", entries)
    code, data, _ = _verify(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna")
    assert code == 0, _failed(data)
    assert _figures(data, "mean output length")["mean"] == 274.0
    assert _figures(data, "token counts")["first_token_apart"] == RAG_SAMPLES
    assert "entries as 4-byte tokens: 273.00" in data["official_notes"][0]  # one short per sample


def test_test09_false_token_count_and_bad_data_fail(tmp_path: Path, capsys) -> None:
    entries = _honest()
    entries[3] = w.accuracy_entry(3, 3, _tokens(3, 274), token_count=5)
    entries[4] = w.accuracy_entry(4, 4, "ZZ" + _tokens(4, 274)[2:], token_count=274)
    entries[5] = w.accuracy_entry(5, 5, _tokens(5, 274)[:-2], token_count=274)
    comp = _t9_run(tmp_path / "c", entries)
    code, data, _ = _verify(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna")
    reason = _failed(data)["token counts"]
    assert code == 1 and "2 outputs are not whole int32 tokens" in reason
    assert "1 outputs hold another number of int32 tokens than their token_count" in reason


@pytest.mark.parametrize(
    ("log", "words"),
    [
        ("{}", "not a JSON array"),
        ("", "empty file"),
        ('[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "0100', "ends inside a string"),
    ],
)
def test_test09_unreadable_logs_fail_naming_the_file(tmp_path: Path, capsys, log: str, words: str) -> None:
    comp = _t9_run(tmp_path / "c", [], log=log)
    code, data, _ = _verify(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna")
    reason = _failed(data)["samples covered"]
    assert code == 1 and words in reason
    assert str(comp / "mlperf_log_accuracy.json") in reason


def test_test09_on_a_log_the_submission_tools_cut_is_not_checkable(tmp_path: Path, capsys) -> None:
    """A published TEST09 folder after the mandatory truncation (docs/rules.md §8.1): its coverage and mean need the
    whole log, so they are NOT CHECKABLE (cause: the truncated log), never a failure of the run."""
    comp = _t9_run(tmp_path / "c", [], log=w.truncate(w.accuracy_log(_honest())))
    code, data, _ = _verify(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna")
    checks = {c["name"]: c for c in data["checks"]}
    for name in ("samples covered", "mean output length"):
        assert checks[name]["outcome"] == "NOT CHECKABLE" and checks[name]["cause"] == "truncated accuracy log"
    assert data["verdict"] == "NOT CHECKABLE" and _failed(data) == {}


def test_test09_bad_arguments_are_bad_input(tmp_path: Path, capsys) -> None:
    comp = _t9_run(tmp_path / "c", _honest(3))
    assert "TEST09 needs --model" in _bad_input(capsys, "TEST09", "-c", str(comp), "-s", "Offline")
    err = _bad_input(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "resnet")
    assert "model resnet has no TEST09" in err
    (comp / "mlperf_log_accuracy.json").unlink()
    err = _bad_input(capsys, "TEST09", "-c", str(comp), "-s", "Offline", "--model", "e2e-rag-qna")
    assert f"{comp / 'mlperf_log_accuracy.json'}: no such file" in err


# -- TEST08 ---------------------------------------------------------------------------------------------------------

N_SAMPLES = 40


def _n(q: int) -> int:
    return 4 + q % 5


def _preds(q: int) -> list[float]:
    return [0.1 + 0.8 * ((q * 7 + j * 3) % 11) / 11 for j in range(_n(q))]


def _acc_values(q: int, key: tuple[int, int] | None = None, weight: float = 1.0) -> list[float]:
    n = _n(q)
    ts, qi = key or (q // 8, q % 8)
    labels = [1.0 if (q + j) % 3 == 0 else 0.0 for j in range(n)]
    return [ts, qi, *_preds(q), *labels, *([weight] * n), n]


def _t8_detail(issued: int) -> str:
    values = {
        "effective_scenario": "Offline",
        "effective_test_mode": "PerformanceOnly",
        "effective_accuracy_log_rng_seed": SEED,
        "effective_accuracy_log_sampling_target": 4096,
        "generated_query_count": 1,
        "generated_samples_per_query": issued,
    }
    return w.detail_log(values, audit=True)


def _t8(
    root: Path,
    perf: list[tuple[int, list[float]]],
    acc: dict[int, list[float]] | None = None,
    issued: int = N_SAMPLES,
    perf_log: str | None = None,
) -> tuple[Path, Path]:
    """(results dir, compliance dir): ``perf`` is (qsl_idx, data) per compliance entry."""
    acc = acc if acc is not None else {q: _acc_values(q) for q in range(N_SAMPLES)}
    acc_log = w.accuracy_log(w.accuracy_entry(i, q, w.hexdata(v, "<f")) for i, (q, v) in enumerate(acc.items()))
    perf_text = w.accuracy_log(w.accuracy_entry(i, q, w.hexdata(v, "<f")) for i, (q, v) in enumerate(perf))
    write_tree(root / "res", {"accuracy": {"mlperf_log_accuracy.json": acc_log}})
    write_tree(
        root / "comp",
        {
            "mlperf_log_accuracy.json": perf_text if perf_log is None else perf_log,
            "mlperf_log_detail.txt": _t8_detail(issued),
            "mlperf_log_summary.txt": w.summary_log("Offline", 100.0),
        },
    )
    return root / "res", root / "comp"


def _perf(q: int, preds: list[float] | None = None) -> tuple[int, list[float]]:
    return q, [q // 8, q % 8, *(preds if preds is not None else _preds(q))]


def _t8_verify(capsys, dirs: tuple[Path, Path]) -> tuple[int, dict]:
    code, data, _ = _verify(capsys, "TEST08", "-r", str(dirs[0]), "-c", str(dirs[1]), "--model", "dlrm-v3")
    return code, data


def test_normalized_entropy_of_a_perfect_and_a_constant_predictor() -> None:
    labels, weights = [1.0, 0.0, 1.0, 0.0], [1.0] * 4
    constant = normalized_entropy([0.5] * 4, labels, weights)
    assert constant is not None and math.isclose(constant, 1.0, rel_tol=1e-6)  # the mean label: NE 1
    perfect = normalized_entropy([1.0, 0.0, 1.0, 0.0], labels, weights)
    assert perfect is not None and perfect < 1e-5
    assert normalized_entropy([0.3] * 4, labels, [0.0] * 4) is None


def test_test08_honest_passes_and_writes_the_verdict_last(tmp_path: Path, capsys) -> None:
    code, data = _t8_verify(capsys, _t8(tmp_path, [_perf(q) for q in range(N_SAMPLES)] + [_perf(3)]))
    assert (code, data["official_verdict"]) == (0, "PASS"), _failed(data)
    f = _figures(data, "matched count")
    assert (f["matched"], f["minimum"], f["expected"], f["compliance_entries"]) == (41, 20, 40, 41)
    lines = Path("out/TEST08/verify_accuracy.txt").read_text().rstrip().splitlines()
    assert lines[-1] == "TEST PASS" and "num_matched = 41" in lines and "num_ne_mismatch = 0" in lines


def test_test08_nan_predictions_fail_where_the_official_script_passes(tmp_path: Path, capsys) -> None:
    perf = [_perf(q, [math.nan] * _n(q) if q % 4 == 0 else None) for q in range(N_SAMPLES)]
    code, data = _t8_verify(capsys, _t8(tmp_path, perf))
    assert (code, data["official_verdict"]) == (1, "PASS")
    assert "10 of 40 matched samples differ" in _failed(data)["normalized entropy"]
    assert "NaN" in _failed(data)["normalized entropy"]
    assert Path("out/TEST08/verify_accuracy.txt").read_text().rstrip().splitlines()[-1] == "TEST FAIL"


def test_test08_a_single_matched_entry_is_too_few(tmp_path: Path, capsys) -> None:
    code, data = _t8_verify(capsys, _t8(tmp_path, [_perf(7)]))
    assert (code, data["official_verdict"]) == (1, "PASS")
    assert set(_failed(data)) == {"matched count"}
    assert "1 matched entries, fewer than 20 (50% of the 40 responses" in _failed(data)["matched count"]


def test_test08_one_key_for_every_response_fails(tmp_path: Path, capsys) -> None:
    """A SUT that answers every query with sample 0's key and predictions (item 32)."""
    perf = [(q, [0, 0, *_preds(0)]) for q in range(N_SAMPLES)]
    code, data = _t8_verify(capsys, _t8(tmp_path, perf))
    assert (code, data["official_verdict"]) == (1, "PASS")
    assert "39 with inconsistent keys" in _failed(data)["keys matched"]


def test_test08_zero_weight_samples_are_compared_by_predictions(tmp_path: Path, capsys) -> None:
    acc = {q: _acc_values(q, weight=0.0 if q == 5 else 1.0) for q in range(N_SAMPLES)}
    perf = [_perf(q, [0.99] * _n(q) if q == 5 else None) for q in range(N_SAMPLES)]
    code, data = _t8_verify(capsys, _t8(tmp_path, perf, acc))
    assert (code, data["official_verdict"]) == (1, "PASS")
    assert "weight 0, predictions differ" in _failed(data)["normalized entropy"]


def test_test08_small_differences_within_the_tolerance_pass(tmp_path: Path, capsys) -> None:
    perf = [_perf(q, [p * (1 + 1e-5) for p in _preds(q)]) for q in range(N_SAMPLES)]
    code, data = _t8_verify(capsys, _t8(tmp_path, perf))
    assert (code, data["official_verdict"]) == (0, "PASS"), _failed(data)
    perf = [_perf(q, [min(p * 1.05, 0.99) for p in _preds(q)]) for q in range(N_SAMPLES)]
    code, data = _t8_verify(capsys, _t8(tmp_path / "b", perf))
    assert (code, data["official_verdict"]) == (1, "FAIL")


def test_test08_keys_above_2_24_are_not_exact(tmp_path: Path, capsys) -> None:
    acc = {q: _acc_values(q) for q in range(N_SAMPLES)}
    acc[3] = _acc_values(3, key=(0, 16777217))
    code, data = _t8_verify(capsys, _t8(tmp_path, [_perf(q) for q in range(N_SAMPLES)], acc))
    assert code == 1
    assert "is not two integers in [0, 2^24)" in _failed(data)["entries"]
    assert "no accuracy entry has key (0, 3)" in _failed(data)["keys matched"]


def test_test08_ambiguous_accuracy_keys_fail(tmp_path: Path, capsys) -> None:
    acc = {q: _acc_values(q) for q in range(N_SAMPLES)}
    acc[9] = _acc_values(9, key=(0, 1))  # sample 9 logged with sample 1's key
    code, data = _t8_verify(capsys, _t8(tmp_path, [_perf(q) for q in range(N_SAMPLES)], acc))
    reason = _failed(data)["keys matched"]
    assert code == 1 and "1 compliance entries unmatched" in reason and "1 ambiguous accuracy entries" in reason


def test_test08_keys_at_other_qsl_idx_are_found_in_the_whole_log(tmp_path: Path, capsys) -> None:
    """The same keys, other sample numbers in the compliance run: matched by key, as the official script does."""
    perf = [(q + 1, [q // 8, q % 8, *_preds(q)]) for q in range(0, N_SAMPLES, 2)]
    code, data = _t8_verify(capsys, _t8(tmp_path, perf, issued=N_SAMPLES // 2))
    assert (code, data["official_verdict"]) == (0, "PASS"), _failed(data)
    assert any("the whole log was read" in f["message"] for f in data["findings"])


def test_test08_prediction_count_mismatch_fails_where_the_official_script_crashes(tmp_path: Path, capsys) -> None:
    perf = [_perf(q, _preds(q) + [0.5] if q == 2 else None) for q in range(N_SAMPLES)]
    code, data = _t8_verify(capsys, _t8(tmp_path, perf))
    assert (code, data["official_verdict"]) == (1, "FAIL")
    assert "predictions for the accuracy run's" in _failed(data)["entries"]
    assert "cannot broadcast" in data["official_notes"][0]


@pytest.mark.parametrize(
    ("log", "words"),
    [
        ("{}", "not a JSON array"),
        ("[\n", "the file ends"),
        ('[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "0000803F00000000" }\n]\n', "fewer than 3"),
        ('[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "XYZ0" }\n]\n', "non-hex character"),
    ],
)
def test_test08_unreadable_compliance_logs_fail_naming_the_problem(
    tmp_path: Path, capsys, log: str, words: str
) -> None:
    code, data = _t8_verify(capsys, _t8(tmp_path, [], perf_log=log))
    assert code == 1 and data["official_verdict"] == "FAIL"
    reasons = " ".join(_failed(data).values())
    assert words in reasons
    if words in ("not a JSON array", "the file ends"):
        assert str(tmp_path / "comp" / "mlperf_log_accuracy.json") in reasons


def test_test08_missing_accuracy_run_is_bad_input(tmp_path: Path, capsys) -> None:
    res, comp = _t8(tmp_path, [_perf(1)])
    (res / "accuracy" / "mlperf_log_accuracy.json").unlink()
    err = _bad_input(capsys, "TEST08", "-r", str(res), "-c", str(comp), "--model", "dlrm-v3")
    assert f"{res / 'accuracy' / 'mlperf_log_accuracy.json'}: no such file" in err


def test_test08_compliance_problems_survive_the_whole_log_pass(tmp_path: Path, capsys) -> None:
    """A malformed compliance entry is still reported when the keys send the verifier through the whole log."""
    perf = [(q + 1, [q // 8, q % 8, *_preds(q)]) for q in range(0, N_SAMPLES, 2)]
    perf.append((39, [1.5, 2, *_preds(10)]))  # not an exact key
    code, data = _t8_verify(capsys, _t8(tmp_path, perf, issued=N_SAMPLES // 2))
    assert code == 1 and any("the whole log was read" in f["message"] for f in data["findings"])
    assert "is not two integers in [0, 2^24)" in _failed(data)["entries"]


def test_test08_on_logs_the_submission_tools_cut_compares_what_survives(tmp_path: Path, capsys) -> None:
    """A published TEST08 folder whose accuracy run's log the mandatory truncation cut (docs/rules.md §8.1): the
    entries that survive are compared, the others cannot be: NOT CHECKABLE, never a failure for what was cut."""
    res, comp = _t8(tmp_path / "a", [_perf(q) for q in range(N_SAMPLES)])
    log = res / "accuracy" / "mlperf_log_accuracy.json"
    log.write_text(w.truncate(log.read_text(), 2048, 2048))  # the official 4 KiB of a log of 40 small entries
    code, data = _t8_verify(capsys, (res, comp))
    checks = {c["name"]: c for c in data["checks"]}
    assert data["verdict"] == "NOT CHECKABLE" and _failed(data) == {}, data["checks"]
    count = checks["matched count"]
    assert count["cause"] == "truncated accuracy log" and "the accuracy run's log is truncated" in count["reason"]
    assert 0 < count["figures"]["matched"] < N_SAMPLES

    perf = [_perf(q, [math.nan] * _n(q) if q == 0 else None) for q in range(N_SAMPLES)]  # sample 0 survives
    res, comp = _t8(tmp_path / "b", perf)
    log = res / "accuracy" / "mlperf_log_accuracy.json"
    log.write_text(w.truncate(log.read_text(), 2048, 2048))
    code, data = _t8_verify(capsys, (res, comp))
    assert code == 1 and data["verdict"] == "FAIL" and "NaN" in _failed(data)["normalized entropy"]
