"""``mlperf-compliance review``: its outputs, exit statuses, --severity and --strict, GitHub Actions, a closed pipe."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.review.progress import Progress
from tests.helpers import reviewtree as rt
from tests.helpers.paths import PROJECT, SHIPPED_SPECS


def tree(tmp_path: Path, defect: str = "") -> Path:
    files = rt.honest()
    if defect == "slow":
        path = f"{rt.COMPLIANCE}/resnet/Offline/TEST01/performance/run_1/mlperf_log_detail.txt"
        files[path] = rt.set_values(files[path], result_samples_per_second=500.0)
    elif defect == "qps":  # a warning only
        path = f"{rt.COMPLIANCE}/resnet/Server/TEST04/performance/run_1/mlperf_log_detail.txt"
        files[path] = rt.set_values(files[path], effective_target_qps=920.0)
    elif defect == "unknown-model":  # a check NOT CHECKABLE only
        files.update(rt.llama_cell("mystery-model", org="open/Acme"))
    return rt.write(tmp_path / "tree", files)


def review(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["review", "--specs", str(SHIPPED_SPECS), "--no-progress", "-j", "1", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_honest_tree_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = review(capsys, str(tree(tmp_path)))
    assert code == 0, out + err
    assert "round v5.1 (the seeds of v5.1 in 11 of 11 detail logs)" in out
    assert out.rstrip().endswith("11 folders: 11 PASS; findings: 0 errors, 0 warnings, 0 infos")


def test_a_defect_fails_with_its_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = review(capsys, str(tree(tmp_path, "slow")))
    assert code == 1
    assert "error   verify-text-pass-over-fail" in out and "error   performance-out-of-bounds" in out


def test_severity_chooses_what_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(tree(tmp_path, "qps"))
    assert review(capsys, root)[0] == 0
    code, out, _ = review(capsys, root, "--severity", "warning")
    assert code == 1 and "warning server-target-qps-differs" in out
    assert "TEST04" in out and "cache" in out  # the lower load explains lower latencies: never a cache finding


def test_strict_fails_what_could_not_be_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(tree(tmp_path, "unknown-model"))
    code, out, _ = review(capsys, root)
    assert code == 0 and "NOT CHECKABLE" in out
    assert review(capsys, root, "--strict")[0] == 1


def test_json_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "review.json"
    code, out, err = review(capsys, str(tree(tmp_path, "slow")), "--format", "json", "-o", str(target))
    assert code == 1 and out == "" and f"report in {target}" in err
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["meta"]["round"] == "v5.1" and len(document["records"]) == 11
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".review-")] == []
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # as a file the user writes


@pytest.mark.parametrize(
    "args, message",
    [
        (["--round", "v9.9"], "error: --round v9.9: no round spec of that name"),
        (["--format", "yaml"], "argument --format: invalid choice: 'yaml'"),
        (["-j", "-1"], "error: -j -1: the number of processes cannot be negative"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = review(capsys, str(tree(tmp_path)), *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_folder_outside_any_tree_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = review(capsys, str(tmp_path))
    assert code == 2 and "not inside a submission tree" in err


def test_github_actions_gets_annotations_and_a_job_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = review(capsys, str(tree(tmp_path, "slow")))
    assert code == 1 and "::error file=closed/Acme/compliance/sys1/resnet/Offline/TEST01" in out
    assert "## Findings (warning and above)" in summary.read_text(encoding="utf-8")


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    root = tree(tmp_path)
    command = (
        f"{sys.executable} -m compliance review {root} --specs {SHIPPED_SPECS} --no-progress -j 1 | head -n 1; "
        "exit ${PIPESTATUS[0]}"
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert (done.returncode, done.stderr) == (0, "") and done.stdout.startswith("reviewed the whole tree")


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise() -> None:
    out = io.StringIO()
    bar = Progress(out, 4, tty=True)
    for done in range(1, 5):
        bar.last = 0.0
        bar.update(done, done * 3)
    bar.close()
    assert "\rreview [" in out.getvalue() and "4/4 cells, 12 folders" in out.getvalue()
    out = io.StringIO()
    lines = Progress(out, 4, every_s=0.0, tty=False)
    lines.update(1, 3)
    assert out.getvalue().startswith("review: 1/4 cells, 3 folders") and "\r" not in out.getvalue()
