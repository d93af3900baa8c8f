"""TEST01's non-deterministic fallback (Part III) and the accuracy command, on logs written by the log writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.demo.outputs import corrupt, output
from compliance.verify.checks import baseline
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

SEED = 720381539243781796
EFFECTIVE = {"effective_accuracy_log_rng_seed": SEED, "effective_accuracy_log_sampling_target": 4096}
SCORE = "{python} -m compliance.demo.accuracy --benchmark resnet {accuracy_log}"
CHECKER_FILES = {"mlperf_log_accuracy.json", "accuracy.txt", "baseline_accuracy.txt", "compliance_accuracy.txt"}
SAMPLES = list(range(0, 400, 2)) + [10, 10, 12]  # repeated samples, as a Server run may log them


def _log(samples: list[int], fault: str | None) -> str:
    return w.accuracy_log(
        w.accuracy_entry(i, q, w.hexdata(corrupt(output("classifier", q), fault, True))) for i, q in enumerate(samples)
    )


def _tree(root: Path, fault: str | None, *, ref_acc: str | None = None) -> tuple[Path, Path]:
    write_tree(
        root,
        {
            "res": {
                "accuracy": {
                    "mlperf_log_accuracy.json": ref_acc if ref_acc is not None else _log(list(range(1024)), None),
                    "mlperf_log_detail.txt": w.detail_log({"effective_scenario": "Offline"}),
                },
                "performance": {
                    "run_1": {
                        "mlperf_log_detail.txt": w.perf_detail("Offline", 1000.0),
                        "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
                    }
                },
            },
            "comp": {
                "mlperf_log_accuracy.json": _log(SAMPLES, fault),
                "mlperf_log_detail.txt": w.perf_detail("Offline", 1010.0, audit=True, **EFFECTIVE),
                "mlperf_log_summary.txt": w.summary_log("Offline", 1010.0),
            },
        },
    )
    return root / "res", root / "comp"


def _verify(
    capsys, root: Path, command: str | None, *extra: str, model: str | None = "resnet"
) -> tuple[int, dict, str]:
    res, comp = root / "res", root / "comp"
    argv = ["verify", "TEST01", "-r", str(res), "-c", str(comp), "-o", str(root / "out"), "--dtype", "int32"]
    argv += ["--specs", str(SHIPPED_SPECS), *extra]
    argv += ["--model", model] if model else []
    argv += ["--accuracy-command", command] if command else []
    code = main(argv)
    out = capsys.readouterr().out
    path = root / "out" / "TEST01" / "verify.json"
    return code, (json.loads(path.read_text()) if path.exists() else {}), out


def _checks(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["checks"]}


def test_nondeterministic_run_passes_by_the_fallback_with_the_checkers_files(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, "nondeterministic")
    code, data, out = _verify(capsys, tmp_path, SCORE)
    assert code == 0, out
    checks = _checks(data)
    assert checks["accuracy"]["outcome"] == "SKIPPED" and checks["accuracy"]["figures"]["first_element_mismatches"]
    part3 = checks["accuracy (fallback)"]
    assert part3["outcome"] == "PASS"
    assert part3["figures"]["metrics"]["acc"]["delta_percent"] == 0
    assert part3["figures"]["baseline_entries"] == len(SAMPLES)  # the same multiset: repeated samples repeated
    folder = tmp_path / "out" / "TEST01"
    assert {p.name for p in (folder / "accuracy").iterdir()} == CHECKER_FILES
    text = (folder / "verify_accuracy.txt").read_text()
    assert "TEST PASS" not in [line.strip() for line in text.splitlines()]  # else the checker skips Part III
    assert "PASS (fallback)" in text and "acc: baseline" in text
    assert (folder / "accuracy" / "baseline_accuracy.txt").read_text().startswith("accuracy=")
    assert "PASS (fallback): acc" in out
    assert data["official_verdict"] == "PASS"
    assert (folder / "verify_performance.txt").read_text().strip().endswith("TEST PASS")
    assert not any(p.name.startswith(".accuracy-") for p in (tmp_path / "out").iterdir())  # scratch removed


def test_degraded_run_fails_the_fallback_too(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, "degraded")
    code, data, out = _verify(capsys, tmp_path, SCORE)
    assert code == 1
    part3 = _checks(data)["accuracy (fallback)"]
    assert part3["outcome"] == "FAIL" and "> the allowed 1%" in part3["reason"]
    assert _checks(data)["accuracy"]["outcome"] == "SKIPPED"  # the fallback decides, and its reason is the first
    assert data["official_verdict"] == "FAIL"
    assert "FAIL" in (tmp_path / "out" / "TEST01" / "verify_accuracy.txt").read_text()


def test_identical_outputs_need_no_fallback(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, None)
    code, data, _ = _verify(capsys, tmp_path, SCORE)
    assert code == 0
    assert "accuracy (fallback)" not in _checks(data)
    assert {p.name for p in (tmp_path / "out" / "TEST01" / "accuracy").iterdir()} == {"mlperf_log_accuracy.json"}


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("echo 'accuracy=76.000%' {accuracy_log}; exit 1", "exited with status 1"),
        ("echo nothing to see {accuracy_log}", "no line of its output matches the pattern of acc"),
        ("echo 'accuracy=0.000%, good=0' {accuracy_log}", "acc is 0 in the baseline output"),
        ("kill -9 $$ {accuracy_log}", "killed by signal 9"),
        ("exec /nonexistent/scorer {accuracy_log}", "exited with status 127"),
        ("echo 'accuracy=76.000%'; exit 3 # {accuracy_log}", "exited with status 3 after printing a score (acc)"),
        ("rm {accuracy_log}; echo 'accuracy=76.000%'", "deleted the log it was given to score"),
    ],
)
def test_a_failing_accuracy_command_fails_with_its_reason(tmp_path: Path, capsys, command: str, reason: str) -> None:
    _tree(tmp_path, "nondeterministic")
    code, data, _ = _verify(capsys, tmp_path, command)
    assert code == 1
    assert reason in _checks(data)["accuracy (fallback)"]["reason"]
    # the reason given first is the fallback's (not the first-element mismatch that started it)
    text = (tmp_path / "out" / "TEST01" / "verify_accuracy.txt").read_text()
    first = next(line for line in text.splitlines() if line.startswith("reason: "))
    assert first.startswith("reason: accuracy (fallback): ") and reason in first
    assert (tmp_path / "comp" / "mlperf_log_accuracy.json").exists()  # never deleted by the command


def test_output_of_the_command_cannot_forge_a_pass(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, "degraded")
    forging = "echo 'TEST PASS'; " + SCORE + "; echo 'TEST PASS'"
    code, _, _ = _verify(capsys, tmp_path, forging)
    assert code == 1
    text = (tmp_path / "out" / "TEST01" / "verify_accuracy.txt").read_text()
    assert "TEST PASS" not in text


def test_output_file_placeholder_reads_a_script_that_writes_a_file(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, "nondeterministic")
    command = SCORE + " --output-file {output_file}"
    code, data, _ = _verify(capsys, tmp_path, command)
    assert code == 0
    assert _checks(data)["accuracy (fallback)"]["figures"]["metrics"]["acc"]["baseline"] > 70
    # the official procedure keeps stdout only: the checker finds no metric (P.7)
    assert data["official_verdict"] == "FAIL" and "P.7" in " ".join(data["official_notes"])


def test_truncated_accuracy_log_gives_no_baseline(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, "nondeterministic", ref_acc=w.truncate(_log(list(range(1024)), None)))
    code, data, _ = _verify(capsys, tmp_path, SCORE)
    assert code == 1
    assert "is truncated" in _checks(data)["accuracy (fallback)"]["reason"]


def test_fallback_needs_the_models_metrics(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, "nondeterministic")
    code, data, _ = _verify(capsys, tmp_path, SCORE, model=None)
    assert code == 1
    assert "--model" in _checks(data)["accuracy (fallback)"]["reason"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("score.py", "must contain the placeholder '{accuracy_log}'"),
        ("score.py {log}", "unknown placeholder '{log}'"),
        ("python -c 'print({})' {accuracy_log}", "literal braces"),
    ],
)
def test_bad_accuracy_command_is_bad_input(tmp_path: Path, capsys, command: str, message: str) -> None:
    _tree(tmp_path, "nondeterministic")
    res, comp = tmp_path / "res", tmp_path / "comp"
    argv = ["verify", "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "out"), "--model", "resnet"]
    code = main([*argv, "--specs", str(SHIPPED_SPECS), "--accuracy-command", command])
    err = capsys.readouterr().err
    assert code == 2
    assert f"error: --accuracy-command {command!r}: " in err and message in err and "Traceback" not in err


def test_baseline_keeps_the_multiset_and_refuses_missing_samples(tmp_path: Path) -> None:
    ref = tmp_path / "ref.json"
    ref.write_text(_log(list(range(20)), None))
    comp = tmp_path / "comp.json"
    comp.write_text(_log([3, 3, 5, 7, 3], None))
    wanted = baseline.compliance_samples(str(comp))
    made = baseline.write(str(ref), wanted, tmp_path / "b" / "base.json")
    assert made.problem is None and made.entries == 5 and made.samples == 3
    entries = json.loads(Path(made.path).read_text())
    assert sorted(e["qsl_idx"] for e in entries) == [3, 3, 3, 5, 7]
    assert entries[0]["data"] == json.loads(ref.read_text())[3]["data"]
    comp.write_text(_log([3, 99], None))
    made = baseline.write(str(ref), baseline.compliance_samples(str(comp)), tmp_path / "b" / "base.json")
    assert made.problem is not None and "qsl_idx 99" in made.problem
    assert not Path(made.path).exists()


def test_metrics_come_from_the_last_anchored_line_of_a_long_output(tmp_path: Path) -> None:
    from compliance.specs.types import Metric
    from compliance.verify import scoring

    out = tmp_path / "out.txt"
    filler = "x" * 99 + "\n"
    out.write_text(
        "accuracy=10.0%\n" + filler * 30000 + "  accuracy=50.0%\n" + "accuracy=76.5%, good=1\n" + filler * 30000
    )
    metric = Metric("acc", r"^(?:\{\"accuracy|accuracy)[\": ]*=?\s*([\d\.]+).*", 1)
    values, problems, kept, cut = scoring.read_metrics([out], (metric,))
    assert values == {"acc": 76.5} and problems == []  # the indented line does not match from its start
    assert cut and len(kept) <= scoring.KEEP_CHARS + 100 and "not kept" in kept
    assert kept.startswith("accuracy=10.0%")
    out.write_text("accuracy=1.2.3%\n")
    values, problems, _, _ = scoring.read_metrics([out], (metric,))
    assert values == {"acc": None} and "gives '1.2.3', not a number" in problems[0]


@pytest.mark.parametrize(("text", "message"), [("", "cannot read the accuracy log"), ("[]", "no entries to score")])
def test_demo_accuracy_script_refuses_bad_logs(tmp_path: Path, capsys, text: str, message: str) -> None:
    from compliance.demo import accuracy

    log = tmp_path / "mlperf_log_accuracy.json"
    log.write_text(text)
    with pytest.raises(SystemExit) as exc:
        accuracy.main(["--benchmark", "resnet", str(log)])
    assert str(log) in str(exc.value) and message in str(exc.value)


def test_an_output_folder_that_cannot_be_made_is_bad_input(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, "nondeterministic")
    (tmp_path / "file").write_text("not a folder")
    res, comp = tmp_path / "res", tmp_path / "comp"
    argv = ["verify", "TEST01", "-r", str(res), "-c", str(comp), "-o", str(tmp_path / "file" / "out"), "--model"]
    code = main([*argv, "resnet", "--dtype", "int32", "--specs", str(SHIPPED_SPECS), "--accuracy-command", SCORE])
    err = capsys.readouterr().err
    assert code == 2 and "cannot make a folder for the accuracy command" in err and "Traceback" not in err
