"""The tool as users install it: the wheel built from this source, installed into a fresh virtual environment
outside the repository, starts a project of its own (``init``) that validates and runs a demo cell.

The wheel is built from a copy of the project's files (building writes its egg-info beside the sources), with
pip's build isolation, as ``pip install`` of the source does; the fresh environment gets the wheel and its
dependencies from the package index, as a user's does. The full demo run in such a project is the manual
acceptance check (README, docs/performance.md); here one cell runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers.paths import PROJECT, SHIPPED_SPECS

RUNTIME = {"doit", "jsonschema", "pyyaml", "tabulate"}


def _run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    print("$", *args, "\n", result.stdout[-10000:], result.stderr[-5000:])  # shown when a test fails
    return result


def _sources(target: Path) -> Path:
    """A copy of the project's own files (those git tracks, else the tree less what builds make)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True, check=False)
    if listed.returncode == 0 and listed.stdout:
        for name in listed.stdout.decode().split("\0"):
            if name and (PROJECT / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(PROJECT / name, target / name)
    else:
        ignored = shutil.ignore_patterns("build", ".git", "*.egg-info", "__pycache__", ".venv", "*.so")
        shutil.copytree(PROJECT, target, ignore=ignored, dirs_exist_ok=True)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    source = _sources(root / "src")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", root / "dist", source, cwd=root)
    assert built.returncode == 0, built.stderr
    (found,) = (root / "dist").glob("mlperf_inference_compliance-*.whl")
    return found


def test_the_wheel_carries_the_specs_schemas_templates_and_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
    for kind in ("rounds", "models", "tests"):
        shipped = {p.name for p in (SHIPPED_SPECS / kind).glob("*.yaml")}
        assert shipped and {f"compliance/specdata/{kind}/{n}" for n in shipped} <= names
    assert {"compliance/specdata/systems/demo.yaml", "compliance/specdata/systems/demo-v6.yaml"} <= names
    assert {f"compliance/schemas/{p.name}" for p in (PROJECT / "schemas").glob("*.json")} <= names
    assert {
        "compliance/commands/init_templates/my-system.yaml",
        "compliance/commands/init_templates/dodo.py.txt",
    } <= names
    assert not [n for n in names if n.startswith(("tests/", "specs/", "schemas/", "bench/"))]
    headers = [line for line in metadata.split("\n\n", 1)[0].splitlines()]
    assert "Name: mlperf-inference-compliance" in headers
    (summary,) = [h for h in headers if h.startswith("Summary: ")]
    assert all(t in summary for t in ("TEST01", "TEST04", "TEST06", "TEST07", "TEST08", "TEST09"))
    assert any(h.startswith("Project-URL: ") for h in headers)
    assert "Classifier: Programming Language :: Python :: 3.11" in headers
    required = {
        h.split(": ", 1)[1].split(">")[0].split(";")[0].strip().lower()
        for h in headers
        if h.startswith("Requires-Dist: ") and "extra ==" not in h
    }
    assert required == RUNTIME


def test_installed_in_a_fresh_environment_init_validate_and_a_demo_cell_pass(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv, cwd=tmp_path).returncode == 0
    pip = _run(venv / "bin" / "python", "-m", "pip", "install", "-q", f"{wheel}[demo]", cwd=tmp_path)
    assert pip.returncode == 0, pip.stderr
    tool = venv / "bin" / "mlperf-compliance"
    where = _run(venv / "bin" / "python", "-c", "import compliance; print(compliance.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), "the tool must come from the fresh environment, not the repository"
    assert _run(tool, "--version", cwd=tmp_path).stdout.startswith("mlperf-compliance ")

    assert _run(tool, "init", "demo-project", "--demo", cwd=tmp_path).returncode == 0
    project = tmp_path / "demo-project"
    valid = _run(tool, "validate", cwd=project)
    counts = {kind: len(list((SHIPPED_SPECS / kind).glob("*.yaml"))) for kind in ("rounds", "models", "tests")}
    first = f"specs: {counts['rounds']} rounds, {counts['models']} models, {counts['tests']} tests, 2 systems: OK"
    assert valid.returncode == 0 and valid.stdout.startswith(first)

    cell = "demo/llama2-70b-99/Offline/TEST06"  # a compliance run and its verification, no submission runs needed
    ran = _run(tool, f"publish:{cell}", cwd=project)
    assert ran.returncode == 0, ran.stderr
    rows = json.loads(_run(tool, "summary", "--system", "demo", "--format", "json", cwd=project).stdout)["records"]
    (row,) = [r for r in rows if f"{r['system']}/{r['benchmark']}/{r['scenario']}/{r['test']}" == cell]
    assert row["status"] == "PASS", row
    tree = project / "build" / "submission-v5.0" / "closed" / "Demo" / "compliance" / "demo" / "llama2-70b-99"
    assert (tree / "Offline" / "TEST06" / "verify.json").is_file()
    again = _run(venv / "bin" / "doit", f"publish:{cell}", cwd=project)  # the dodo.py init wrote: nothing reruns
    assert again.returncode == 0 and "0 ran" in again.stdout

    example = tmp_path / "my-project"
    assert _run(tool, "init", example, cwd=tmp_path).returncode == 0
    assert _run(tool, "validate", cwd=example).returncode == 0
