"""The compliance summary: statuses, reasons and figures after real pipeline runs, formats and exit status."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers.paths import PROJECT
from tests.helpers.projects import DEMO, doit, make_project, system_yaml

#: fault -> (benchmark, scenario, test, check in the reason, words of the reason)
FAULTS = {
    "cache": ("resnet", "Offline", "TEST04", "performance", "far beyond noise"),
    "acc_differs": ("resnet", "Offline", "TEST01", "accuracy", "in their first element"),
    "acc_differs_hi": ("resnet", "Offline", "TEST01", "accuracy (full output)", "same first element but a different"),
    "acc_differs_tail": ("resnet", "Offline", "TEST01", "accuracy (full output)", "same first element but a different"),
    "slow_audit": ("resnet", "SingleStream", "TEST01", "performance", "higher than the submission's"),
    "ignore_audit": ("llama2-70b-99", "Offline", "TEST06", "run", "did not find an audit.config"),
    "leave_audit": ("llama2-70b-99", "Offline", "TEST06", "run", "replaced the staged audit.config"),
    "eos2": ("llama2-70b-99", "Offline", "TEST06", "EOS", "more than one EOS"),
    "eos_only": ("llama2-70b-99", "Server", "TEST06", "EOS", "ends with only 2"),
    "badcount": ("llama2-70b-99", "Offline", "TEST06", "sample length", "token_count"),
    "firsttok": ("llama2-70b-99", "Server", "TEST06", "first token", "is not the start of the output"),
    "firsttok_empty": ("llama2-70b-99", "Server", "TEST06", "first token", "response is empty"),
    "perturbed": ("dlrm-v3", "Offline", "TEST08", "normalized entropy", "differ by more than 0.10%"),
    "nan": ("dlrm-v3", "Offline", "TEST08", "normalized entropy", "NaN or infinite"),
    "truncated": ("gpt-oss-120b", "Offline", "TEST09", "mean output length", "is below [1150.38, 1406.02]"),
    "low_score": ("gpt-oss-120b", "Offline", "TEST07", "accuracy score", "is below the threshold 60.698"),
}
V6_FAULTS = ("perturbed", "nan", "truncated", "low_score")  # faults of v6.0 benchmarks (TEST07, TEST08, TEST09)
HONEST = {"resnet": {"scenarios": ["Offline", "SingleStream"]}, "llama2-70b-99": {"scenarios": ["Offline", "Server"]}}
#: gpt-oss-120b: the harness is told the test (TEST07's own dataset), TEST07 scores with the demo's accuracy script
GPT_OSS = {
    "scenarios": ["Offline"],
    "command": DEMO + " --test {test}",
    "accuracy_command": "{python} -m compliance.demo.accuracy --benchmark {benchmark} --test {test} {accuracy_log}",
}
HONEST_V6 = {"dlrm-v3": {"scenarios": ["Offline"]}, "gpt-oss-120b": GPT_OSS}
V6_TREE = "submission-v6.0"  # one submission tree per round


def summary_json(project: Path, capsys, trees: bool = False) -> tuple[int, list[dict]]:
    capsys.readouterr()  # drop what earlier steps printed
    cwd = os.getcwd()
    os.chdir(project)
    try:
        code = main(["summary", "--format", "json"])
    finally:
        os.chdir(cwd)
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is (code == 0)
    checks = ("pre-flight", "checker")  # the checks of the trees before upload: only with trees
    return code, [r for r in data["rows"] if trees or r["test"] not in checks]


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mlperf_loadgen")
    systems = {
        "honest": system_yaml("honest", "v5.0", HONEST),
        "honest-v6": system_yaml("honest-v6", "v6.0", HONEST_V6, submission_dir=V6_TREE),
    }
    for fault, (benchmark, scenario, _, _, _) in FAULTS.items():
        name = fault.replace("_", "-")
        bench = {
            **(GPT_OSS if benchmark == "gpt-oss-120b" else {}),
            "scenarios": [scenario],
            "env": {"DEMO_FAULT": fault},
        }
        systems[name] = system_yaml(
            name,
            "v6.0" if fault in V6_FAULTS else "v5.0",
            {benchmark: bench},
            strict_accuracy=fault in ("acc_differs_hi", "acc_differs_tail"),
            **({"submission_dir": V6_TREE} if fault in V6_FAULTS else {}),
        )
    project = make_project(tmp_path_factory.mktemp("faults"), systems)
    # two systems at a time: runs of one system never overlap, and the demo's timing does not depend on the CPU
    result = doit(project, "--continue", "-n", "2")
    assert result.returncode != 0  # the faulty cells fail
    return project


def test_each_fault_fails_with_its_reason(faults: Path, capsys) -> None:
    code, rows = summary_json(faults, capsys)
    assert code == 1
    by_cell = {(r["system"], r["benchmark"], r["scenario"], r["test"]): r for r in rows}
    for fault, (benchmark, scenario, test, check, words) in FAULTS.items():
        row = by_cell[(fault.replace("_", "-"), benchmark, scenario, test)]
        assert row["status"] == "FAIL", (fault, row)
        assert row["reason"].startswith(f"{check}: ") and words in row["reason"], (fault, row)
    honest = [r for r in rows if r["system"] == "honest"]
    assert len(honest) == 6 and all(r["status"] == "PASS" for r in honest), honest
    # v6.0: TEST07, TEST08 and TEST09 pass with their key figures
    v6 = {r["test"]: r for r in rows if r["system"] == "honest-v6"}
    assert v6["TEST07"]["status"] == v6["TEST08"]["status"] == v6["TEST09"]["status"] == "PASS", v6
    assert v6["TEST07"]["figures"] == "exact_match 69.596 >= 60.698; 990/990 samples"
    assert v6["TEST08"]["figures"] == "NE mismatches 0/2200 matched (min 1100), 0 unmatched"
    assert v6["TEST09"]["figures"] == "mean length 1277.93 in [1150.38, 1406.02], 6396/6396 samples"


def test_table_formats_hold_the_same_rows(faults: Path, capsys) -> None:
    _, every = summary_json(faults, capsys, trees=True)
    rows = [r for r in every if r["test"] not in ("pre-flight", "checker")]
    os.chdir(faults)
    for fmt, marker in (("plain", "-------"), ("github", "|---"), ("markdown", "|:---"), ("html", "<table>")):
        assert main(["summary", "--format", fmt]) == 1
        out = capsys.readouterr().out
        body = out if fmt == "html" else out.rsplit("\n\n", 1)[0]  # without the totals line
        assert marker in out and body.count("FAIL") == sum(1 for r in every if r["status"] == "FAIL")
    assert main(["summary", "--format", "yaml"]) == 2
    assert "unknown format 'yaml'" in capsys.readouterr().err
    shutil.copy(PROJECT / "pyproject.toml", faults / "pyproject.toml")  # registers `doit summary` (tool.doit)
    plain = doit(faults, "summary", "--format", "github")
    passed, failed = (sum(1 for r in rows if r["status"] == status) for status in ("PASS", "FAIL"))
    assert len(rows) == 32 and passed >= 15 and failed >= 16 and passed + failed == len(rows)
    assert plain.returncode == 1 and "| honest " in plain.stdout
    assert f"{len(rows)} cells: {passed} PASS, {failed} FAIL" in plain.stdout


def test_summary_statuses_through_the_life_of_a_cell(tmp_path: Path, capsys) -> None:
    pytest.importorskip("mlperf_loadgen")
    project = make_project(
        tmp_path,
        {
            "small": system_yaml(
                "small",
                "v5.0",
                {
                    "llama2-70b-99": {"scenarios": ["Offline"]},
                    "gptj-99": {"scenarios": ["Offline"], "command": "exit 0"},
                },
            ),
            "newer": system_yaml(
                "newer",
                "v6.0",
                {"gpt-oss-120b": {"scenarios": ["Offline"], "command": "exit 0"}},
                submission_dir="submission-v6.0",
            ),
        },
    )
    code, rows = summary_json(project, capsys)
    states = {(r["system"], r["benchmark"], r["test"]): (r["status"], r["reason"]) for r in rows}
    assert code == 1
    assert states[("small", "llama2-70b-99", "TEST06")] == ("NOT RUN", "waits for its run (it has not run yet)")
    assert states[("small", "gptj-99", "-")] == ("NOT REQUIRED", "round v5.0 requires no test")
    assert states[("newer", "gpt-oss-120b", "TEST07")] == ("NOT RUN", "waits for its run (it has not run yet)")
    assert states[("newer", "gpt-oss-120b", "TEST09")][0] == "NOT RUN"

    assert (
        doit(project, "run:small/llama2-70b-99/Offline/TEST06", "verify:small/llama2-70b-99/Offline/TEST06").returncode
        == 0
    )
    _, rows = summary_json(project, capsys)
    row = next(r for r in rows if r["system"] == "small" and r["test"] == "TEST06")
    assert row["status"] == "NOT RUN" and "verified PASS; waits for publish" in row["reason"]

    assert doit(project, "publish:small/llama2-70b-99/Offline/TEST06").returncode == 0
    _, rows = summary_json(project, capsys)
    row = next(r for r in rows if r["system"] == "small" and r["test"] == "TEST06")
    assert row["status"] == "PASS" and "100/100 samples" in row["figures"]

    log = project / "build/small/llama2-70b-99/Offline/TEST06/logs/mlperf_log_accuracy.json"
    os.utime(log, (time.time() + 5, time.time() + 5))
    _, rows = summary_json(project, capsys)
    row = next(r for r in rows if r["system"] == "small" and r["test"] == "TEST06")
    assert row["status"] == "STALE" and "mlperf_log_accuracy.json changed" in row["reason"]
    assert row["kind"] == "stale" and "(last verdict PASS)" in row["reason"]


def test_a_failing_cell_is_withdrawn_from_the_tree(tmp_path: Path, capsys) -> None:
    """PASS copied into the tree; then the harness starts cheating and the cell is re-run: the tree no longer holds
    the TEST folder, the withdrawn copy is kept in build/withdrawn/, the summary says FAIL and why."""
    pytest.importorskip("mlperf_loadgen")
    project = make_project(
        tmp_path, {"small": system_yaml("small", "v5.0", {"llama2-70b-99": {"scenarios": ["Offline"]}})}
    )
    assert doit(project).returncode == 0
    tree = project / "submission/closed/Acme/compliance/small/llama2-70b-99/Offline/TEST06"
    assert json.loads((tree / "verify.json").read_text())["verdict"] == "PASS"
    spec = project / "specs/systems/small.yaml"
    spec.write_text(spec.read_text().replace("    reference: {}", '    reference: {}\n    env: {"DEMO_FAULT": "eos2"}'))
    result = doit(project)
    assert result.returncode == 1 and "withdrew " in result.stderr
    assert not tree.exists()
    kept = list((project / "build/withdrawn/small/llama2-70b-99/Offline/TEST06").iterdir())
    assert len(kept) == 1 and json.loads((kept[0] / "verify.json").read_text())["verdict"] == "PASS"
    code, rows = summary_json(project, capsys)
    row = next(r for r in rows if r["test"] == "TEST06")
    assert code == 1 and row["status"] == "FAIL" and row["kind"] == "verification"
    assert row["reason"].startswith("EOS: ") and "more than one EOS" in row["reason"]
