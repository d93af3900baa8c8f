"""Scratch projects for pipeline tests: a dodo.py, the shipped specs, and systems written by the test.

:func:`doit` runs doit on a project in this process, on the packaged tasks as its dodo.py would (the benchmarks it
starts are processes of their own, as always); :func:`doit_process` runs it as a user does, in a process of its own,
for what needs one (signals, kills, locks held across processes, ``doit -n``). :func:`tool` runs
``mlperf-compliance`` in this process, :func:`tool_process` in one of its own.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doit import cmd_run as doit_run
from doit.doit_cmd import DoitMain

from compliance.commands.dumpdb import DumpDbCommand
from compliance.commands.summary import SummaryCommand
from compliance.pipeline import session
from compliance.pipeline.entry import PackagedTaskLoader
from tests.helpers.paths import PROJECT, SHIPPED_SPECS

DEMO = "{python} -m compliance.demo --benchmark {benchmark} --scenario {scenario} --mode {mode} --log-dir {log_dir}"
SCORE = "{python} -m compliance.demo.accuracy --benchmark {benchmark} {accuracy_log}"


def system_yaml(name: str, round_: str, benchmarks: dict[str, dict], **extra: object) -> str:
    """A system spec running ``benchmarks`` ({name: {scenarios, command, workdir, timeout, log_dir, env}}); its tree
    is ``submission`` unless ``submission_dir`` says otherwise (systems of different rounds need trees of their own).
    Its runs last seconds with LoadGen's default seeds, as the demo's: the pre-flight does not hold them to the
    checker's performance rules (``upload: {performance_rules: false}``; those are tested in test_preflight.py)."""
    lines = [
        f"name: {name}",
        f"round: {round_}",
        "division: closed",
        "submitter: Acme",
        f"submission_dir: {extra.get('submission_dir', 'submission')}",
        f"timeout: {extra.get('timeout', 120)}",
        "upload: {performance_rules: false}",
    ]
    if "strict_accuracy" in extra:
        lines.append(f"strict_accuracy: {str(extra['strict_accuracy']).lower()}")
    lines += [f"{key}: {extra[key]}" for key in ("attempts", "attempt_pause") if key in extra]
    lines.append("benchmarks:")
    for bench, spec in benchmarks.items():
        lines.append(f"  {bench}:")
        lines.append(f"    scenarios: [{', '.join(spec['scenarios'])}]")
        if spec.get("isolated"):
            lines.append("    isolated: true")
        else:
            lines.append(f"    workdir: {spec.get('workdir', f'work/{name}/{bench}')}")
        lines.append(f"    command: {json.dumps(spec.get('command', DEMO))}")
        lines.append("    reference: {}")
        for key in ("timeout", "log_dir", "attempts", "attempt_pause"):
            if key in spec:
                lines.append(f"    {key}: {spec[key]}")
        if "accuracy_command" in spec:
            lines.append(f"    accuracy_command: {json.dumps(spec['accuracy_command'])}")
        if "env" in spec:
            lines.append(f"    env: {json.dumps(spec['env'])}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class DemoBuild:
    """The demo project, and what ``mlperf-compliance`` printed when it built it."""

    project: Path
    stdout: str


def make_project(root: Path, systems: dict[str, str]) -> Path:
    """A scratch project: dodo.py, the shipped rounds, models and tests, and the given systems."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / "dodo.py", root / "dodo.py")
    for kind in ("rounds", "models", "tests"):
        shutil.copytree(SHIPPED_SPECS / kind, root / "specs" / kind)
    (root / "specs" / "systems").mkdir()
    for name, text in systems.items():
        (root / "specs" / "systems" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


class _Main(DoitMain):  # type: ignore[misc]
    DOIT_CMDS = (*DoitMain.DOIT_CMDS, SummaryCommand, DumpDbCommand)


_PR_SET_CHILD_SUBREAPER = 36


@contextmanager
def _in(project: Path, argv: list[str]) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """Be a command run in ``project`` for the block: its folder, its argv, its output captured; what a command
    changes in the process (the plan and lock of its doit, dodo.py's module, the signal handling dodo.py installs,
    the subreaper the local launcher makes of its process) is undone after it."""
    before, saved_argv, hook, on_term = os.getcwd(), sys.argv, sys.excepthook, signal.getsignal(signal.SIGTERM)
    saved_path = list(sys.path)  # doit puts the dodo.py's folder first
    out, err = io.StringIO(), io.StringIO()
    outfile = doit_run.opt_outfile["default"]  # sys.stdout as it was when doit was imported
    doit_run.opt_outfile["default"] = out
    session.release()  # a plan and a lock of the process's last doit are not this project's
    sys.modules.pop("dodo", None)
    os.chdir(project)
    sys.argv = argv
    try:
        with redirect_stdout(out), redirect_stderr(err):
            yield out, err
    finally:
        session.release()
        sys.modules.pop("dodo", None)
        sys.argv, sys.excepthook, sys.path[:] = saved_argv, hook, saved_path
        doit_run.opt_outfile["default"] = outfile
        signal.signal(signal.SIGTERM, on_term)
        os.chdir(before)
        # orphans of later tests' processes go to init, as they would without this command
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def doit(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run doit in the project in this process, as dodo.py would (no interpreter, doit and LoadGen to start: the
    benchmarks still run as processes of their own); its output as a finished process's, printed for failing
    tests."""
    code = 1
    with _in(project, ["doit", *args]) as (out, err):
        try:
            code = int(_Main(PackagedTaskLoader()).run(list(args)) or 0)  # some commands (forget) return None
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    result = subprocess.CompletedProcess(["doit", *args], code, out.getvalue(), err.getvalue())
    print(result.stdout[-20000:], result.stderr[-5000:])  # shown when a test fails
    return result


def doit_process(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run doit in the project as a user would (its own process); print its output for failing tests."""
    result = subprocess.run(
        [sys.executable, "-m", "doit", *args], cwd=project, capture_output=True, text=True, timeout=timeout
    )
    print(result.stdout[-20000:], result.stderr[-5000:])  # shown when a test fails
    return result


def tool(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``mlperf-compliance ARGS`` in the project in this process (its doit commands load the project's dodo.py
    afresh); its output as a finished process's, printed for failing tests."""
    from compliance.cli import main

    with _in(project, ["mlperf-compliance", *args]) as (out, err):
        code = main(list(args))
    result = subprocess.CompletedProcess(["mlperf-compliance", *args], code, out.getvalue(), err.getvalue())
    print(result.stdout[-20000:], result.stderr[-5000:])  # shown when a test fails
    return result


def tool_process(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``mlperf-compliance ARGS`` in the project as a user would (its own process); print its output for
    failing tests."""
    result = subprocess.run(
        [sys.executable, "-m", "compliance", *args], cwd=project, capture_output=True, text=True, timeout=timeout
    )
    print(result.stdout[-20000:], result.stderr[-5000:])  # shown when a test fails
    return result


def summary_rows(project: Path, trees: bool = False) -> list[dict[str, Any]]:
    """The rows of ``mlperf-compliance summary --format json`` in the project (its records); the checks of the trees
    before upload (``pre-flight``, ``checker``, which every doit makes) only with ``trees``."""
    rows: list[dict[str, Any]] = json.loads(tool(project, "summary", "--format", "json").stdout)["records"]
    return rows if trees else [r for r in rows if r["test"] not in ("pre-flight", "checker")]


def executed(result: subprocess.CompletedProcess[str], trees: bool = False) -> set[str]:
    """The tasks that ran, from the reporter's start lines: ``[k/N] step name ...``; the checks of a submission tree
    before upload (``preflight:``, ``checker:``, which run after any change of their tree) only with ``trees``."""
    found = (re.match(r"^\[\d+/\d+\] (\S+) (\S+) \.\.\.$", line) for line in result.stdout.splitlines())
    tasks = {f"{m.group(1)}:{m.group(2)}" for m in found if m}
    return tasks if trees else {t for t in tasks if not t.startswith(("preflight:", "checker:"))}


def audit_configs(project: Path) -> list[Path]:
    return sorted(p for p in (project / "work").rglob("audit.conf*")) if (project / "work").exists() else []


def wait_for(path: Path, seconds: float = 30) -> None:
    """Wait until ``path`` exists (a step of a process under test has started)."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} never appeared"
