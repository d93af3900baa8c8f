"""TEST07 on logs written by the log writer: coverage, the accuracy command, the threshold, unforgeable verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

EFFECTIVE = w.TEST07_EFFECTIVE
SCORE_70 = "echo \"'exact_match': 70.000\" # {accuracy_log}"


def _tree(
    root: Path, samples: tuple = tuple(range(990)), effective: dict | None = None, data: str | None = None
) -> Path:
    log = w.accuracy_log(w.test07_entries(samples, data))
    write_tree(
        root,
        {
            "comp": {
                "mlperf_log_accuracy.json": log,
                "mlperf_log_detail.txt": w.perf_detail("Offline", 50.0, audit=True, **(effective or EFFECTIVE)),
                "mlperf_log_summary.txt": w.summary_log("Offline", 50.0),
            }
        },
    )
    return root / "comp"


def _verify(capsys, root: Path, command: str | None, model: str = "gpt-oss-120b") -> tuple[int, dict, str]:
    argv = ["verify", "TEST07", "-c", str(root / "comp"), "-o", str(root / "out"), "--specs", str(SHIPPED_SPECS)]
    argv += ["--model", model] + (["--accuracy-command", command] if command else [])
    code = main(argv)
    captured = capsys.readouterr()
    path = root / "out" / "TEST07" / "verify.json"
    return code, (json.loads(path.read_text()) if path.exists() else {}), captured.out + captured.err


def _reasons(data: dict) -> str:
    return " ".join(c["reason"] for c in data["checks"])


def test_complete_run_scoring_above_the_threshold_passes(tmp_path: Path, capsys) -> None:
    _tree(tmp_path)
    code, data, out = _verify(capsys, tmp_path, SCORE_70)
    assert code == 0, out
    folder = tmp_path / "out" / "TEST07"
    text = (folder / "verify_accuracy.txt").read_text()
    assert text.rstrip().endswith("TEST PASS") and "Accuracy score: 70.0" in text and "threshold: 60.698" in text
    assert (folder / "accuracy" / "accuracy_output.txt").read_text() == "'exact_match': 70.000\n"
    assert (folder / "accuracy" / "mlperf_log_accuracy.json").is_file()
    assert {p.name for p in (folder / "performance" / "run_1").iterdir()} == {
        "mlperf_log_summary.txt",
        "mlperf_log_detail.txt",
    }
    assert data["official_verdict"] == "PASS"
    assert "exact_match 70 >= 60.698" in out


@pytest.mark.parametrize(
    ("samples", "reason"),
    [
        (tuple(range(100)), "890 of the 990 compliance samples are not logged (e.g. qsl_idx 100)"),
        ((*range(990), 5, 5), "1 sample is logged more than once (e.g. qsl_idx 5)"),
        ((*range(990), 990, -1), "2 entries have a qsl_idx outside 0..989"),
    ],
)
def test_the_log_must_cover_the_dataset_once(tmp_path: Path, capsys, samples: tuple, reason: str) -> None:
    _tree(tmp_path, samples)
    code, data, _ = _verify(capsys, tmp_path, SCORE_70)
    assert code == 1
    assert reason in _reasons(data)
    assert data["official_verdict"] == "PASS"  # run_verification.py never looks at the log (7.7)


@pytest.mark.parametrize(
    ("command", "reason", "official"),
    [
        (
            "echo \"'exact_match': 41.000\" # {accuracy_log}",
            "the score 41 (exact_match) is below the threshold 60.698",
            "FAIL",
        ),
        ("echo \"'exact_match': 99.0\"; exit 3 # {accuracy_log}", "exited with status 3", "PASS"),
        ("echo nothing # {accuracy_log}", "no line of its output matches the pattern of exact_match", "FAIL"),
        ("printf \"'exact_match': 95.0\\n'exact_match': 41.0\\n\" # {accuracy_log}", "below the threshold", "PASS"),
        ("echo \"'exact_match': 0.000\" # {accuracy_log}", "the score 0 (exact_match) is below", "FAIL"),
    ],
)
def test_the_accuracy_command_decides(tmp_path: Path, capsys, command: str, reason: str, official: str) -> None:
    _tree(tmp_path)
    code, data, _ = _verify(capsys, tmp_path, command)
    assert code == 1
    assert reason in _reasons(data)
    assert data["official_verdict"] == official


def test_printed_verdicts_cannot_forge_a_pass(tmp_path: Path, capsys) -> None:
    _tree(tmp_path)
    command = "echo TEST PASS; echo \"'exact_match': 41.0\"; echo 'TEST PASS' # {accuracy_log} TEST PASS"
    code, data, _ = _verify(capsys, tmp_path, command)
    assert code == 1
    assert "TEST PASS" not in (tmp_path / "out" / "TEST07" / "verify_accuracy.txt").read_text()
    assert "7.6" in data["official_notes"][0]


def test_audit_settings_must_be_in_effect(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, effective={**EFFECTIVE, "effective_performance_issue_unique": False})
    code, data, _ = _verify(capsys, tmp_path, SCORE_70)
    assert code == 1
    assert "performance_issue_unique = 1 but the log shows False" in _reasons(data)


def test_no_accuracy_command_fails_and_says_so(tmp_path: Path, capsys) -> None:
    _tree(tmp_path)
    code, data, _ = _verify(capsys, tmp_path, None)
    assert code == 1
    assert "no accuracy command" in _reasons(data)


def test_outputs_must_be_whole_tokens(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, data="ABCDEF")
    code, data, _ = _verify(capsys, tmp_path, SCORE_70)
    assert code == 1
    assert "not a non-empty whole number of tokens" in _reasons(data)


@pytest.mark.parametrize(
    ("log", "message"),
    [
        ("", "empty file"),
        ('[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "00" ', "ends in the middle"),
        ("{}", "not a JSON array"),
    ],
)
def test_malformed_accuracy_log_is_a_clear_failure(tmp_path: Path, capsys, log: str, message: str) -> None:
    comp = _tree(tmp_path)
    (comp / "mlperf_log_accuracy.json").write_text(log)
    code, data, out = _verify(capsys, tmp_path, SCORE_70)
    assert code == 1 and "Traceback" not in out
    assert message in _reasons(data) and "mlperf_log_accuracy.json" in _reasons(data)


def test_missing_logs_and_model_are_bad_input(tmp_path: Path, capsys) -> None:
    comp = _tree(tmp_path)
    (comp / "mlperf_log_summary.txt").unlink()
    code, _, out = _verify(capsys, tmp_path, SCORE_70)
    assert code == 2 and "mlperf_log_summary.txt: no such file" in out and "Traceback" not in out
    code, _, out = _verify(capsys, tmp_path, SCORE_70, model="resnet")
    assert code == 2 and "TEST07 needs the model's threshold" in out


def test_a_score_that_overflows_to_infinity_fails(tmp_path: Path, capsys) -> None:
    # issue 24: "exact_match inf >= 60.698" passed: 400 digits read as a float are infinity
    _tree(tmp_path)
    code, data, _ = _verify(capsys, tmp_path, "echo \"'exact_match': " + "9" * 400 + '" # {accuracy_log}')
    assert code == 1 and "the score of exact_match is not a finite number (inf)" in _reasons(data)
    assert "TEST PASS" not in (tmp_path / "out" / "TEST07" / "verify_accuracy.txt").read_text()


def test_a_truncated_log_is_not_checkable_unless_what_survives_fails(tmp_path: Path, capsys) -> None:
    # a published TEST07 folder after the mandatory truncation: its first and last 4 KiB (docs/rules.md §8.1)
    comp = _tree(tmp_path)
    log = comp / "mlperf_log_accuracy.json"
    log.write_text(w.truncate(log.read_text()))
    code, data, out = _verify(capsys, tmp_path, SCORE_70)
    assert code != 0 and data["verdict"] == "NOT CHECKABLE", out
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["compliance dataset covered"]["outcome"] == "NOT CHECKABLE"
    assert "truncated" in checks["compliance dataset covered"]["reason"]
    assert checks["accuracy score"]["outcome"] == "NOT CHECKABLE"  # what survives is no score of the run
    assert "TEST PASS" not in (tmp_path / "out" / "TEST07" / "verify_accuracy.txt").read_text()

    repeated = _tree(tmp_path / "again", (5, 5, *range(990)))
    log = repeated / "mlperf_log_accuracy.json"
    log.write_text(w.truncate(log.read_text()))
    code, data, _ = _verify(capsys, tmp_path / "again", SCORE_70)
    assert code == 1 and data["verdict"] == "FAIL"
    assert "1 sample is logged more than once (e.g. qsl_idx 5)" in _reasons(data)
