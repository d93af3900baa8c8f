"""``mlperf-compliance summary`` (compliance/commands/summary.py): the table in each format, its exit status, and a
format it does not know (one line, status 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers.projects import make_project, system_yaml


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    found = make_project(
        tmp_path / "p", {"box": system_yaml("box", "v5.0", {"llama2-70b-99": {"scenarios": ["Offline"]}})}
    )
    monkeypatch.chdir(found)
    return found


def test_the_exit_status_says_whether_every_cell_passes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--format", "json"]) == 1
    rows = json.loads(capsys.readouterr().out)["records"]
    assert [(r["test"], r["status"], r["reason"]) for r in rows] == [
        ("TEST06", "NOT RUN", "waits for its run (it has not run yet)"),
        ("review", "NOT RUN", "waits for the review (the review has not run yet)"),
    ]
    for fmt, marker in (
        ("plain", "-------"),
        ("github", "::error file="),
        ("markdown", "|---|"),
        ("html", "<table>"),
        ("junit", "<testsuite"),
    ):
        assert main(["summary", "--format", fmt]) == 1
        assert marker in capsys.readouterr().out


def test_an_unknown_format_is_one_line_and_status_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--format", "yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown format 'yaml'") and err.count("\n") == 1
