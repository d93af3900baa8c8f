"""Verdicts and reasons that used to mislead, on logs written by the test log writer (exact figures)."""

from __future__ import annotations

import json
from pathlib import Path

from compliance.cli import main
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

SPECS = ["--specs", str(SHIPPED_SPECS)]
SEED = 720381539243781796
TEST01_EFFECTIVE = {
    "effective_accuracy_log_rng_seed": SEED,
    "effective_accuracy_log_sampling_target": 4096,
    "effective_test_mode": "PerformanceOnly",
}
TEST04_EFFECTIVE = {
    "effective_performance_issue_unique": False,
    "effective_performance_issue_same": True,
    "effective_performance_issue_same_index": 3,
    "effective_test_mode": "PerformanceOnly",
}
MULTIPLE = "Multiple conf files are used. This is not valid for official submission."


def _verify(capsys, test: str, *argv: str) -> tuple[int, dict, str]:
    out = Path("out")
    code = main(["verify", test, *argv, "-o", str(out), *SPECS])
    printed = capsys.readouterr().out
    return code, json.loads((out / test / "verify.json").read_text()), printed


def _results(root: Path, scenario: str, score: float, outputs: dict[int, list[int]]) -> Path:
    entries = (w.accuracy_entry(i, q, w.hexdata(v)) for i, (q, v) in enumerate(outputs.items()))
    write_tree(
        root,
        {
            "accuracy": {"mlperf_log_accuracy.json": w.accuracy_log(entries)},
            "performance": {
                "run_1": {
                    "mlperf_log_detail.txt": w.perf_detail(scenario, score),
                    "mlperf_log_summary.txt": w.summary_log(scenario, score),
                }
            },
        },
    )
    return root


def test_error_invalid_config_of_a_second_fromconfig_is_a_finding_when_the_settings_were_applied(
    tmp_path: Path, capsys
) -> None:
    outputs = {q: [q, 1, 2] for q in range(8)}
    res = _results(tmp_path / "res", "Offline", 1000.0, outputs)
    detail = w.detail_log(
        {
            **TEST01_EFFECTIVE,
            "effective_scenario": "Offline",
            "result_validity": "VALID",
            "result_samples_per_second": 1000.0,
        },
        audit=True,
        errors=[("error_invalid_config", MULTIPLE)],
    )
    comp = tmp_path / "comp"
    write_tree(
        comp,
        {
            "mlperf_log_detail.txt": detail,
            "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
            "mlperf_log_accuracy.json": w.accuracy_log(
                w.accuracy_entry(i, q, w.hexdata(outputs[q])) for i, q in enumerate((1, 3))
            ),
        },
    )
    code, data, _ = _verify(capsys, "TEST01", "-r", str(res), "-c", str(comp), "--model", "resnet")
    assert code == 0 and data["verdict"] == "PASS"
    assert any(MULTIPLE in f["message"] for f in data["findings"])
    # the same error with the settings not applied: the audit.config was rejected
    rejected = detail.replace(
        '"effective_accuracy_log_sampling_target", "value": 4096',
        '"effective_accuracy_log_sampling_target", "value": 0',
    )
    (comp / "mlperf_log_detail.txt").write_text(rejected)
    code, data, _ = _verify(capsys, "TEST01", "-r", str(res), "-c", str(comp), "--model", "resnet")
    reasons = {c["name"]: c["reason"] for c in data["checks"] if c["outcome"] == "FAIL"}
    assert code == 1 and "rejected it (Multiple conf files" in reasons["audit config in effect"]


def test_repeated_qsl_idx_are_each_compared_with_the_accuracy_run(tmp_path: Path, capsys) -> None:
    """2200 logged entries of 256 samples, every one differing in its first element: 2200 mismatches, and no
    false 'same first element' finding (the official script compares repeats with the previous entry)."""
    outputs = {q: [q, 5, 5] for q in range(256)}
    res = _results(tmp_path / "res", "Offline", 1000.0, outputs)
    entries = [w.accuracy_entry(i, i % 256, w.hexdata([(i % 256) + 1000, 5, 5])) for i in range(2200)]
    write_tree(
        tmp_path / "comp",
        {
            "mlperf_log_detail.txt": w.perf_detail("Offline", 1000.0, audit=True, **TEST01_EFFECTIVE),
            "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
            "mlperf_log_accuracy.json": w.accuracy_log(entries),
        },
    )
    code, data, _ = _verify(capsys, "TEST01", "-r", str(res), "-c", str(tmp_path / "comp"), "--dtype", "int32")
    accuracy = next(c for c in data["checks"] if c["name"] == "accuracy")
    assert code == 1 and accuracy["figures"]["matched"] == 2200
    assert accuracy["figures"]["first_element_mismatches"] == 2200 and accuracy["figures"]["strict_mismatches"] == 0
    assert "2200 of 2200 entries differ" in accuracy["reason"]
    assert not any("same first element" in f["message"] for f in data["findings"])


def test_test06_official_emulation_with_an_explicit_eos_id(tmp_path: Path, capsys) -> None:
    """The official script given -e cannot fail its EOS check: an explicit --eos-token-id 2 says so too."""
    entries = [w.accuracy_entry(i, i, w.hexdata([5, 6, 2, 2]), token_count=4) for i in range(100)]
    write_tree(tmp_path / "comp", {"mlperf_log_accuracy.json": w.accuracy_log(entries)})
    code, data, _ = _verify(capsys, "TEST06", "-c", str(tmp_path / "comp"), "-s", "Offline")
    assert (code, data["official_verdict"]) == (1, "FAIL")  # the official default EOS check sees [.., 2, 2]
    code, data, _ = _verify(capsys, "TEST06", "-c", str(tmp_path / "comp"), "-s", "Offline", "--eos-token-id", "2")
    assert (code, data["official_verdict"]) == (1, "PASS")
    assert any("cannot fail" in note for note in data["official_notes"])


def test_test04_far_too_fast_and_invalid_shows_the_speedup(tmp_path: Path, capsys) -> None:
    res = _results(tmp_path / "res", "Offline", 1000.0, {0: [0]})
    write_tree(
        tmp_path / "comp",
        {
            "mlperf_log_detail.txt": w.perf_detail(
                "Offline",
                168000.0,
                audit=True,
                valid=False,
                result_invalid_reason="Increase expected QPS so the loadgen pre-generates more queries",
                **{k.replace("Offline", ""): v for k, v in TEST04_EFFECTIVE.items()},
            ),
            "mlperf_log_summary.txt": w.summary_log("Offline", 168000.0, valid=False),
        },
    )
    code, data, printed = _verify(capsys, "TEST04", "-r", str(res), "-c", str(tmp_path / "comp"))
    checks = {c["name"]: c for c in data["checks"]}
    assert code == 1 and checks["performance"]["figures"]["speedup"] == 168.0
    assert "168x as fast" in checks["performance"]["reason"] and "far beyond noise" in checks["performance"]["reason"]
    assert "INVALID" in checks["runs comparable"]["reason"]
    assert data["checks"][0]["name"] == "audit config in effect"


def test_a_noisy_test04_states_both_explanations(tmp_path: Path, capsys) -> None:
    res = _results(tmp_path / "res", "Offline", 1000.0, {0: [0]})
    write_tree(
        tmp_path / "comp",
        {
            "mlperf_log_detail.txt": w.perf_detail("Offline", 1150.0, audit=True, **TEST04_EFFECTIVE),
            "mlperf_log_summary.txt": w.summary_log("Offline", 1150.0),
        },
    )
    code, data, _ = _verify(capsys, "TEST04", "-r", str(res), "-c", str(tmp_path / "comp"))
    reason = next(c["reason"] for c in data["checks"] if c["name"] == "performance")
    assert code == 1 and "1.15x as fast" in reason and "a result cache" in reason and "disturbed" in reason
    assert "rerun the cell" in reason


def test_multistream_values_are_printed_in_their_unit(tmp_path: Path, capsys) -> None:
    res = _results(tmp_path / "res", "MultiStream", 16_000_000, {0: [0]})
    write_tree(
        tmp_path / "comp",
        {
            "mlperf_log_detail.txt": w.perf_detail("MultiStream", 19_442_600, audit=True, **TEST01_EFFECTIVE),
            "mlperf_log_summary.txt": w.summary_log("MultiStream", 19_442_600),
            "mlperf_log_accuracy.json": w.accuracy_log([w.accuracy_entry(0, 0, w.hexdata([0]))]),
        },
    )
    code, data, printed = _verify(capsys, "TEST01", "-r", str(res), "-c", str(tmp_path / "comp"))
    reason = next(c["reason"] for c in data["checks"] if c["name"] == "performance")
    assert code == 1 and "early_stopping_latency_ms 1.94426e+07 ns is 21.5% higher" in reason
    assert "1.94426e+07 ns vs" not in printed or "ns" in printed
