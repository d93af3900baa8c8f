"""``mlperf-compliance init``: a project of the user's own, over the packaged rounds, models and tests."""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers.paths import SHIPPED_SPECS


def _counts(systems: int, extra_rounds: int = 0) -> str:
    """validate's first line for the shipped rounds, models and tests (and ``extra_rounds`` of the project's)."""
    n = {kind: len(list((SHIPPED_SPECS / kind).glob("*.yaml"))) for kind in ("rounds", "models", "tests")}
    return (
        f"specs: {n['rounds'] + extra_rounds} rounds, {n['models']} models, {n['tests']} tests, "
        f"{systems} system{'s' if systems != 1 else ''}: OK"
    )


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example system's ``~/harness`` lies in the test's own home folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    print(result.stdout[-5000:], result.stderr[-5000:])
    return result


def test_init_writes_a_project_whose_example_system_validates(tmp_path: Path, capsys) -> None:
    assert main(["init", "proj"]) == 0
    out = capsys.readouterr().out
    project = tmp_path / "proj"
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()) == [
        ".gitignore",
        "README.md",
        "dodo.py",
        "specs/systems/my-system.yaml",
    ]
    assert "wrote proj/specs/systems/my-system.yaml" in out and "next: edit" in out
    assert "build/" in (project / ".gitignore").read_text().splitlines()
    assert "# proj" in (project / "README.md").read_text()
    example = (project / "specs" / "systems" / "my-system.yaml").read_text()
    assert sum(line.lstrip().startswith("#") or "  # " in line for line in example.splitlines()) >= 10  # commented
    assert main(["validate", "--specs", "proj/specs"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("proj/" + _counts(1))


def test_init_never_overwrites_and_adds_build_to_an_existing_gitignore(tmp_path: Path, capsys) -> None:
    (tmp_path / "README.md").write_text("mine\n")
    (tmp_path / ".gitignore").write_text("*.pyc")
    (tmp_path / "dodo.py").write_text("def task_mine():\n    return {'actions': ['true']}\n")
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "README.md").read_text() == "mine\n"
    assert "kept README.md (it exists; init never overwrites)" in out
    assert "task_mine" in (tmp_path / "dodo.py").read_text() and "globals().update(dodo_namespace())" in out
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\nbuild/\n"
    system = tmp_path / "specs" / "systems" / "my-system.yaml"
    system.write_text(system.read_text().replace("MyOrg", "Acme"))
    assert main(["init", "."]) == 0  # again: everything is kept, the user's edit too
    out = capsys.readouterr().out
    assert "wrote" not in out and out.count("kept ") == 4
    assert "Acme" in system.read_text() and (tmp_path / ".gitignore").read_text() == "*.pyc\nbuild/\n"


def test_init_demo_writes_the_packaged_demo_systems(tmp_path: Path, capsys) -> None:
    assert main(["init", "demo-project", "--demo"]) == 0
    systems = tmp_path / "demo-project" / "specs" / "systems"
    assert sorted(p.name for p in systems.iterdir()) == ["demo-v6.yaml", "demo.yaml"]
    for path in systems.iterdir():
        assert path.read_text() == (SHIPPED_SPECS / "systems" / path.name).read_text()
    capsys.readouterr()
    assert main(["validate", "--specs", "demo-project/specs"]) == 0
    assert "2 systems: OK" in capsys.readouterr().out


def test_init_into_a_file_is_one_error_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "taken").write_text("x")
    assert main(["init", "taken"]) == 2
    err = capsys.readouterr().err
    assert err == "error: taken: is not a folder; give a new or existing folder for the project\n"


def test_the_project_adds_rounds_and_overrides_packaged_ones_by_file_name(tmp_path: Path, capsys) -> None:
    assert main(["init", "--demo"]) == 0
    rounds = tmp_path / "specs" / "rounds"
    rounds.mkdir()
    (rounds / "v5.1.yaml").write_text((SHIPPED_SPECS / "rounds" / "v5.1.yaml").read_text())  # a copy: no override
    changed = (
        (SHIPPED_SPECS / "rounds" / "v5.0.yaml").read_text().replace("resnet: [TEST01, TEST04]", "resnet: [TEST01]")
    )
    assert changed != (SHIPPED_SPECS / "rounds" / "v5.0.yaml").read_text()
    (rounds / "v5.0.yaml").write_text(changed)
    (rounds / "v9.9.yaml").write_text((SHIPPED_SPECS / "rounds" / "v6.1.yaml").read_text().replace("v6.1", "v9.9"))
    capsys.readouterr()
    assert main(["validate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == _counts(2, extra_rounds=1)
    packaged = Path(str(files("compliance.specdata"))) / "rounds" / "v5.0.yaml"
    assert out[1] == f"  specs/rounds/v5.0.yaml overrides the packaged round v5.0 ({packaged})"
    assert not any("v5.1" in line or "v9.9" in line for line in out)
    # the project's round is the one used: no TEST04 cell for resnet in v5.0 any more
    assert main(["summary", "--system", "demo", "--format", "json"]) == 1
    assert "TEST04" not in capsys.readouterr().out


def test_a_broken_override_is_reported_and_not_replaced_by_the_packaged_spec(tmp_path: Path, capsys) -> None:
    assert main(["init", "--demo"]) == 0
    (tmp_path / "specs" / "tests").mkdir()
    (tmp_path / "specs" / "tests" / "TEST04.yaml").write_text("name: TEST04\nattempts: many\n")
    capsys.readouterr()
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("specs/tests/TEST04.yaml:") and "TEST04" in err and "packaged" not in err


def test_outside_a_project_validate_says_to_init_and_audit_config_uses_the_packaged_specs(capsys) -> None:
    assert main(["validate"]) == 2
    assert "start a project with 'mlperf-compliance init'" in capsys.readouterr().err
    assert main(["audit-config", "TEST04", "--model", "resnet", "--scenario", "Offline"]) == 0
    assert "*.Offline.mode = 2" in capsys.readouterr().out


def test_mlperf_compliance_runs_doit_without_a_dodo_file_as_doit_does_with_the_one_init_writes(
    tmp_path: Path, capsys
) -> None:
    assert main(["init", "--demo"]) == 0
    (tmp_path / "dodo.py").rename(tmp_path / "saved-dodo.py")
    packaged = _run("compliance", "list", "--all", cwd=tmp_path)
    assert packaged.returncode == 0 and "run:demo/resnet/Offline/TEST01" in packaged.stdout
    (tmp_path / "saved-dodo.py").rename(tmp_path / "dodo.py")
    with_dodo = _run("doit", "list", "--all", cwd=tmp_path)
    assert with_dodo.returncode == 0 and with_dodo.stdout == packaged.stdout
    (tmp_path / "specs" / "systems" / "demo.yaml").write_text("name: [demo\n")
    for result in (_run("compliance", "list", cwd=tmp_path), _run("doit", "list", cwd=tmp_path)):
        assert result.returncode == 2 and result.stderr.startswith("specs/systems/demo.yaml:2: YAML syntax error")
        assert "Traceback" not in result.stderr


def test_the_readme_quick_start_makes_a_venv_and_ci_runs_its_test_command_exactly() -> None:
    from tests.helpers.paths import PROJECT

    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0].strip() for b in quick.split("```sh\n")[1:3]]
    venv = "python3 -m venv .venv && . .venv/bin/activate && "
    assert blocks == [f"{venv}pip install -e '.[demo]' && doit", f"{venv}pip install -e '.[test]' && pytest"]
    ci = (PROJECT / ".ci" / "run").read_text(encoding="utf-8").rstrip("\n").splitlines()
    assert ci[-1] == blocks[1]


def test_doit_summary_takes_the_selection_options_of_mlperf_compliance_summary(tmp_path: Path, capsys) -> None:
    assert main(["init", "--demo"]) == 0
    capsys.readouterr()
    for result in (
        _run("doit", "summary", "--system", "demo", cwd=tmp_path),
        _run("doit", "summary", "system=demo", cwd=tmp_path),
    ):
        rows = [line.split()[0] for line in result.stdout.splitlines()[2:] if line.strip() and "cells:" not in line]
        assert result.returncode == 1 and rows and set(rows) == {"demo"}, result.stderr  # 1: nothing has run yet
    both = _run("doit", "summary", "--system", "demo", "--system", "demo-v6", "--specs", "specs", cwd=tmp_path)
    assert both.returncode == 1 and "demo-v6" in both.stdout and "17 cells" in both.stdout
    wrong = _run("doit", "summary", "--system", "dmeo", cwd=tmp_path)
    assert (
        wrong.returncode == 2
        and wrong.stderr == "error: unknown system 'dmeo' (did you mean 'demo'?); known: demo, demo-v6\n"
    )
