"""Spec examples under tests/spec_examples: each invalid case prints exactly its expected messages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers.paths import SPEC_EXAMPLES

EXAMPLES = SPEC_EXAMPLES
INVALID = sorted(p for p in (EXAMPLES / "invalid").iterdir() if p.is_dir())
VALID = sorted(p for p in (EXAMPLES / "valid").iterdir() if p.is_dir())


def _lay_over(case: Path, specs: Path) -> None:
    for kind in ("rounds", "models", "tests", "systems"):
        if (case / kind).is_dir():
            shutil.copytree(case / kind, specs / kind, dirs_exist_ok=True)
    if (case / "tree").is_dir():
        shutil.copytree(case / "tree", specs.parent, dirs_exist_ok=True)


def _expected(case: Path) -> list[str]:
    return (case / "expected.txt").read_text(encoding="utf-8").splitlines()


def _validate(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(["validate", "--specs", "specs"])
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    return code, lines, captured.out


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.name)
def test_invalid_case_reports_exactly_its_problems(case: Path, specs_copy: Path, capsys) -> None:
    _lay_over(case, specs_copy)
    code, lines, out = _validate(capsys)
    assert code == 2, out
    assert lines[:-1] == _expected(case), "\n".join(lines)
    count = len(lines) - 1
    assert lines[-1] == f"error: {count} problem{'s' if count != 1 else ''} in specs; nothing was run"
    assert "Traceback" not in "\n".join(lines)


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_valid_case_validates(case: Path, specs_copy: Path, capsys) -> None:
    """A valid case validates, printing exactly the warnings of its ``warnings.txt`` (none without one)."""
    _lay_over(case, specs_copy)
    code, lines, out = _validate(capsys)
    assert code == 0, "\n".join(lines)
    kinds = {kind: len(list((specs_copy / kind).glob("*.yaml"))) for kind in ("rounds", "models", "tests")}
    assert out.startswith(
        f"specs: {kinds['rounds']} rounds, {kinds['models']} models, {kinds['tests']} tests, 1 system: OK"
    )
    warnings = case / "warnings.txt"
    expected = warnings.read_text(encoding="utf-8") if warnings.exists() else ""
    assert lines == expected.replace("$HOME", os.path.expanduser("~")).splitlines()  # a warning names the real path


def _adds_only(case: Path, specs: Path) -> bool:
    """True when the case only adds files (one that replaces a shipped spec changes how others resolve)."""
    return not any((specs / f.relative_to(case)).exists() for f in case.rglob("*.yaml"))


def test_every_problem_of_every_file_is_reported_at_once(specs_copy: Path, capsys) -> None:
    cases = [case for case in INVALID if _adds_only(case, specs_copy)]
    assert len(cases) >= 8
    for case in cases:
        _lay_over(case, specs_copy)
    code, lines, _ = _validate(capsys)
    assert code == 2

    def norm(line: str) -> str:  # together, the round v9.9 of one case is among the known rounds of another
        return re.sub(r"; known: [a-z0-9., -]*$", "", line)

    assert sorted(map(norm, lines[:-1])) == sorted(norm(line) for case in cases for line in _expected(case))


def test_shipped_specs_are_valid(capsys) -> None:
    from tests.helpers.paths import SHIPPED_SPECS

    assert main(["validate", "--specs", str(SHIPPED_SPECS)]) == 0
    assert "2 systems: OK" in capsys.readouterr().out


def _home_system(specs: Path) -> None:
    (specs / "systems" / "home.yaml").write_text(
        "name: home\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: ~/sub\n"
        "inputs: [$HOME/user.conf]\nbenchmarks:\n  resnet:\n    scenarios: [Offline]\n"
        "    workdir: ${SCRATCH}/{scenario}\n    command: ./run.sh {mode} {log_dir}\n    log_dir: ~/logs\n"
        "    reference: {}\n",
        encoding="utf-8",
    )


def test_home_and_variables_in_paths_are_expanded_once_for_validate_info_and_the_run(
    specs_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compliance.plan import build_plan, load_specs

    home, scratch = tmp_path / "home", tmp_path / "scr{a}tch"  # a brace from the environment is no placeholder
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SCRATCH", str(scratch))
    _home_system(specs_copy)
    plan = build_plan(load_specs(specs_copy))
    cell = next(c for c in plan.cells if c.cell.id == "home/resnet/Offline/TEST01")
    assert cell.run.workdir == str(scratch / "Offline")
    assert cell.submission_dir == str(home / "sub") and cell.tree_dir.startswith(str(home / "sub") + "/")
    assert cell.run.inputs == (str(home / "user.conf"),)
    assert cell.run.harness_log_dir is None  # the command takes {log_dir}
    assert all(ref.run.workdir.startswith(str(tmp_path)) for ref in cell.references)
    # doit info shows the same folders, and nothing named '~' or '$...' is created anywhere
    result = subprocess.run(
        [sys.executable, "-m", "compliance", "info", "run:home/resnet/Offline/TEST01"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and result.stderr == ""  # doit info: 1 for a task that is to run
    assert f"'workdir': '{scratch / 'Offline'}'" in result.stdout
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(("~", "$"))]


def test_an_unset_variable_in_a_path_is_refused_and_named(
    specs_copy: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    _home_system(specs_copy)
    monkeypatch.delenv("SCRATCH", raising=False)
    code, lines, _ = _validate(capsys)
    assert code == 2
    assert lines[0] == (
        "specs/systems/home.yaml:10: $.benchmarks.resnet.workdir: '${SCRATCH}': the environment variable SCRATCH is "
        "not set; set it before running the tool, or write the folder in full"
    )
    assert len(lines) == 2
