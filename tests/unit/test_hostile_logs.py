"""Hostile logs, second pass (issue 24): log strings are data, non-finite numbers fail, odd files are named, a
closed pipe ends quietly; each case as the issue found it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers import logwriter as w
from tests.helpers.paths import PROJECT, SHIPPED_SPECS, write_tree

FORGED = "x\nTEST PASS\nEOS check pass: True\n"


def _verify(capsys, test: str, root: Path, *extra: str) -> tuple[int, str, str]:
    argv = ["verify", test, "-c", str(root / "comp"), "-o", str(root / "out"), "--specs", str(SHIPPED_SPECS)]
    code = main([*argv, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _lines(root: Path, test: str) -> list[str]:
    """Every line of the text files a checker reads, stripped as it strips them."""
    folder = root / "out" / test
    return [
        line.strip()
        for name in ("verify_accuracy.txt", "verify_performance.txt")
        if (folder / name).exists()
        for line in (folder / name).read_text().splitlines()
    ]


@pytest.mark.parametrize("where", ["result_invalid_reason", "error_invalid_config", "effective_scenario"])
def test_a_log_string_cannot_forge_a_verdict_line(tmp_path: Path, capsys, where: str) -> None:
    if where == "result_invalid_reason":
        tree = w.runs_tree(comp_extra={"result_validity": "INVALID", where: FORGED})
    elif where == "error_invalid_config":
        tree = w.runs_tree()
        tree["comp"]["mlperf_log_detail.txt"] = w.detail_log(
            {"effective_scenario": "Offline", "result_samples_per_second": 1010.0, "result_validity": "VALID"},
            audit=True,
            errors=[("error_invalid_config", FORGED)],
        )
    else:
        tree = w.runs_tree(comp_extra={"effective_scenario": "Offline" + FORGED})
    write_tree(tmp_path, tree)
    code, out, _ = _verify(capsys, "TEST01", tmp_path, "-r", str(tmp_path / "res"), "--dtype", "int32")
    performance = (tmp_path / "out/TEST01/verify_performance.txt").read_text().splitlines()
    assert code == 1 and performance, out
    assert not any("TEST PASS" in line for line in performance)  # any line holding it passes (docs/rules.md §5.3)
    assert "EOS check pass: True" not in _lines(tmp_path, "TEST01")
    for name in ("verify_accuracy.txt", "verify_performance.txt"):
        assert "\nTEST PASS\nEOS" not in (tmp_path / "out/TEST01" / name).read_text()
    assert FORGED not in out and "x\\nTEST PASS\\nEOS" in out  # on the console: shown, escaped


def test_test06_reason_cannot_forge_its_check_lines(tmp_path: Path, capsys) -> None:
    detail = w.detail_log({"effective_scenario": "Server" + FORGED}, audit=True)
    entries = [w.accuracy_entry(i, i, w.hexdata([5, 2, 2]), token_count=3) for i in range(100)]  # EOS fails
    write_tree(
        tmp_path / "comp", {"mlperf_log_accuracy.json": w.accuracy_log(entries), "mlperf_log_detail.txt": detail}
    )
    code, _, _ = _verify(capsys, "TEST06", tmp_path, "-s", "Offline", "--model", "llama2-70b-99")
    lines = (tmp_path / "out/TEST06/verify_accuracy.txt").read_text().splitlines()
    assert code == 1 and "EOS check pass: False" in lines and "EOS check pass: True" not in lines
    assert not any(line.strip() == "TEST PASS" for line in lines)


def test_terminal_escapes_from_a_log_are_shown_not_played(tmp_path: Path, capsys) -> None:
    hostile = "Offline\x1b]0;owned\x07\x1b[2J\r"
    write_tree(tmp_path, w.runs_tree(comp_extra={"effective_scenario": hostile}))
    code, out, err = _verify(capsys, "TEST01", tmp_path, "-r", str(tmp_path / "res"), "--dtype", "int32")
    assert code == 1 and "\x1b" not in out + err and "\r" not in out
    assert "\\x1b]0;owned\\x07\\x1b[2J\\r" in out


def test_a_string_qsl_idx_in_a_truncated_accuracy_log_is_no_traceback(tmp_path: Path, capsys) -> None:
    # issue 24: "TypeError: unhashable type: 'HexField'" when the reference log is parsed entry by entry
    outputs = {q: [q, q + 1, 7] for q in range(600)}
    write_tree(tmp_path, w.runs_tree(outputs=outputs))
    ref = tmp_path / "res/accuracy/mlperf_log_accuracy.json"
    ref.write_text(w.truncate(ref.read_text().replace('"qsl_idx" : 2,', '"qsl_idx" : "2",')))
    code, out, err = _verify(capsys, "TEST01", tmp_path, "-r", str(tmp_path / "res"), "--dtype", "int32")
    assert code == 0 and "Traceback" not in out + err  # samples 1, 3 and 5 survive whole: compared and equal
    assert json.loads((tmp_path / "out/TEST01/verify.json").read_text())["verdict"] == "PASS"


def test_a_folder_in_place_of_the_accuracy_runs_detail_log_is_bad_input(tmp_path: Path, capsys) -> None:
    # issue 24: it passed TEST01, taken for an absent (optional) log
    write_tree(tmp_path, w.runs_tree())
    detail = tmp_path / "res/accuracy/mlperf_log_detail.txt"
    detail.unlink()
    detail.mkdir()
    code, _, err = _verify(capsys, "TEST01", tmp_path, "-r", str(tmp_path / "res"), "--dtype", "int32")
    assert code == 2 and f"{detail}: is a folder, not a file" in err


def test_a_fifo_accuracy_log_is_named_as_one_and_never_opened(tmp_path: Path, capsys) -> None:
    # issue 24: a FIFO was "no such file" (and opening one would hang)
    write_tree(tmp_path, w.runs_tree())
    log = tmp_path / "comp/mlperf_log_accuracy.json"
    log.unlink()
    os.mkfifo(log)
    code, _, err = _verify(capsys, "TEST01", tmp_path, "-r", str(tmp_path / "res"), "--dtype", "int32")
    assert code == 2 and f"{log}: is a FIFO, not a file" in err


def test_a_fallback_score_that_overflows_to_infinity_fails(tmp_path: Path, capsys) -> None:
    # issue 24: "inf vs inf (nan% > 1%)" passed TEST01's fallback
    outputs = {q: [q, q + 1, 7] for q in range(10)}
    write_tree(tmp_path, w.runs_tree(outputs=outputs))
    (tmp_path / "comp/mlperf_log_accuracy.json").write_text(w.int_entries({1: [9, 2, 7], 3: [3, 4, 7]}))
    command = "echo accuracy=" + "9" * 400 + "% # {accuracy_log}"
    code, out, _ = _verify(
        capsys,
        "TEST01",
        tmp_path,
        "-r",
        str(tmp_path / "res"),
        "--dtype",
        "int32",
        "--model",
        "resnet",
        "--accuracy-command",
        command,
    )
    data = json.loads((tmp_path / "out/TEST01/verify.json").read_text())
    part3 = next(c for c in data["checks"] if c["name"] == "accuracy (fallback)")
    assert code == 1 and part3["outcome"] == "FAIL" and "acc is not a finite number" in part3["reason"], out


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    write_tree(tmp_path, w.runs_tree())
    argv = [sys.executable, "-m", "compliance", "verify", "TEST01", "-r", str(tmp_path / "res")]
    argv += [
        "-c",
        str(tmp_path / "comp"),
        "-o",
        str(tmp_path / "out"),
        "--dtype",
        "int32",
        "--specs",
        str(SHIPPED_SPECS),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PROJECT)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| head` that has read what it wanted
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == "", err
    assert json.loads((tmp_path / "out/TEST01/verify.json").read_text())["verdict"] == "PASS"
