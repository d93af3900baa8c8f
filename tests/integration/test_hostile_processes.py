"""Hostile input that needs a real process (issue 24 items 4 and 5): Ctrl-C while doit starts, a reader that went
away (``| head``), a declared input that is a FIFO or a device, a disk that is really full, a tree that is really
read-only. Each ends in one line (or none, for a closed pipe) and its exit status, never a traceback or a hang.

The project is one TEST01 cell whose harness copies written logs (tests/helpers/harness.py): no LoadGen.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import harness as h
from tests.helpers.paths import write_tree
from tests.helpers.projects import doit, make_project, summary_rows, wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals, FIFOs and mounts as Linux has them")

CELL = "box/retinanet/Offline/TEST01"
INTERRUPTED = "interrupted by SIGINT; run the same command again to resume"


def _system(inputs: str = "") -> str:
    return (
        "name: box\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: submission\n"
        "upload: {performance_rules: false}\n"  # a harness of written logs, with LoadGen's default seeds
        "benchmarks:\n  retinanet:\n    scenarios: [Offline]\n    workdir: work\n"
        "    command: '{python} ../harness.py {log_dir} calls/box'\n    results: results/{scenario}\n" + inputs
    )


def _project(root: Path, inputs: str = "", logs: dict[str, str] | None = None) -> Path:
    make_project(root, {"box": _system(inputs)})
    write_tree(
        root,
        {
            "harness.py": h.SCRIPT,
            "work": {},
            "attempts": {"box": {"1": logs or h.compliance_logs()}},
            "results": {"Offline": h.results()},
        },
    )
    return root


def _run(project: Path, front: str, *args: str, **options: object) -> subprocess.CompletedProcess[str]:
    """``doit ARGS`` or ``mlperf-compliance ARGS`` in a process of its own."""
    module = "doit" if front == "doit" else "compliance"
    options = {"capture_output": True, "text": True, "timeout": 120, **options}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=project, check=False, **options)  # type: ignore[call-overload,no-any-return]


# -- Ctrl-C while doit starts ---------------------------------------------------------------------------------------

#: runs doit or mlperf-compliance, pausing (a marker file says when) as the tasks' modules load or as the specs are
#: read, so that the test's SIGINT lands there every time
PAUSED = """\
import runpy, sys, time
mark, moment, front = sys.argv[1:4]
sys.argv = [front, *sys.argv[4:]]

def pause():
    open(mark, "w").close()
    time.sleep(120)

if moment == "modules":
    class Pause:
        def find_spec(self, name, path=None, target=None):
            if name == "compliance.plan":
                pause()
            return None
    sys.meta_path.insert(0, Pause())
else:
    from compliance.specs import loader
    real = loader.load_specs
    def load_specs(*args, **kwargs):
        pause()
        return real(*args, **kwargs)
    loader.load_specs = load_specs
runpy.run_module("doit" if front == "doit" else "compliance", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("front", ["doit", "mlperf-compliance"])
@pytest.mark.parametrize("moment", ["modules", "specs"])
def test_ctrl_c_while_doit_starts_is_one_line_and_130(tmp_path: Path, front: str, moment: str) -> None:
    project = _project(tmp_path / "p")
    script, mark = tmp_path / "paused.py", tmp_path / "paused"
    script.write_text(PAUSED)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(mark), moment, front, "list"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(mark, 120)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert (proc.returncode, err) == (130, INTERRUPTED + "\n")
    assert out == ""


# -- a reader that went away: `... | head` ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose one cell passed."""
    project = _project(tmp_path_factory.mktemp("pipe") / "p")
    assert doit(project).returncode == 0
    return project


#: (front door, arguments, exit status with no reader: the command's own, or SIGPIPE for doit's own commands)
CLOSED_PIPE = [
    ("doit", ["list"], -signal.SIGPIPE),
    ("doit", ["info", f"run:{CELL}"], -signal.SIGPIPE),
    ("doit", [], -signal.SIGPIPE),
    ("doit", ["summary"], 0),
    ("mlperf-compliance", ["summary", "--format", "json"], 0),
    ("mlperf-compliance", ["list"], 0),
    ("mlperf-compliance", ["validate"], 0),
    ("mlperf-compliance", [], 0),
    ("mlperf-compliance", ["--version"], 0),
]


@pytest.mark.parametrize(
    ("front", "args", "status"), CLOSED_PIPE, ids=[f"{f} {' '.join(a)}" for f, a, s in CLOSED_PIPE]
)
def test_output_into_a_closed_pipe_ends_quietly(finished: Path, front: str, args: list[str], status: int) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # `| head` that has read what it wanted, before anything was written
    try:
        done = _run(finished, front, *args, stdout=writer, capture_output=False, stderr=subprocess.PIPE)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (status, "")


# -- a declared input that is a FIFO or a device ------------------------------------------------------------------


def test_a_declared_input_that_is_a_fifo_or_a_device_hangs_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", "    inputs: [user.conf, model.bin]\n")
    (project / "user.conf").write_text("*.Offline.target_qps = 100\n")
    (project / "model.bin").write_text("weights\n")
    assert doit(project).returncode == 0  # their stamps are recorded: every command now looks at them
    (project / "user.conf").unlink()
    os.mkfifo(project / "user.conf")  # a read of it waits for a writer that never comes
    (project / "model.bin").unlink()
    (project / "model.bin").symlink_to("/dev/zero")  # a read of it never ends
    lines = [
        "specs/systems/box.yaml:13: $.benchmarks.retinanet.inputs[0]: declared input 'user.conf' is a FIFO: an "
        "input is a regular file or a folder of them",
        "specs/systems/box.yaml:13: $.benchmarks.retinanet.inputs[1]: declared input 'model.bin' is a character "
        "device: an input is a regular file or a folder of them",
        "error: 2 problems in specs; nothing was run",
    ]
    for args in ([], ["summary"], ["info", f"run:{CELL}"]):
        done = _run(project, "doit", *args, timeout=60)
        assert (done.returncode, done.stderr.splitlines()) == (2, lines), args


# -- a disk that is really full, a tree that is really read-only (root, with mounts) --------------------------------


@contextmanager
def _mounted(folder: Path, *options: str) -> Iterator[None]:
    """``mount OPTIONS ... folder`` for the block (skips the test where this process may not mount)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small or read-only file system needs root (CI runs as root)")
    done = subprocess.run(["mount", *options, str(folder)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this machine may not mount here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(disk: Path, leave_kib: int) -> None:
    """Fill the file system of ``disk`` but ``leave_kib`` KiB."""
    st = os.statvfs(disk)
    room = st.f_bavail * st.f_frsize - leave_kib * 1024
    with open(disk / "filler", "wb") as f:
        while room > 0:
            room -= f.write(b"\0" * min(room, 1 << 16))


@pytest.mark.parametrize("leave_kib", [4, 128, 200, 300])  # the database, a step, a record, after the last step
def test_a_really_full_disk_is_one_line_and_the_next_run_finishes(tmp_path: Path, leave_kib: int) -> None:
    disk = tmp_path / "disk"
    with _mounted(disk, "-t", "tmpfs", "-o", "size=2m", "tmpfs"):
        project = _project(disk / "p")
        _fill(disk, leave_kib)
        done = _run(project, "mlperf-compliance")
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
        if done.returncode != 0:  # how far it got depends on the room left; whatever stopped it is said
            assert done.returncode == 2 and errors, done.stdout + done.stderr
            assert all(("No space left on device" in e or "no space left on the device" in e) for e in errors)
        (disk / "filler").unlink()
        again = _run(project, "mlperf-compliance")
        assert again.returncode == 0, again.stdout + again.stderr
        assert [r["status"] for r in summary_rows(project) if r.get("test") == "TEST01"] == ["PASS"]


def test_a_really_read_only_tree_is_one_line_when_a_folder_is_withdrawn(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    assert doit(project).returncode == 0
    tree = project / "submission"
    (project / "attempts" / "box" / "2").mkdir()
    write_tree(project / "attempts" / "box" / "2", h.compliance_logs(differ=True))  # the rerun fails: withdraw
    with _mounted(tree, "--bind", str(tree)):
        subprocess.run(["mount", "-o", "remount,ro,bind", str(tree)], check=True)
        done = _run(project, "mlperf-compliance", "rerun", CELL)
        assert "Traceback" not in done.stdout + done.stderr
        assert done.returncode == 1
        line = f"cannot withdraw submission/closed/Acme/compliance/{CELL}: Read-only file system"
        assert line in done.stdout
        assert (tree / "closed/Acme/compliance" / CELL / "verify.json").exists()  # the copy stays
