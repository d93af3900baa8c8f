"""A review stopped by SIGTERM, Ctrl-C or SIGKILL ends with its workers: one line and its status, no report written
in part, no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import reviewtree as rt
from tests.helpers.paths import PROJECT, SHIPPED_SPECS

# The review's cells are made slow, so that the signal comes while workers hold one: each worker says it started
# (a file per process), then sleeps. The workers are forked from this patched process.
SCRIPT = """
import os, sys, time
from compliance.review import cell
from compliance.cli import main
real = cell.review_cell
def slow(job, specs, root):
    open(os.path.join(sys.argv[1], f"worker-{os.getpid()}"), "w").close()
    time.sleep(60)
    return real(job, specs, root)
cell.review_cell = slow
import compliance.review.engine as engine
engine.review_cell = slow
sys.exit(main(["review", sys.argv[2], "--specs", sys.argv[3], "-j", "2", "--format", "json", "-o", sys.argv[4]]))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").is_file() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.parametrize(
    "sig, group, status, line",
    [
        (signal.SIGTERM, False, 143, "interrupted by SIGTERM during review"),
        (signal.SIGINT, True, 130, "interrupted by SIGINT"),
        (signal.SIGKILL, False, -9, ""),
    ],
)
def test_a_stopped_review_leaves_no_worker(
    tmp_path: Path, sig: signal.Signals, group: bool, status: int, line: str
) -> None:
    root = rt.write(tmp_path / "tree", rt.honest())
    marks, report = tmp_path / "marks", tmp_path / "review.json"
    marks.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(marks), str(root), str(SHIPPED_SPECS), str(report)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [int(p.name.split("-")[1]) for p in marks.iterdir()]
    assert len(workers) == 2, "the workers did not start"
    (os.killpg if group else os.kill)(process.pid, sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == status and (line in err if line else True), err
    assert "Traceback" not in err and not report.exists(), err
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [w for w in workers if _alive(w)] == []
