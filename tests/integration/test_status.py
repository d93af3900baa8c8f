"""Each status of the summary, built for real with doit, says one thing, in plain and JSON output.

The cells are TEST06 cells (no performance comparison) unless a submission run is needed, so no verdict depends on
the machine's load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers.projects import DEMO, doit, make_project, summary_rows, system_yaml, tool

CELL = ("box", "llama2-70b-99", "Offline", "TEST06")


def _summary(project: Path) -> tuple[dict, str]:
    """The JSON row of CELL (or of any cell given), and the plain table."""
    rows = {(r["system"], r["benchmark"], r["scenario"], r["test"]): r for r in summary_rows(project)}
    return rows, tool(project, "summary").stdout


def _row(project: Path, cell: tuple[str, str, str, str] = CELL) -> tuple[dict, str]:
    rows, plain = _summary(project)
    row = rows[cell]
    line = next(
        x for x in plain.splitlines() if x.startswith(cell[0]) and f" {cell[1]} " in x and cell[2] in x and cell[3] in x
    )
    assert row["status"] in line and row["reason"][:40] in line, (row, line)
    return row, line


def _box(tmp_path: Path, command: str = DEMO, **spec: object) -> Path:
    pytest.importorskip("mlperf_loadgen")
    return make_project(
        tmp_path,
        {"box": system_yaml("box", "v5.0", {"llama2-70b-99": {"scenarios": ["Offline"], "command": command, **spec}})},
    )


def test_edited_command_is_stale_and_names_the_command(tmp_path: Path) -> None:
    project = _box(tmp_path)
    assert doit(project).returncode == 0
    assert _row(project)[0]["status"] == "PASS"
    spec = project / "specs/systems/box.yaml"
    spec.write_text(spec.read_text().replace('command: "{python}', 'command: "DEMO_FAULT= {python}'))
    row, _ = _row(project)
    assert (row["status"], row["kind"]) == ("STALE", "stale")
    assert row["reason"].startswith("the command changed since the last run (last verdict PASS")


def test_failed_submission_run_fails_every_cell_that_needs_it(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    project = make_project(tmp_path, {"box": system_yaml("box", "v5.0", {"resnet": {"scenarios": ["Offline"]}})})
    spec = project / "specs/systems/box.yaml"
    spec.write_text(spec.read_text().replace("    reference: {}", "    reference: {command: 'exit 3'}"))
    result = doit(project)
    assert result.returncode == 1
    for test in ("TEST01", "TEST04"):
        row, _ = _row(project, ("box", "resnet", "Offline", test))
        assert (row["status"], row["kind"]) == ("FAIL", "reference"), row
        assert row["reason"].startswith("submission performance run: exit status 3") or row["reason"].startswith(
            "submission accuracy run: exit status 3"
        ), row


def test_empty_results_folder_waits_for_the_results(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    project = make_project(tmp_path, {"box": system_yaml("box", "v5.0", {"resnet": {"scenarios": ["Offline"]}})})
    (project / "results").mkdir()
    spec = project / "specs/systems/box.yaml"
    spec.write_text(spec.read_text().replace("    reference: {}", "    results: results"))
    row, _ = _row(project, ("box", "resnet", "Offline", "TEST04"))
    assert row["status"] == "NOT RUN" and "waits for its run" in row["reason"]
    assert doit(project, "run:box/resnet/Offline/TEST04").returncode == 0
    row, _ = _row(project, ("box", "resnet", "Offline", "TEST04"))
    assert (row["status"], row["kind"]) == ("NOT RUN", "waiting")
    assert (
        row["reason"]
        == "waits for the submission's results (results/performance/run_1/mlperf_log_detail.txt is missing)"
    )


def test_a_fixed_command_no_longer_shows_the_old_failure(tmp_path: Path) -> None:
    project = _box(tmp_path, command="exit 1")
    assert doit(project).returncode == 1
    row, _ = _row(project)
    assert (row["status"], row["kind"]) == ("FAIL", "run") and row["reason"].startswith("run: exit status 1")
    spec = project / "specs/systems/box.yaml"
    spec.write_text(spec.read_text().replace('command: "exit 1"', f"command: {json.dumps(DEMO)}"))
    row, _ = _row(project)
    assert row["status"] == "NOT RUN" and row["reason"].startswith("waits for its run (the command")
    assert "changed since the last run" in row["reason"]
    assert doit(project).returncode == 0 and _row(project)[0]["status"] == "PASS"


def test_stopped_after_the_run_waits_for_verify(tmp_path: Path) -> None:
    project = _box(tmp_path)
    assert doit(project, "run:box/llama2-70b-99/Offline/TEST06").returncode == 0
    row, _ = _row(project)
    assert (row["status"], row["reason"]) == ("NOT RUN", "waits for verify")
    assert doit(project, "verify:box/llama2-70b-99/Offline/TEST06").returncode == 0
    row, _ = _row(project)
    assert row["status"] == "NOT RUN" and row["reason"].startswith("verified PASS; waits for publish")


CRASH = textwrap.dedent("""
    import compliance.verify.tests.test06 as t

    def boom(request):
        raise ZeroDivisionError("planted in the verifier")

    object.__setattr__(t.VERIFIER, "verify", boom)
""")


def test_a_verifier_crash_is_a_fail_with_its_message(tmp_path: Path) -> None:
    project = _box(tmp_path)
    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / "sitecustomize.py").write_text(CRASH)
    env = {**os.environ, "PYTHONPATH": f"{plant}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run([sys.executable, "-m", "doit"], cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "the verifier crashed: ZeroDivisionError: planted in the verifier" in result.stdout
    assert "see " not in result.stdout.split("verify box/llama2-70b-99/Offline/TEST06 ... FAILED")[-1][:60]
    row, _ = _row(project)
    assert (row["status"], row["kind"]) == ("FAIL", "verification")
    assert row["reason"] == "the verifier crashed: ZeroDivisionError: planted in the verifier"


def test_a_refused_stage_is_a_fail_and_the_last_line_says_so(tmp_path: Path) -> None:
    project = _box(tmp_path)
    foreign = project / "work/box/llama2-70b-99/audit.config"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("*.*.mode = 2\n")
    result = doit(project)
    assert result.returncode == 1
    assert result.stdout.rstrip().splitlines()[-1] == "compliance table (1 FAIL): doit summary"
    row, _ = _row(project)
    assert (row["status"], row["kind"]) == ("FAIL", "run")
    assert "exists and was not placed by this project's runs" in row["reason"]
    assert foreign.read_text() == "*.*.mode = 2\n"
