"""Scratch projects for pipeline tests: a dodo.py, the shipped specs, and systems written by the test."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers.paths import PROJECT, SHIPPED_SPECS

DEMO = "{python} -m compliance.demo --benchmark {benchmark} --scenario {scenario} --mode {mode} --log-dir {log_dir}"
SCORE = "{python} -m compliance.demo.accuracy --benchmark {benchmark} {accuracy_log}"


def system_yaml(name: str, round_: str, benchmarks: dict[str, dict], **extra: object) -> str:
    """A system spec running ``benchmarks`` ({name: {scenarios, command, workdir, timeout, log_dir, env}}); its tree
    is ``submission`` unless ``submission_dir`` says otherwise (systems of different rounds need trees of their own)."""
    lines = [
        f"name: {name}",
        f"round: {round_}",
        "division: closed",
        "submitter: Acme",
        f"submission_dir: {extra.get('submission_dir', 'submission')}",
        f"timeout: {extra.get('timeout', 120)}",
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


def doit(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run doit in the project as a user would (its own process); print its output for failing tests."""
    result = subprocess.run(
        [sys.executable, "-m", "doit", *args], cwd=project, capture_output=True, text=True, timeout=timeout
    )
    print(result.stdout[-20000:], result.stderr[-5000:])  # shown when a test fails
    return result


def tool(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``mlperf-compliance ARGS`` in the project as a user would (its own process); print its output for
    failing tests."""
    result = subprocess.run(
        [sys.executable, "-m", "compliance", *args], cwd=project, capture_output=True, text=True, timeout=timeout
    )
    print(result.stdout[-20000:], result.stderr[-5000:])  # shown when a test fails
    return result


def summary_rows(project: Path) -> list[dict[str, str]]:
    """The rows of ``mlperf-compliance summary --format json`` in the project."""
    rows: list[dict[str, str]] = json.loads(tool(project, "summary", "--format", "json").stdout)["rows"]
    return rows


def executed(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The tasks that ran, from the reporter's start lines: ``[k/N] step name ...``."""
    found = (re.match(r"^\[\d+/\d+\] (\S+) (\S+) \.\.\.$", line) for line in result.stdout.splitlines())
    return {f"{m.group(1)}:{m.group(2)}" for m in found if m}


def audit_configs(project: Path) -> list[Path]:
    return sorted(p for p in (project / "work").rglob("audit.conf*")) if (project / "work").exists() else []


def wait_for(path: Path, seconds: float = 30) -> None:
    """Wait until ``path`` exists (a step of a process under test has started)."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} never appeared"
