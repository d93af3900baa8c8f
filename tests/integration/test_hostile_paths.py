"""No value substituted into a command can run: a project whose path holds $(...), backticks, quotes, a backslash,
a newline, spaces and % runs, under the local launcher and under the real Slurm cluster, with every placeholder
bare, in single quotes and in double quotes, and nothing of the path ever runs (a marker file would appear).

The Slurm case also makes the job wait for the run's working-directory lock, so the job prints what it waits for
(the line that once put the project path, unquoted, into the job script's shell code).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compliance.pipeline import locks
from compliance.plan import build_plan, load_specs
from tests.helpers.projects import audit_configs, make_project, system_yaml
from tests.integration.test_slurm import _cluster_problem, recorded_job, slurm_yaml, wait_until

HOSTILE = 'p $(touch "$PWNED") `touch "$PWNED"` $(touch pwned-here) \'q\' "dq" back\\slash 100% %j\nnl'
#: the working directory's own name (a spec path expands $VAR and ~, so its $ would be a variable's)
WORKDIR = "w `touch pwned-here` 'q' \"dq\" back\\slash 100% %j\nnl"
#: what the harness records: every placeholder of a benchmark command, bare, '...' and "..." (not {mode}: raw)
RECORD = (
    "{python} -c \"import sys; open(sys.argv[1], 'w').write(repr(sys.argv[2:]))\" {log_dir}/../args.txt "
    "{system} '{benchmark}' \"{scenario}\" {loadgen_scenario} '{test}' {workdir} '{workdir}' \"{log_dir}\""
)
DEMO = (
    "{python} -m compliance.demo --benchmark \"{benchmark}\" --scenario {scenario} --mode {mode} --log-dir '{log_dir}'"
)
SCORE = "{python} -m compliance.demo.accuracy --benchmark {benchmark} --test {test} " + (
    "\"{accuracy_log}\" --output-file '{output_file}'"
)
TEST06 = "box/llama2-70b-99/Offline/TEST06"
TEST07 = "box/gpt-oss-120b/Offline/TEST07"


def _project(tmp_path: Path, slurm: bool) -> tuple[Path, dict[str, str]]:
    pytest.importorskip("mlperf_loadgen")
    benchmarks = {
        "llama2-70b-99": {"scenarios": ["Offline"], "command": f"{DEMO} && {RECORD}", "workdir": "work/HOSTILE"},
        "gpt-oss-120b": {"scenarios": ["Offline"], "command": f"{DEMO} --test {{test}}", "accuracy_command": SCORE},
    }
    # under Slurm the job is held until the test has taken the working directory's lock (--begin; released below)
    launcher = {"sbatch_options": ["--begin=now+600"]}
    text = slurm_yaml("box", benchmarks, launcher) if slurm else system_yaml("box", "v6.0", benchmarks)
    text = text.replace("round: v5.0", "round: v6.0").replace("work/HOSTILE", json.dumps(f"work/{WORKDIR}"))
    project = make_project(tmp_path / HOSTILE / ("slurm" if slurm else "local"), {"box": text})
    env = {**os.environ, "PWNED": str(tmp_path / "PWNED")}
    return project, env


def _nothing_ran(tmp_path: Path) -> None:
    assert not (tmp_path / "PWNED").exists(), "a command in the path ran"
    assert not list(tmp_path.rglob("pwned-here")), "a command in the path ran"
    assert not [p for p in tmp_path.rglob("'*")], "a quoted value became part of a folder's name"


def _recorded(project: Path) -> list[str]:
    return ast.literal_eval((project / "build" / TEST06 / "args.txt").read_text())


def _expected(project: Path) -> list[str]:
    workdir = str(project / "work" / WORKDIR)
    logs = str(project / "build" / TEST06 / "logs")
    return ["box", "llama2-70b-99", "Offline", "Offline", "TEST06", workdir, workdir, logs]


def test_a_hostile_project_path_runs_locally_and_nothing_of_it_runs(tmp_path: Path) -> None:
    project, env = _project(tmp_path, slurm=False)
    result = subprocess.run(
        [sys.executable, "-m", "doit", f"publish:{TEST06}", f"verify:{TEST07}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(result.stdout[-5000:], result.stderr[-3000:])
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr
    assert _recorded(project) == _expected(project)
    verdict = (project / "build" / TEST07 / "verify/TEST07/accuracy/accuracy_output.txt").read_text()
    assert verdict.startswith("Total samples evaluated: 990")  # the scorer read the log, wrote its output file
    _nothing_ran(tmp_path)
    assert audit_configs(project) == []


@pytest.mark.xdist_group("slurm")  # with the Slurm tests: one cluster (tests/conftest.py)
def test_a_hostile_project_path_runs_under_slurm_and_nothing_of_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = _cluster_problem()
    if problem:
        pytest.skip(problem)
    project, env = _project(tmp_path, slurm=True)
    monkeypatch.chdir(project)
    [run] = [cp.run for cp in build_plan(load_specs(project / "specs")).cells if cp.cell.id == TEST06]
    proc = subprocess.Popen(
        [sys.executable, "-m", "doit", f"run:{TEST06}"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    job_id = recorded_job(project, TEST06)
    with locks.workdir_held(run):  # the job waits for it on its node, and says what it waits for
        subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"], check=True)
        log = project / "build" / TEST06 / "run.log"
        wait_until(lambda: log.exists() and "waiting for the working directory" in log.read_text(), 120, "the wait")
        time.sleep(0.5)
    out, _ = proc.communicate(timeout=300)
    print(out[-5000:])
    assert proc.returncode == 0 and "Traceback" not in out
    assert _recorded(project) == _expected(project)
    status = (project / "build" / TEST06 / "run.job/status").read_text()
    assert "exit=0" in status and "audit=removed" in status
    _nothing_ran(tmp_path)
    assert audit_configs(project) == []
