"""Checks of the runs themselves (compliance/verify/checks/runs.py): the scenario against the folder's, the submission
runs' LoadGen modes, the Server target QPS of a compliance run; on written logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree


def _verify(capsys, test: str, root: Path, *extra: str) -> tuple[int, dict, str]:
    argv = ["verify", test, "-r", str(root / "res"), "-c", str(root / "comp"), "-o", str(root / "out")]
    code = main([*argv, "--specs", str(SHIPPED_SPECS), *extra])
    out = capsys.readouterr().out
    return code, json.loads((root / "out" / test / "verify.json").read_text()), out


def _checks(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["checks"]}


@pytest.mark.parametrize("folder", ["MultiStream", "Offline", "multistream"])
def test_a_singlestream_run_filed_in_another_scenario_fails(tmp_path: Path, capsys, folder: str) -> None:
    tree = w.runs_tree("SingleStream", 500_000, 505_000)
    write_tree(tmp_path, {folder: tree["res"], "comp": tree["comp"]})
    argv = ["verify", "TEST01", "-r", str(tmp_path / folder), "-c", str(tmp_path / "comp"), "-o", str(tmp_path / "out")]
    code = main([*argv, "--dtype", "int32", "--specs", str(SHIPPED_SPECS)])  # the scenario from the -r folder's name
    data = json.loads((tmp_path / "out/TEST01/verify.json").read_text())
    scenario = _checks(data)["scenario"]
    assert code == 1 and scenario["outcome"] == "FAIL"
    assert "the compliance run was made in SingleStream, not " in scenario["reason"]
    assert "the submission performance run was made in SingleStream" in scenario["reason"]
    text = (tmp_path / "out/TEST01/verify_performance.txt").read_text()
    assert "TEST PASS" not in text and "scenario" in text  # the checker would not accept it


def test_the_scenario_given_is_compared_and_interactive_is_loadgens_server(tmp_path: Path, capsys) -> None:
    write_tree(tmp_path, w.runs_tree("Server", 1000.0, 1000.0))
    code, data, _ = _verify(capsys, "TEST01", tmp_path, "--dtype", "int32", "-s", "Interactive")
    assert code == 0 and _checks(data)["scenario"]["figures"]["expected"] == "Server"
    code, data, _ = _verify(capsys, "TEST01", tmp_path, "--dtype", "int32", "-s", "Offline")
    assert code == 1 and _checks(data)["scenario"]["outcome"] == "FAIL"


@pytest.mark.parametrize(("value", "shown"), [('["Offline"]', "a list"), ("3", "3"), ("null", "None")])
def test_a_scenario_that_is_no_name_fails(tmp_path: Path, capsys, value: str, shown: str) -> None:
    write_tree(tmp_path, w.runs_tree())
    detail = tmp_path / "comp/mlperf_log_detail.txt"
    detail.write_text(detail.read_text().replace('"value": "Offline"', f'"value": {value}', 1))
    code, data, _ = _verify(capsys, "TEST01", tmp_path, "--dtype", "int32", "-s", "Offline")
    assert code == 1 and f"names no scenario LoadGen knows ({shown})" in _checks(data)["scenario"]["reason"]


@pytest.mark.parametrize(("run", "mode"), [("accuracy", "PerformanceOnly"), ("performance", "AccuracyOnly")])
def test_a_submission_run_in_the_wrong_mode_fails(tmp_path: Path, capsys, run: str, mode: str) -> None:
    # issue 24 item 6: a submission accuracy run made in PerformanceOnly logs only a sample of its outputs
    if run == "accuracy":
        write_tree(tmp_path, w.runs_tree(accuracy_mode=mode))
    else:
        write_tree(tmp_path, w.runs_tree(ref_extra={"effective_test_mode": mode}))
    code, data, _ = _verify(capsys, "TEST01", tmp_path, "--dtype", "int32")
    modes = _checks(data)["submission runs in their modes"]
    assert code == 1 and modes["outcome"] == "FAIL"
    assert f"the submission's {run} run was made in '{mode}' mode" in modes["reason"]
    assert "TEST PASS" not in (tmp_path / "out/TEST01/verify_accuracy.txt").read_text().splitlines()
    write_tree(tmp_path / "ok", w.runs_tree(accuracy_mode="SubmissionRun"))  # LoadGen's mode 0 makes both
    assert _verify(capsys, "TEST01", tmp_path / "ok", "--dtype", "int32")[0] == 0


def test_a_test01_server_run_at_a_lower_target_qps_passes_with_a_warning(tmp_path: Path, capsys) -> None:
    write_tree(
        tmp_path,
        w.runs_tree(
            "Server", 1000.0, 920.0, ref_extra={"effective_target_qps": 1000}, comp_extra={"effective_target_qps": 920}
        ),
    )
    code, data, _ = _verify(capsys, "TEST01", tmp_path, "--dtype", "int32")
    finding = next(f for f in data["findings"] if f.get("kind") == "target QPS differs")
    assert code == 0 and "0.92x the submission's 1000" in finding["message"]
    assert "holds by construction" in finding["message"]


def _test04(root: Path, ref_qps: float, comp_qps: float, comp_p99: float) -> None:
    latencies = {"result_50.00_percentile_latency_ns": 1e6, "result_90.00_percentile_latency_ns": 2e6}
    write_tree(
        root,
        {
            "res": {
                "performance": {
                    "run_1": {
                        "mlperf_log_detail.txt": w.perf_detail(
                            "Server",
                            ref_qps,
                            effective_target_qps=ref_qps,
                            **latencies,
                            **{"result_99.00_percentile_latency_ns": 3e6},
                        ),
                        "mlperf_log_summary.txt": w.summary_log("Server", ref_qps),
                    }
                }
            },
            "comp": {
                "mlperf_log_detail.txt": w.perf_detail(
                    "Server",
                    comp_qps,
                    audit=True,
                    effective_target_qps=comp_qps,
                    **latencies,
                    **{"result_99.00_percentile_latency_ns": comp_p99},
                    **w.TEST04_EFFECTIVE,
                ),
                "mlperf_log_summary.txt": w.summary_log("Server", comp_qps),
            },
        },
    )


def test_a_test04_server_run_at_a_lower_target_gets_no_cache_finding(tmp_path: Path, capsys) -> None:
    # 68 real folders got "a result cache shows here" for latencies that their lower load explains (issue 20)
    _test04(tmp_path, 1000.0, 920.0, 1.5e6)
    code, data, _ = _verify(capsys, "TEST04", tmp_path)
    messages = " ".join(f["message"] for f in data["findings"])
    assert code == 0 and "a result cache shows here" not in messages
    assert "explained by the lower load" in messages
    _test04(tmp_path / "same", 1000.0, 1000.0, 1.5e6)  # the same target: the cache finding stands
    code, data, _ = _verify(capsys, "TEST04", tmp_path / "same")
    assert code == 0 and any("a result cache shows here" in f["message"] for f in data["findings"])
