"""The quick start's demo build, made once per session and given to each module that needs it as it was built.

Building the demo (103 tasks, real LoadGen) is the longest step of the suite. It is made once, in a process of its
own as a user starts it, then kept as a snapshot; each module that asks for it gets the project put back from the
snapshot at the same path (files copied with their times: every record and doit's database stay true), so a module's
edits never reach another's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.paths import PROJECT, SHIPPED_SPECS
from tests.helpers.projects import DemoBuild, tool_process


@pytest.fixture(scope="session")
def _demo_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    pytest.importorskip("mlperf_loadgen")
    base = tmp_path_factory.mktemp("demo-build")
    project = base / "quick-start"
    project.mkdir()
    shutil.copy(PROJECT / "dodo.py", project / "dodo.py")
    shutil.copytree(SHIPPED_SPECS, project / "specs")
    done = tool_process(project)  # `mlperf-compliance` alone: doit's default task, every step of every cell
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    snapshot = base / "snapshot"
    shutil.copytree(project, snapshot, symlinks=True)
    return project, snapshot, done.stdout


@pytest.fixture(scope="module")
def demo_build(_demo_snapshot: tuple[Path, Path, str]) -> DemoBuild:
    """The demo as it was built (put back at its path for this module)."""
    project, snapshot, stdout = _demo_snapshot
    shutil.rmtree(project)
    shutil.copytree(snapshot, project, symlinks=True)
    return DemoBuild(project, stdout)
