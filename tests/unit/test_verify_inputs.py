"""The verify command on synthetic logs: bad input (exit 2), bad logs (FAIL with a reason), output guarantees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

SPECS = ["--specs", str(SHIPPED_SPECS)]
SEED = 720381539243781796
TEST01_EFFECTIVE = {"effective_accuracy_log_rng_seed": SEED, "effective_accuracy_log_sampling_target": 4096}


def _entries(outputs: dict[int, list[int]], fmt: str = "<i") -> str:
    return w.accuracy_log(w.accuracy_entry(i, q, w.hexdata(v, fmt)) for i, (q, v) in enumerate(outputs.items()))


def _test01_tree(
    root: Path,
    *,
    comp_acc: str | None = None,
    ref_acc: str | None = None,
    comp_detail: str | None = None,
    ref_detail: str | None = None,
    comp_summary: str | None = None,
) -> tuple[Path, Path]:
    outputs = {q: [q, q + 1, 7] for q in range(10)}

    def given(value: str | None, default: str) -> str:
        return default if value is None else value

    write_tree(
        root,
        {
            "res": {
                "accuracy": {
                    "mlperf_log_accuracy.json": given(ref_acc, _entries(outputs)),
                    "mlperf_log_detail.txt": w.detail_log({"effective_scenario": "Offline"}),
                },
                "performance": {
                    "run_1": {
                        "mlperf_log_detail.txt": given(ref_detail, w.perf_detail("Offline", 1000.0)),
                        "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
                    }
                },
            },
            "comp": {
                "mlperf_log_accuracy.json": given(comp_acc, _entries({q: outputs[q] for q in (1, 3, 5)})),
                "mlperf_log_detail.txt": given(
                    comp_detail, w.perf_detail("Offline", 1010.0, audit=True, **TEST01_EFFECTIVE)
                ),
                "mlperf_log_summary.txt": given(comp_summary, w.summary_log("Offline", 1010.0)),
            },
        },
    )
    return root / "res", root / "comp"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["verify", *argv, *SPECS])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(out: Path, test: str) -> dict:
    return json.loads((out / test / "verify.json").read_text(encoding="utf-8"))


def test_synthetic_honest_test01_passes(tmp_path: Path, capsys) -> None:
    res, comp = _test01_tree(tmp_path)
    code, out, err = _run(
        capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "out"), "--dtype", "int32"
    )
    assert code == 0, out + err
    files = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == [
        "TEST01/accuracy/mlperf_log_accuracy.json",
        "TEST01/performance/run_1/mlperf_log_detail.txt",
        "TEST01/performance/run_1/mlperf_log_summary.txt",
        "TEST01/verify.json",
        "TEST01/verify_accuracy.txt",
        "TEST01/verify_performance.txt",
    ]
    assert "TEST PASS" in (tmp_path / "out" / "TEST01" / "verify_accuracy.txt").read_text().splitlines()


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        ("comp/mlperf_log_detail.txt", "comp/mlperf_log_detail.txt: no such file"),
        ("res/accuracy/mlperf_log_accuracy.json", "mlperf_log_accuracy.json: no such file"),
        ("res/performance", "run_1/mlperf_log_detail.txt: no such file"),
    ],
)
def test_missing_inputs_exit_2(tmp_path: Path, capsys, remove: str, message: str) -> None:
    import shutil

    res, comp = _test01_tree(tmp_path)
    target = tmp_path / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    code, out, err = _run(capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "out"))
    assert code == 2 and message in err and err.count("\n") == 1 and not (tmp_path / "out" / "TEST01").exists()


def test_unknown_scenario_exits_2(tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, "TEST06", "-c", str(tmp_path), "-o", str(tmp_path / "out"), "-s", "Ofline")
    assert code == 2 and "unknown scenario 'Ofline' (did you mean 'Offline'?)" in err


def test_output_may_not_replace_the_inputs(tmp_path: Path, capsys) -> None:
    res, comp = _test01_tree(tmp_path)
    comp = comp.rename(tmp_path / "TEST01")
    code, _, err = _run(capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path))
    assert code == 2 and "would replace the input log" in err
    assert (comp / "mlperf_log_accuracy.json").exists()


def test_output_replaces_an_old_folder_whole(tmp_path: Path, capsys) -> None:
    res, comp = _test01_tree(tmp_path)
    write_tree(tmp_path / "out" / "TEST01", {"stale.txt": "old", "performance": {"run_1": {"extra.txt": "x"}}})
    code, _, _ = _run(capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "out"))
    assert code == 0
    assert not (tmp_path / "out" / "TEST01" / "stale.txt").exists()
    assert sorted(p.name for p in (tmp_path / "out" / "TEST01" / "performance" / "run_1").iterdir()) == [
        "mlperf_log_detail.txt",
        "mlperf_log_summary.txt",
    ]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["TEST01"]  # no temporary folder left behind


def test_a_failing_result_never_says_test_pass(tmp_path: Path, capsys) -> None:
    res, comp = _test01_tree(
        tmp_path,
        comp_detail=w.perf_detail("Offline", 1500.0, audit=True, **TEST01_EFFECTIVE),
        comp_acc=_entries({1: [9, 9, 9]}),
    )
    code, _, _ = _run(
        capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "out"), "--dtype", "int32"
    )
    assert code == 1
    for name in ("verify_accuracy.txt", "verify_performance.txt"):
        text = (tmp_path / "out" / "TEST01" / name).read_text()
        assert "TEST PASS" not in text and "TEST FAIL" in text


BAD_TEST01 = [
    ("empty compliance log", {"comp_acc": ""}, "accuracy", "empty file"),
    (
        "accuracy log cut mid-entry",
        {"comp_acc": '[\n{ "seq_id" : 0, "qsl_idx" : 1, "data" : "0100'},
        "accuracy",
        "ends inside a string",
    ),
    (
        "odd-length hex",
        {"comp_acc": w.accuracy_log([w.accuracy_entry(0, 1, "ABC")])},
        "accuracy",
        "odd number of hex digits",
    ),
    (
        "non-hex characters",
        {"comp_acc": w.accuracy_log([w.accuracy_entry(0, 1, "01000000ZZ000000")])},
        "accuracy",
        "non-hex character",
    ),
    (
        "length not a multiple of the dtype",
        {"comp_acc": w.accuracy_log([w.accuracy_entry(0, 1, "010000")])},
        "accuracy",
        "not a whole number of int32 elements",
    ),
    (
        "qsl_idx not an integer",
        {"comp_acc": w.accuracy_log([w.accuracy_entry(0, "1", "01000000")])},
        "accuracy",
        "not an integer",
    ),
    ("detail log that is not MLLOG", {"comp_detail": "hello\n"}, "logs readable", "is not a ':::MLLOG"),
    ("empty detail log", {"comp_detail": ""}, "logs readable", "empty file"),
    (
        "summary without a result line",
        {"comp_summary": "MLPerf Results Summary\nScenario : Offline\n"},
        "logs readable",
        "no 'Result is' line",
    ),
    (
        "INVALID compliance run",
        {"comp_detail": w.perf_detail("Offline", 1000.0, audit=True, valid=False, **TEST01_EFFECTIVE)},
        "runs comparable",
        "INVALID",
    ),
    (
        "another scenario",
        {"comp_detail": w.perf_detail("Server", 1000.0, audit=True, **TEST01_EFFECTIVE)},
        "runs comparable",
        "different scenarios",
    ),
]


@pytest.mark.parametrize(("case", "tree", "check", "reason"), BAD_TEST01, ids=[c[0] for c in BAD_TEST01])
def test_bad_logs_fail_with_a_reason(tmp_path: Path, capsys, case: str, tree: dict, check: str, reason: str) -> None:
    res, comp = _test01_tree(tmp_path, **tree)
    code, out, err = _run(
        capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "out"), "--dtype", "int32"
    )
    assert code == 1, out + err
    assert "Traceback" not in out + err
    reasons = {c["name"]: c["reason"] for c in _json(tmp_path / "out", "TEST01")["checks"] if c["outcome"] == "FAIL"}
    assert reason in reasons.get(check, ""), reasons


def test_nan_outputs_never_match(tmp_path: Path, capsys) -> None:
    nan = {1: [float("nan"), 1.0]}
    res, comp = _test01_tree(tmp_path, ref_acc=_entries(nan, "<f"), comp_acc=_entries(nan, "<f"))
    code, _, _ = _run(
        capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "out"), "--dtype", "float32"
    )
    data = _json(tmp_path / "out", "TEST01")
    assert code == 1 and data["official_verdict"] == "FAIL"
    assert "first element nan vs nan" in data["checks"][2]["reason"] + str(data["checks"][2]["figures"]["examples"])


def test_duplicate_reference_entries_with_other_data_are_a_finding(tmp_path: Path, capsys) -> None:
    ref = w.accuracy_log([w.accuracy_entry(0, 1, w.hexdata([1, 2, 7])), w.accuracy_entry(1, 1, w.hexdata([5, 5, 5]))])
    res, comp = _test01_tree(tmp_path, ref_acc=ref, comp_acc=_entries({1: [1, 2, 7]}))
    code, _, _ = _run(
        capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "out"), "--dtype", "int32"
    )
    data = _json(tmp_path / "out", "TEST01")
    assert code == 0
    assert any("repeats 1 qsl_idx, 1 of them with a different output" in f["message"] for f in data["findings"])


def test_token_log_without_token_count(tmp_path: Path, capsys) -> None:
    write_tree(
        tmp_path,
        {
            "comp": {
                "mlperf_log_accuracy.json": _entries({1: [5, 6, 2]}),
                "mlperf_log_detail.txt": w.detail_log({"effective_scenario": "Offline"}, audit=True),
            }
        },
    )
    code, out, err = _run(capsys, "TEST06", "-c", str(tmp_path / "comp"), "-o", str(tmp_path / "out"), "-s", "Offline")
    data = _json(tmp_path / "out", "TEST06")
    assert code == 1 and "Traceback" not in out + err
    assert "no token_count" in {c["name"]: c["reason"] for c in data["checks"]}["sample length"]
    assert data["official_verdict"] == "FAIL" and "KeyError" in data["official_notes"][0]


@pytest.mark.parametrize("kind", ["file", "symlink"])
def test_an_output_test_folder_that_is_a_file_or_a_link_is_refused_and_nothing_is_left(
    tmp_path: Path, capsys, kind: str
) -> None:
    res, comp = _test01_tree(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    if kind == "file":
        (out / "TEST01").write_text("a file")
    else:
        (tmp_path / "elsewhere").mkdir()
        (out / "TEST01").symlink_to(tmp_path / "elsewhere")
    code, _, err = _run(capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(out), "--dtype", "int32")
    assert code == 2 and "is a file or a symbolic link, not a folder" in err and str(out / "TEST01") in err
    assert sorted(p.name for p in out.iterdir()) == ["TEST01"]  # no .TEST01.new.* left beside it


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder, not a file"),
        (lambda p: p.symlink_to(p), "a symbolic link to nothing (or a loop of links)"),
    ],
)
def test_an_input_that_is_not_a_file_says_what_it_is(tmp_path: Path, capsys, make, message: str) -> None:
    res, comp = _test01_tree(tmp_path)
    target = comp / "mlperf_log_summary.txt"
    target.unlink()
    make(target)
    code, _, err = _run(capsys, "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "out"))
    assert code == 2 and f"{target}: {message}" in err


# root without the two capabilities that let it pass file permission checks: it stays root (so it imports the tool
# from wherever root installed it) but reads only what a folder's mode bits allow it
DROP_DAC = "-dac_override,-dac_read_search"


def _without_root_file_access(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (setpriv drops them from the
    inherited and bounding sets, so that ``exec`` cannot regain them): mode bits hold for it as for any user."""
    drop = ["setpriv", f"--inh-caps={DROP_DAC}", f"--bounding-set={DROP_DAC}"]
    probe = subprocess.run([*drop, "true"], capture_output=True, text=True)
    assert probe.returncode == 0, f"setpriv cannot drop root's file access here: {probe.stderr.strip()}"
    return subprocess.run([*drop, *command], capture_output=True, text=True, timeout=120)


def test_an_unreadable_specs_folder_is_a_spec_problem_for_real(specs_copy: Path) -> None:
    """A folder of the specs that the user cannot read, really (as root: without root's file access): exit 2, named."""
    systems = specs_copy / "systems"
    command = [sys.executable, "-m", "compliance", "validate", "--specs", str(specs_copy)]
    systems.chmod(0)
    try:
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("as root no folder is unreadable, and setpriv (util-linux) is absent to drop root's access")
            done = _without_root_file_access(command)
        else:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        systems.chmod(0o755)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{systems}: cannot be read: Permission denied" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreadable_specs_folder_is_a_spec_problem(specs_copy: Path, capsys, monkeypatch) -> None:
    """The same in-process, with the permission error simulated (the message is the loader's, whoever runs it)."""
    real = Path.iterdir

    def iterdir(self: Path):
        if self.name == "systems":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    assert main(["validate", "--specs", str(specs_copy)]) == 2
    assert f"{specs_copy / 'systems'}: cannot be read: Permission denied" in capsys.readouterr().err
