"""Faults never lose data or leave audit.config behind: kills, awkward paths, read-only inputs, a write guard.

Each case is listed in docs/reliability.md with the test that proves it. doit runs in a process of its own where it
is killed or watched from outside (the write guard), in this process elsewhere (tests/helpers/projects.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from compliance.fsutil import replace_folder
from tests.helpers import harness as h
from tests.helpers.projects import DEMO, audit_configs, doit, executed, make_project, system_yaml, wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups and renameat2 are Linux facts here")


def test_sigkill_during_a_run_is_never_taken_for_a_finished_run(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    hang_once = tmp_path / "hang_once.sh"
    # the first run hangs (its pid in the flag file: the sleep replaces the shell), later ones run the demo
    hang_once.write_text(
        'if [ ! -e "$HANG_FLAG" ]; then\n'
        '  echo $$ > "$HANG_FLAG.new" && mv "$HANG_FLAG.new" "$HANG_FLAG"; exec sleep 60\n'
        "fi\n"
        'exec "$@"\n'
    )
    command = f"sh {hang_once} " + DEMO
    project = make_project(
        tmp_path / "p",
        {
            "box": system_yaml(
                "box",
                "v5.0",
                {
                    "llama2-70b-99": {
                        "scenarios": ["Offline"],
                        "command": command,
                        "env": {"HANG_FLAG": str(tmp_path / "flag")},
                    }
                },
            )
        },
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "doit"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    staged = project / "work/box/llama2-70b-99/audit.config"
    wait_for(tmp_path / "flag")
    os.killpg(proc.pid, signal.SIGKILL)  # doit and the benchmark die at once, as in a machine crash
    proc.wait(timeout=30)
    os.kill(int((tmp_path / "flag").read_text()), signal.SIGKILL)  # the benchmark (its own process group)
    assert staged.exists()  # what a crash leaves: our marked audit.config
    assert not (project / "build/box/llama2-70b-99/Offline/TEST06/logs/.run.signature").exists()

    again = doit(project)
    assert again.returncode == 0
    assert "run:box/llama2-70b-99/Offline/TEST06" in executed(again)
    assert audit_configs(project) == []
    verdict = json.loads((project / "build/box/llama2-70b-99/Offline/TEST06/verify/TEST06/verify.json").read_text())
    assert verdict["verdict"] == "PASS"
    assert executed(doit(project)) == set()  # the database is intact: nothing left to do


KILL_DURING_FILL = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from compliance.fsutil import replace_folder

    def fill(staging):
        (staging / "verify.json").write_text("new")
        Path(sys.argv[2]).write_text("filling")
        time.sleep(60)

    replace_folder(sys.argv[1], fill)
""")


def test_sigkill_while_a_test_folder_is_written_leaves_the_old_one(tmp_path: Path) -> None:
    """verify and audit write TEST folders with replace_folder: old complete folder, or new complete one."""
    target = tmp_path / "tree" / "TEST01"
    target.mkdir(parents=True)
    (target / "verify.json").write_text("old")
    flag = tmp_path / "filling"
    proc = subprocess.Popen([sys.executable, "-c", KILL_DURING_FILL, str(target), str(flag)])
    wait_for(flag)
    proc.kill()
    proc.wait(timeout=30)
    assert (target / "verify.json").read_text() == "old"
    replace_folder(target, lambda staging: (staging / "verify.json").write_text("new"))
    assert (target / "verify.json").read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["TEST01"]  # the killed staging folder was removed


def test_awkward_paths_spaces_non_ascii_and_a_symlinked_tree(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    root = tmp_path / "projet données 1"
    root.mkdir()
    real_tree = tmp_path / "réel tree"
    real_tree.mkdir()
    text = system_yaml("box", "v6.0", {"llama2-70b-99": {"scenarios": ["Offline"], "workdir": "'work dir/é'"}})
    text = text.replace("submission_dir: submission", "submission_dir: linked tree")
    project = make_project(root, {"box": text})
    (project / "linked tree").symlink_to(real_tree, target_is_directory=True)
    result = doit(project)
    assert result.returncode == 0
    assert (project / "linked tree").is_symlink()
    assert (real_tree / "closed/Acme/results/box/llama2-70b-99/Offline/TEST06/verify_accuracy.txt").exists()
    assert audit_configs(project) == [] and not list((project / "work dir").rglob("audit.config"))


def _snapshot(root: Path) -> dict[str, tuple[float, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_mtime, p.stat().st_size)
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def test_read_only_submission_results_are_only_read(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    project = make_project(tmp_path, {"src": system_yaml("src", "v5.0", {"resnet": {"scenarios": ["Offline"]}})})
    assert doit(project, "reference").returncode == 0
    results = tmp_path / "results"  # the submission's own runs, as a system with 'results:' points to them
    os.rename(project / "build/src/resnet/Offline/reference", results)
    text = system_yaml("box", "v5.0", {"resnet": {"scenarios": ["Offline"]}}).replace(
        "    reference: {}\n", f"    results: {results}\n"
    )
    (project / "specs/systems/src.yaml").unlink()
    (project / "specs/systems/box.yaml").write_text(text)
    for path in results.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    before = _snapshot(results)
    try:
        result = doit(project)
    finally:
        for path in results.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert result.returncode == 0
    assert _snapshot(results) == before


def test_a_submission_folder_that_cannot_be_written_gives_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    project = make_project(tmp_path, {"box": system_yaml("box", "v5.0", {"llama2-70b-99": {"scenarios": ["Offline"]}})})
    # As root, permissions do not stop a write: a file where the tree's folder must go does.
    (project / "submission").write_text("a file, not a folder")
    result = doit(project)
    assert result.returncode != 0
    assert "publish box/llama2-70b-99/Offline/TEST06 ... FAILED" in result.stdout
    assert "cannot write submission/closed/Acme/compliance" in result.stdout
    assert "compliance table (1 FAIL; review: 1 NOT RUN): doit summary" in result.stdout  # nothing in the tree
    assert "Traceback" not in result.stdout + result.stderr
    assert (project / "submission").read_text() == "a file, not a folder"


GUARD = textwrap.dedent("""
    import os, sys
    LOG = os.environ["WRITE_GUARD_LOG"]

    def hook(event, args):
        path = None
        if event == "open" and args[1] is not None and any(m in str(args[1]) for m in "wax+"):
            path = args[0]
        elif event in ("os.remove", "os.rmdir", "os.mkdir", "shutil.rmtree", "os.unlink"):
            path = args[0]
        elif event in ("os.rename", "os.replace", "shutil.copyfile", "shutil.move"):
            path = args[1]
        if isinstance(path, (str, bytes, os.PathLike)):
            path = os.path.abspath(os.fsdecode(path))
            if path != LOG:  # the guard's own log
                with open(LOG, "a") as f:
                    f.write(event + " " + path + "\\n")

    sys.addaudithook(hook)
""")


def test_nothing_outside_its_place_is_written_or_deleted(tmp_path: Path) -> None:
    """The whole demo pipeline under a guard: every path written or removed, by Python code in any of its
    processes, and every file changed in the project, lies in build/, a working directory or a TEST folder."""
    pytest.importorskip("mlperf_loadgen")
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "writes.log"
    project = make_project(
        tmp_path / "project",
        {
            "box": system_yaml(
                "box", "v5.0", {"resnet": {"scenarios": ["Offline"]}, "llama2-70b-99": {"scenarios": ["Offline"]}}
            ).replace("reference: {}", "reference: {publish: true}")  # its runs are copied into the tree too
        },
    )
    before = _snapshot(project)
    env = {
        **os.environ,
        "PYTHONPATH": f"{guard_dir}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "WRITE_GUARD_LOG": str(log),
    }
    result = subprocess.run([sys.executable, "-m", "doit"], cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    allowed = [
        project / "build",
        project / "work/box/resnet",
        project / "work/box/llama2-70b-99",
        Path(os.environ["MLPERF_COMPLIANCE_LOCKS"]),
    ]  # the machine-wide run locks (the test's own here)
    tree = project / "submission/closed/Acme/compliance/box"
    allowed += [tree / "resnet/Offline/TEST01", tree / "resnet/Offline/TEST04", tree / "llama2-70b-99/Offline/TEST06"]
    results = project / "submission/closed/Acme/results/box"
    allowed += [
        results / b / "Offline" / run for b in ("resnet", "llama2-70b-99") for run in ("accuracy", "performance/run_1")
    ]

    def inside(path: str) -> bool:
        p = Path(path)
        staging = any(
            q.parent == a.parent and q.name.startswith(f".{a.name}.")  # replace_folder's staging folders
            for q in (p, *p.parents)
            for a in allowed
        )
        return staging or any(p == a or a in p.parents for a in allowed)

    def ancestor(path: str) -> bool:  # creating the folders that lead to a permitted place
        return any(Path(path) in a.parents for a in allowed)

    events = sorted({tuple(line.split(" ", 1)) for line in log.read_text().splitlines()})
    assert events, "the guard saw nothing: it is not installed"
    outside = [
        (event, p)
        for event, p in events
        if not inside(p)
        and not (event == "os.mkdir" and ancestor(p))
        and not p.startswith(("/dev/", "/proc/"))
        and not Path(p).is_relative_to(Path(sys.prefix))
        and "__pycache__" not in p
    ]
    assert outside == []
    after = _snapshot(project)
    changed = [name for name in set(before) | set(after) if before.get(name) != after.get(name)]
    assert changed and all(inside(str(project / name)) for name in changed), changed
    assert audit_configs(project) == []
    assert (results / "llama2-70b-99/Offline/performance/run_1/mlperf_log_detail.txt").is_file()  # it was copied
    # working directories: only audit.config ever goes there, and it is gone
    for work in allowed[1:3]:
        assert sorted(p.name for p in work.iterdir()) == []


@pytest.mark.parametrize("step", ["verify", "publish"])
def test_sigkill_during_verify_or_audit_leaves_a_consistent_state(tmp_path: Path, step: str) -> None:
    """Kill doit as soon as it starts a verify (or publish) task: the next doit finishes the job, and every TEST
    folder is complete (no half-written verify.json, no staging folder left in the submission tree)."""
    command = h.test06_harness(tmp_path)  # honest TEST06 logs: what is tested is doit, not LoadGen
    project = make_project(
        tmp_path,
        {
            "box": system_yaml(
                "box",
                "v5.0",
                {
                    "llama2-70b-99": {"scenarios": ["Offline", "Server"], "command": command},
                    "mixtral-8x7b": {"scenarios": ["Offline", "Server"], "command": command},
                },
            )
        },
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "doit"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("[") and f"] {step} " in line and line.rstrip().endswith("..."):
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    again = doit(project)
    assert again.returncode == 0
    verdicts = sorted(project.glob("build/box/*/*/TEST06/verify/TEST06/verify.json"))
    assert len(verdicts) == 4 and all(json.loads(p.read_text())["verdict"] == "PASS" for p in verdicts)
    tree = project / "submission/closed/Acme/compliance/box"
    folders = sorted(tree.glob("*/*/*"))
    assert [p.name for p in folders] == ["TEST06"] * 4  # no staging or old folders left beside them
    for folder in folders:
        assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == [
            "mlperf_log_accuracy.json",
            "verify.json",
            "verify_accuracy.txt",
        ]
    assert executed(doit(project)) == set()


def test_children_that_leave_the_run_are_ended_with_it(tmp_path: Path) -> None:
    """A child the command starts in a session of its own (setsid) would outlive the run and could write into its
    logs later: the launcher is a child subreaper and ends it before the logs are read."""
    marker = tmp_path / "late-write"
    command = f"setsid sh -c 'sleep 2; echo late > {marker}' & exit 0"
    project = make_project(
        tmp_path / "p",
        {"box": system_yaml("box", "v5.0", {"llama2-70b-99": {"scenarios": ["Offline"], "command": command}})},
    )
    started = time.monotonic()
    doit(project, "run:box/llama2-70b-99/Offline/TEST06")  # it fails later (no logs): what matters is the child
    time.sleep(max(0.0, 2.5 - (time.monotonic() - started)))  # the child would have written by now
    assert not marker.exists(), "a child of the run outlived it"
    log = (project / "build/box/llama2-70b-99/Offline/TEST06/run.log").read_text()
    assert re.search(r"ended \d process\(es\) the command left running", log), log  # setsid may not have forked yet


ESCAPES = {
    "a test folder over the results": (
        "rounds/v5.0.yaml",
        'test_dir: "{division}/{submitter}/compliance/{system}/{benchmark}/{scenario}/{test}"',
        'test_dir: "{division}/{submitter}/results/{system}/{benchmark}/{scenario}/{test}/.."',
    ),
    "an absolute test folder": ("rounds/v5.0.yaml", 'test_dir: "{division}', 'test_dir: "/tmp/{division}'),
    "a test folder above the tree": ("rounds/v5.0.yaml", 'test_dir: "{division}', 'test_dir: "../../{division}'),
    "the root as submission folder": ("systems/box.yaml", "submission_dir: submission", "submission_dir: /"),
    "the specs folder as submission folder": (
        "systems/box.yaml",
        "submission_dir: submission",
        "submission_dir: specs",
    ),
    "the root as working directory": ("systems/box.yaml", "workdir: work/box/resnet", "workdir: /"),
}


@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_specs_that_try_to_escape_change_nothing_anywhere(tmp_path: Path, escape: str) -> None:
    """Each escape is refused before anything runs: nothing in or around the project changes."""
    project = make_project(tmp_path / "p", {"box": system_yaml("box", "v5.0", {"resnet": {"scenarios": ["Offline"]}})})
    spec, old, new = ESCAPES[escape]
    path = project / "specs" / spec
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    before = _snapshot(tmp_path)
    result = doit(project)
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    assert str(Path("specs") / spec) in result.stderr
    assert _snapshot(tmp_path) == before
