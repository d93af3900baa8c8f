"""The mlperf-compliance command line, driven in-process through main(argv)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers.paths import PROJECT, SHIPPED_SPECS
from tests.helpers.projects import doit, tool

SPECS = str(SHIPPED_SPECS)


def test_audit_config_prints_the_rendered_file(capsys) -> None:
    assert main(["audit-config", "TEST01", "--model", "resnet", "--scenario", "Offline", "--specs", SPECS]) == 0
    out = capsys.readouterr().out
    assert out.endswith(
        "*.*.mode = 2\n*.*.accuracy_log_rng_seed = 720381539243781796\n*.*.accuracy_log_sampling_target = 4096\n"
    )


def test_audit_config_accepts_aliases(capsys) -> None:
    assert main(["audit-config", "TEST04", "--model", "sdxl", "--scenario", "Offline", "--specs", SPECS]) == 0
    assert "*.Offline.min_query_count = 500\n" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["TEST1", "--model", "resnet", "--scenario", "Offline"],
            "error: unknown test 'TEST1' (did you mean 'TEST01'?)",
        ),
        (
            ["TEST01", "--model", "resnt", "--scenario", "Offline"],
            "error: unknown model 'resnt' (did you mean 'resnet'?)",
        ),
        (
            ["TEST01", "--model", "resnet", "--scenario", "Ofline"],
            "error: unknown scenario 'Ofline' (did you mean 'Offline'?)",
        ),
        (["TEST01", "--model", "rgat", "--scenario", "Server"], "error: rgat has no scenario 'Server'"),
        (["TEST01", "--model", "mixtral-8x7b", "--scenario", "Offline"], "error: TEST01 needs audit_params.TEST01"),
    ],
)
def test_audit_config_bad_input_exits_2_with_one_line(argv: list[str], message: str, capsys) -> None:
    assert main(["audit-config", *argv, "--specs", SPECS]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(message) and captured.err.count("\n") == 1


def test_missing_specs_folder_exits_2(capsys) -> None:
    assert main(["validate", "--specs", "nowhere"]) == 2
    assert "nowhere: specs folder does not exist" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys) -> None:
    assert main(["audit-config", "TEST01"]) == 2
    assert "--model" in capsys.readouterr().err


def test_version_names_the_scanner_in_use(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.logs import scan

    assert main(["--version"]) == 0
    assert f"(accuracy-log scanner: {scan.in_use()}" in capsys.readouterr().out
    monkeypatch.setenv(scan.ENV, "regex")
    assert main(["--version"]) == 0
    assert "(accuracy-log scanner: regex, " in capsys.readouterr().out


def test_help_exits_0(capsys) -> None:
    assert main(["--help"]) == 0
    assert "validate" in capsys.readouterr().out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project's dodo.py and specs, for doit commands."""
    shutil.copy(PROJECT / "dodo.py", tmp_path / "dodo.py")
    shutil.copytree(SHIPPED_SPECS, tmp_path / "specs")
    return tmp_path


def test_doit_commands_work_through_mlperf_compliance(project: Path) -> None:
    listed = tool(project, "list")
    assert listed.returncode == 0, listed.stderr
    for step in ("reference", "run", "verify", "publish"):
        assert f"\n{step} " in "\n" + listed.stdout
    info = tool(project, "info", "verify:demo/resnet/Offline/TEST01")
    assert info.returncode == 1 and "verify:demo/resnet/Offline/TEST01" in info.stdout  # 1: not up to date
    summary = tool(project, "summary")
    assert summary.returncode == 1 and "17 cells: 17 NOT RUN; submission runs in the tree: 24 NOT RUN" in summary.stdout
    forget = tool(project, "forget", "verify:demo/resnet/Offline/TEST01")  # doit's forget returns None: success
    assert forget.returncode == 0 and "Traceback" not in forget.stderr, forget.stderr


def test_doit_specs_variable_chooses_the_specs_folder(project: Path) -> None:
    result = doit(project, "specs=elsewhere")
    assert result.returncode == 2
    assert "elsewhere: specs folder does not exist" in result.stderr
    summary = doit(project, "summary", "specs=elsewhere")  # doit summary reads specs= too
    assert summary.returncode == 2 and "elsewhere: specs folder does not exist" in summary.stderr


def test_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "compliance", "validate", "--specs", SPECS], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_ci_runs_the_readme_test_command() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    command = "pip install -e '.[test]' && pytest"
    assert command in readme
    assert command in (PROJECT / ".ci" / "run").read_text(encoding="utf-8")


def test_system_selection_runs_and_summarises_one_system(project: Path) -> None:
    listed = doit(project, "list", "--all", "system=demo")
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines() if ":" in line.split()[0]]
    cells = [name for name in names if not name.startswith(("preflight:", "checker:"))]  # those are by tree
    assert cells and all(name.split(":", 1)[1].split("/")[0] == "demo" for name in cells)
    summary = tool(project, "summary", "--system", "demo-v6")
    assert "10 cells: 10 NOT RUN" in summary.stdout and " demo " not in summary.stdout
    unknown = doit(project, "list", "system=demo7")
    assert unknown.returncode == 2 and "unknown system 'demo7' (did you mean 'demo'?)" in unknown.stderr
