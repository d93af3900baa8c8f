"""Shared fixtures: a scratch copy of the shipped specs, and a guard that keeps tests out of the project tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SHIPPED_SPECS = PROJECT / "specs"
SHARED_SAMPLES = PROJECT.parent / "shared" / "fixtures" / "mlperf-samples"


def write_tree(root: Path, tree: dict) -> None:
    """Create files from a nested dict: a str value is a file's text, a dict a folder."""
    for name, content in tree.items():
        path = root / name
        if isinstance(content, dict):
            path.mkdir(parents=True, exist_ok=True)
            write_tree(path, content)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own empty folder, so nothing can write into the project or its build/ folder."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def specs_copy(tmp_path: Path) -> Path:
    """A copy of the shipped rounds, models and tests, with an empty systems folder."""
    root = tmp_path / "specs"
    for kind in ("rounds", "models", "tests"):
        shutil.copytree(SHIPPED_SPECS / kind, root / kind)
    (root / "systems").mkdir()
    return root


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory: pytest.TempPathFactory):
    """Real LoadGen runs of the demo harness, cached for the session (skips without LoadGen)."""
    pytest.importorskip("mlperf_loadgen")
    from tests.demo_runs import DemoRuns

    return DemoRuns(tmp_path_factory.mktemp("loadgen"))
