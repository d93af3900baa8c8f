"""TEST folders as the submission tools leave them, on written logs: truncated accuracy logs (LF and CRLF), the
published layout given to ``verify -c``, and TEST01's fallback checked from its published texts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

OUTPUTS = {q: [q, q + 1, 7] for q in range(600)}  # enough entries for a log of more than 8 KiB
LOGGED = list(range(0, 600, 3))


def _tree(root: Path, **kwargs) -> None:
    write_tree(root, w.runs_tree(outputs=OUTPUTS, logged=kwargs.pop("logged", LOGGED), **kwargs))


def _cut(path: Path, crlf: bool = False) -> None:
    """Truncate a log as the submission tools do."""
    path.write_bytes(w.truncate(path.read_text(), crlf=crlf).encode())


def _verify(capsys, root: Path, *extra: str, comp: Path | None = None) -> tuple[int, dict, str]:
    argv = ["verify", "TEST01", "-r", str(root / "res"), "-c", str(comp or root / "comp"), "-o", str(root / "out")]
    code = main([*argv, "--dtype", "int32", "--specs", str(SHIPPED_SPECS), *extra])
    out = capsys.readouterr().out
    path = root / "out" / "TEST01" / "verify.json"
    return code, (json.loads(path.read_text()) if path.exists() else {}), out


def _checks(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["checks"]}


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("which", ["reference", "compliance", "both"])
def test_truncated_logs_leave_the_comparison_not_checkable_and_the_rest_checked(
    tmp_path: Path, capsys, crlf: bool, which: str
) -> None:
    _tree(tmp_path)
    if which in ("reference", "both"):
        _cut(tmp_path / "res/accuracy/mlperf_log_accuracy.json", crlf)
    if which in ("compliance", "both"):
        _cut(tmp_path / "comp/mlperf_log_accuracy.json", crlf)
    code, data, out = _verify(capsys, tmp_path)
    checks = _checks(data)
    assert (code, data["verdict"]) == (1, "NOT CHECKABLE"), out
    accuracy = checks["accuracy"]
    assert accuracy["outcome"] == "NOT CHECKABLE" and accuracy["cause"] == "truncated accuracy log"
    assert "truncated (the submission tools keep the first and last 4 KiB)" in accuracy["reason"]
    assert "invalid JSON" not in out  # a CRLF marker is a marker too
    # what the logs allow is checked: performance, evidence, cleanliness, scenario, modes
    passed = {"audit config in effect", "submission runs without audit config", "performance", "runs comparable"}
    assert all(checks[name]["outcome"] == "PASS" for name in passed)
    assert data["official_verdict"] == "FAIL"  # json.load fails on a truncated log
    text = (tmp_path / "out/TEST01/verify_accuracy.txt").read_text()
    assert "TEST PASS" not in text.splitlines() and "TEST NOT CHECKABLE" in text
    assert "TEST PASS" in (tmp_path / "out/TEST01/verify_performance.txt").read_text()


def test_whole_entries_that_survive_truncation_are_compared(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, logged=[0, 1, 2, 590, 595, 599])  # samples at both ends of the accuracy run's log
    _cut(tmp_path / "res/accuracy/mlperf_log_accuracy.json")
    code, data, _ = _verify(capsys, tmp_path)
    accuracy = _checks(data)["accuracy"]
    assert accuracy["outcome"] == "PASS" and accuracy["figures"]["matched"] == 6  # every entry survived whole
    assert any("yet every compliance entry survives in it whole" in f["message"] for f in data["findings"])
    # one of them differs in its first element: a failure, even though most of the log is cut away
    comp = tmp_path / "comp/mlperf_log_accuracy.json"
    comp.write_text(w.int_entries({0: [0, 1, 7], 1: [1, 2, 7], 2: [2, 3, 7], 590: [9, 591, 7], 5: [5, 6, 7]}))
    code, data, _ = _verify(capsys, tmp_path)
    accuracy = _checks(data)["accuracy"]
    assert (code, data["verdict"], accuracy["outcome"]) == (1, "FAIL", "FAIL")
    assert (
        "1 of 5 entries differ" in accuracy["reason"] and "among the whole entries that survive" in accuracy["reason"]
    )


def test_a_published_test_folder_is_taken_as_it_is(tmp_path: Path, capsys) -> None:
    _tree(tmp_path)
    folder = tmp_path / "compliance" / "Offline" / "TEST01"  # the published layout, in a scenario folder
    write_tree(folder, {"verify_accuracy.txt": "TEST PASS\n", "verify_performance.txt": "TEST PASS\n"})
    (folder / "performance/run_1").mkdir(parents=True)
    (folder / "accuracy").mkdir()
    for name in ("mlperf_log_detail.txt", "mlperf_log_summary.txt"):
        shutil.copy(tmp_path / "comp" / name, folder / "performance/run_1" / name)
    shutil.copy(tmp_path / "comp/mlperf_log_accuracy.json", folder / "accuracy")
    code, data, out = _verify(capsys, tmp_path, comp=folder)
    assert (code, data["verdict"]) == (0, "PASS"), out
    assert data["inputs"]["compliance_detail"] == str(folder / "performance/run_1/mlperf_log_detail.txt")
    assert _checks(data)["scenario"]["figures"]["folder"] == "Offline"  # from the folder holding TEST01
    shutil.rmtree(folder / "accuracy")
    argv = ["verify", "TEST01", "-r", str(tmp_path / "res"), "-c", str(folder), "-o", str(tmp_path / "out2")]
    code = main([*argv, "--specs", str(SHIPPED_SPECS)])
    err = capsys.readouterr().err
    assert code == 2 and "mlperf_log_accuracy.json: no such file (nor " in err and "accuracy/" in err


def _published_fallback(root: Path, baseline: str, compliance: str) -> None:
    _tree(root)
    _cut(root / "res/accuracy/mlperf_log_accuracy.json")
    _cut(root / "comp/mlperf_log_accuracy.json")
    write_tree(root / "comp", {"baseline_accuracy.txt": baseline, "compliance_accuracy.txt": compliance})
    (root / "comp" / "accuracy.txt").write_text("hash=0123abcd\n")


@pytest.mark.parametrize(
    ("baseline", "compliance", "outcome", "reason"),
    [
        ("accuracy=76.000%, good=3\n", "accuracy=75.900%, good=3\n", "PASS", ""),
        ("accuracy=76.000%, good=3\n", "accuracy=74.000%, good=3\n", "FAIL", "2.703% > the allowed 1%"),
        ("accuracy=76.000%\n", "accuracy=0%\n", "FAIL", "acc is 0 in the compliance output"),
        ("accuracy=" + "9" * 400 + "%\n", "accuracy=" + "9" * 400 + "%\n", "FAIL", "acc is not a finite number"),
        ("nothing\n", "accuracy=76%\n", "FAIL", "in baseline_accuracy.txt: no line of its output matches"),
    ],
)
def test_a_published_fallback_is_checked_from_its_texts(
    tmp_path: Path, capsys, baseline: str, compliance: str, outcome: str, reason: str
) -> None:
    _published_fallback(tmp_path, baseline, compliance)
    code, data, out = _verify(capsys, tmp_path, "--model", "resnet")
    part3 = _checks(data)["accuracy (fallback)"]
    assert part3["outcome"] == outcome and reason in part3["reason"], out
    assert data["verdict"] == ("NOT CHECKABLE" if outcome == "PASS" else "FAIL") and code == 1
    files = {p.name for p in (tmp_path / "out/TEST01/accuracy").iterdir()}
    assert files == {"mlperf_log_accuracy.json", "accuracy.txt", "baseline_accuracy.txt", "compliance_accuracy.txt"}
    assert (tmp_path / "out/TEST01/accuracy/accuracy.txt").read_text() == "hash=0123abcd\n"


def test_a_published_fallback_without_the_models_facts_is_not_checkable(tmp_path: Path, capsys) -> None:
    _published_fallback(tmp_path, "accuracy=76%\n", "accuracy=76%\n")
    code, data, _ = _verify(capsys, tmp_path)
    part3 = _checks(data)["accuracy (fallback)"]
    assert (part3["outcome"], part3["cause"]) == ("NOT CHECKABLE", "model facts unknown") and "--model" in part3[
        "reason"
    ]
