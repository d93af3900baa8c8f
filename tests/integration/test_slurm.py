"""The Slurm launcher on a real cluster (.ci/slurm: node1 and node2, partition debug), through doit, with the demo.

Tests that need the cluster skip, saying why, where ``sbatch`` is not on PATH, ``SLURM_CONF`` is unset or the
cluster does not answer; start one with ``slurm_env=$(.ci/slurm/start.sh | tail -n1); eval "$slurm_env"``.
Nothing of Slurm is mocked: the parsing and mapping tests at the end feed real output shapes to the pure functions.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.layout import RunFiles
from compliance.pipeline.launch import slurm
from compliance.pipeline.launch.base import Ending
from compliance.plan import RunPlan, build_plan, load_specs
from compliance.specs.types import Launcher
from tests.helpers.paths import PROJECT
from tests.helpers.projects import DEMO, audit_configs, doit, executed, make_project, system_yaml, wait_for

EXAMPLES = PROJECT / "tests" / "slurm_examples"
TEST06 = "box/llama2-70b-99/Offline/TEST06"
CELL = Path("build") / TEST06
pytestmark = pytest.mark.xdist_group("slurm")  # one cluster: its tests run one at a time (tests/conftest.py)


def _cluster_problem() -> str | None:
    if shutil.which("sbatch") is None:
        return "sbatch is not on PATH (start the test cluster: .ci/slurm/start.sh)"
    if not os.environ.get("SLURM_CONF"):
        return "SLURM_CONF is not set (eval the line .ci/slurm/start.sh prints)"
    try:
        nodes = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %t"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "the Slurm cluster does not answer (sinfo timed out)"
    if nodes.returncode != 0:
        return f"the Slurm cluster does not answer: {nodes.stderr.strip()}"
    states = dict(line.split() for line in nodes.stdout.splitlines() if len(line.split()) == 2)
    if any(not states.get(node, "down").startswith(("idle", "alloc", "mix", "comp")) for node in ("node1", "node2")):
        return f"the Slurm cluster lacks usable nodes node1 and node2: {states}"
    return None


@pytest.fixture(scope="module")
def cluster() -> None:
    problem = _cluster_problem()
    if problem:
        pytest.skip(problem)
    pytest.importorskip("mlperf_loadgen")


def slurm_yaml(
    name: str, benchmarks: dict[str, dict], launcher: dict[str, object] | None = None, **extra: object
) -> str:
    """system_yaml with a ``launcher: {kind: slurm, ...}`` block."""
    lines = ["launcher:", "  kind: slurm"] + [
        f"  {key}: {json.dumps(value)}" for key, value in (launcher or {}).items()
    ]
    return system_yaml(name, "v5.0", benchmarks, **extra) + "\n".join(lines) + "\n"


def start_doit(project: Path, *args: str) -> subprocess.Popen[str]:
    """doit in its own session (so a test can signal it, or kill it with everything it started)."""
    return subprocess.Popen(
        [sys.executable, "-m", "doit", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_until(check: Callable[[], object], seconds: float = 60, what: str = "the condition") -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def job_record(project: Path, cell: str = TEST06) -> dict | None:
    try:
        return json.loads((project / "build" / cell / "run.job/job.json").read_text())
    except (OSError, ValueError):
        return None


def recorded_job(project: Path, cell: str = TEST06) -> str:
    """The id of the job the running doit submitted for ``cell`` (waits for its record)."""
    return str(wait_until(lambda: (job_record(project, cell) or {}).get("job_id"), what="the job record"))


def job_state(job_id: str) -> str:
    out = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True).stdout
    info = slurm.parse_job(out)
    return info.state if info else "UNKNOWN"


def status_of(project: Path, cell: str = TEST06) -> dict[str, str]:
    text = (project / "build" / cell / "run.job/status").read_text()
    return dict(line.split("=", 1) for line in text.splitlines())


def tree_files(project: Path) -> list[str]:
    tree = project / "submission"
    return sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file())


def verdicts(project: Path) -> dict[str, str]:
    return {
        str(p.relative_to(project / "submission")): json.loads(p.read_text())["verdict"]
        for p in (project / "submission").rglob("verify.json")
    }


# -- honest runs -----------------------------------------------------------------------------------------------------


def test_honest_cells_pass_through_slurm_and_publish_the_local_tree(cluster: None, tmp_path: Path) -> None:
    benchmarks = {"resnet": {"scenarios": ["Offline"]}, "llama2-70b-99": {"scenarios": ["Offline"]}}
    project = make_project(tmp_path / "slurm", {"box": slurm_yaml("box", benchmarks, {"nodelist": "node1"})})
    result = doit(project)
    assert result.returncode == 0
    local = make_project(tmp_path / "local", {"box": system_yaml("box", "v5.0", benchmarks)})
    assert doit(local).returncode == 0  # after, not beside: on 2 cores a parallel run skews TEST04's speed-up
    assert "Traceback" not in result.stdout + result.stderr
    runs = {
        "run:box/resnet/Offline/TEST01",
        "run:box/resnet/Offline/TEST04",
        f"run:{TEST06}",
        "reference:box/resnet/Offline/accuracy",
        "reference:box/resnet/Offline/performance",
    }
    assert runs <= executed(result)
    assert tree_files(project) == tree_files(local) and len(tree_files(project)) == 14  # TEST01 with accuracy.txt
    assert set(verdicts(project).values()) == {"PASS"} and len(verdicts(project)) == 3
    assert audit_configs(project) == []
    for cell in ("box/resnet/Offline/TEST01", "box/resnet/Offline/TEST04", TEST06):
        job = project / "build" / cell / "run.job"
        assert status_of(project, cell)["audit"] == "removed" and status_of(project, cell)["exit"] == "0"
        assert not (job / "job.json").exists()  # collected: the next doit would submit anew
        assert "Slurm job" in (project / "build" / cell / "run.log").read_text()
    assert (project / "build/box/resnet/Offline/reference-accuracy.job/status").exists()
    assert not list((project / "build/.staged").glob("*.json"))  # every staging record settled
    assert executed(doit(project)) == set()


def test_a_command_that_exits_3_fails_with_its_exit_status(cluster: None, tmp_path: Path) -> None:
    project = make_project(
        tmp_path, {"box": slurm_yaml("box", {"llama2-70b-99": {"scenarios": ["Offline"], "command": "exit 3"}})}
    )
    result = doit(project, f"run:{TEST06}")
    assert result.returncode != 0 and "exit status 3 (Slurm job" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert status_of(project)["exit"] == "3" and status_of(project)["audit"] == "removed"
    assert audit_configs(project) == []
    where = json.loads((project / CELL / "run.json").read_text())["where"]  # the run's record says where it ran
    assert where["job_id"] == status_of(project)["job"] and where["node"] in ("node1", "node2") and where["host"]


def test_a_job_sbatch_refuses_is_a_launch_failure_naming_the_system(cluster: None, tmp_path: Path) -> None:
    project = make_project(
        tmp_path, {"box": slurm_yaml("box", {"llama2-70b-99": {"scenarios": ["Offline"]}}, {"partition": "nosuch"})}
    )
    result = doit(project, f"run:{TEST06}")
    assert result.returncode != 0 and "sbatch did not take the job of system box: " in result.stdout
    assert "Invalid partition name specified" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert job_record(project) is None and audit_configs(project) == []


def test_a_foreign_audit_config_is_refused_inside_the_job(cluster: None, tmp_path: Path) -> None:
    project = make_project(tmp_path, {"box": slurm_yaml("box", {"llama2-70b-99": {"scenarios": ["Offline"]}})})
    foreign = project / "work/box/llama2-70b-99/audit.config"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("*.*.mode = 2\n")
    result = doit(project, f"run:{TEST06}")
    assert result.returncode != 0
    assert "work/box/llama2-70b-99/audit.config exists and was not placed by this project's runs" in result.stdout
    assert foreign.read_text() == "*.*.mode = 2\n"  # never removed
    assert "refused" in status_of(project) and status_of(project)["audit"] == "none"
    assert "mlperf-compliance: refused:" in (project / CELL / "run.log").read_text()


def test_a_run_past_its_timeout_is_cancelled_at_it(cluster: None, tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        {"box": slurm_yaml("box", {"llama2-70b-99": {"scenarios": ["Offline"], "command": "sleep 60", "timeout": 3}})},
    )
    start = time.monotonic()
    result = doit(project, f"run:{TEST06}")
    took = time.monotonic() - start
    assert result.returncode != 0 and "timed out after 3 s; Slurm job" in result.stdout
    assert 3 <= took < 20  # Slurm's own --time (2 minutes here) would end it after 2.5 minutes at the earliest
    job_id = status_of(project)["job"]
    assert job_state(job_id) == "CANCELLED"
    assert status_of(project)["signal"] == "TERM" and status_of(project)["audit"] == "removed"
    assert audit_configs(project) == []


# -- interruptions -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_doit_cancels_the_job_and_leaves_no_audit_config(
    cluster: None, tmp_path: Path, sig: int, code: int
) -> None:
    project = make_project(
        tmp_path, {"box": slurm_yaml("box", {"llama2-70b-99": {"scenarios": ["Offline"], "command": "sleep 60"}})}
    )
    proc = start_doit(project, f"run:{TEST06}")
    job_id = recorded_job(project)
    wait_for(project / "work/box/llama2-70b-99/audit.config")
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    print(out)
    assert proc.returncode == code and f"interrupted by {signal.Signals(sig).name}" in out and "Traceback" not in out
    assert job_state(job_id) == "CANCELLED"
    assert audit_configs(project) == []
    assert job_record(project) is None  # cancelled for good: the next doit submits anew
    assert not (project / CELL / "logs/.run.signature").exists()


@pytest.mark.parametrize("job_then", ["running", "finished"])
def test_a_doit_killed_during_a_job_is_followed_by_one_that_collects_it(
    cluster: None, tmp_path: Path, job_then: str
) -> None:
    """The second doit finds the job still running (it waits for it) or finished (it collects its result)."""
    counter = tmp_path / "submissions"
    command = f"echo ran >> {counter} && sleep 3 && " + DEMO
    project = make_project(
        tmp_path / "p",
        {
            "box": slurm_yaml(
                "box", {"llama2-70b-99": {"scenarios": ["Offline"], "command": command}}, {"nodelist": "node2"}
            )
        },
    )
    proc = start_doit(project)
    job_id = recorded_job(project)
    wait_for(counter)
    os.killpg(proc.pid, signal.SIGKILL)  # doit dies at once; the job lives on in Slurm
    proc.wait(timeout=30)
    assert job_state(job_id) == "RUNNING"
    if job_then == "finished":
        wait_until(lambda: job_state(job_id) == "COMPLETED", what=f"the end of job {job_id}")
    again = doit(project, "-v", "2")  # -v 2: the launcher's own lines are shown
    assert again.returncode == 0
    assert f"run:{TEST06}" in executed(again)
    shown = "RUNNING" if job_then == "running" else "COMPLETED"
    assert f"re-attached to Slurm job {job_id} ({shown}), submitted by an earlier doit" in again.stdout
    assert counter.read_text() == "ran\n"  # one submission: the second doit re-attached to the first one's job
    assert status_of(project)["job"] == job_id
    assert set(verdicts(project).values()) == {"PASS"}
    assert audit_configs(project) == [] and job_record(project) is None


def test_a_lost_job_is_submitted_again(cluster: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path, {"box": slurm_yaml("box", {"llama2-70b-99": {"scenarios": ["Offline"]}})})
    monkeypatch.chdir(project)
    [cell] = build_plan(load_specs(project / "specs")).cells
    job = project / CELL / "run.job"
    job.mkdir(parents=True)
    (job / "job.json").write_text(json.dumps({"job_id": "987654", "token": "t", "signature": cell.run.signature}))
    result = doit(project)
    assert result.returncode == 0
    assert status_of(project)["job"] != "987654"  # a new job ran the command
    assert set(verdicts(project).values()) == {"PASS"}


def test_a_job_cancelled_from_outside_is_reported_cancelled(cluster: None, tmp_path: Path) -> None:
    project = make_project(
        tmp_path, {"box": slurm_yaml("box", {"llama2-70b-99": {"scenarios": ["Offline"], "command": "sleep 60"}})}
    )
    proc = start_doit(project, f"run:{TEST06}")
    job_id = recorded_job(project)
    wait_for(project / "work/box/llama2-70b-99/audit.config")
    subprocess.run(["scancel", job_id], check=True)
    out, _ = proc.communicate(timeout=60)
    print(out)
    assert proc.returncode != 0 and f"Slurm job {job_id} was cancelled from outside (scancel)" in out
    assert status_of(project)["signal"] == "TERM" and status_of(project)["audit"] == "removed"  # the job's trap
    assert audit_configs(project) == []


# -- exclusivity -------------------------------------------------------------------------------------------------------

RECORD = """import glob, os, subprocess, sys, time
times, partner = sys.argv[1], sys.argv[2]
start = time.time()
open(f"{times}.started-{os.getpid()}", "w").close()
# Whether two runs overlap is not left to timing: a run waits until a run of the other system has started (when the
# two systems go in parallel, that one runs meanwhile; when they do not, it never starts, and this one goes on after
# the minute), then lasts half a second more.
deadline = time.time() + 60
while not glob.glob(f"{partner}.started-*") and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.5)
code = subprocess.call(sys.argv[3:])
with open(times, "a") as f:
    f.write(f"{start} {time.time()} {os.environ.get('SLURMD_NODENAME', '?')}\\n")
sys.exit(code)
"""


@pytest.mark.parametrize("pinned", [False, True], ids=["any-node", "a-node-each"])
def test_systems_run_in_parallel_and_runs_of_one_system_never_overlap(
    cluster: None, tmp_path: Path, pinned: bool
) -> None:
    """doit -n 2: the two systems' runs go in parallel (each on its own node when pinned, else anywhere, kept apart
    only by the singleton dependency of each system), two runs of one system never."""
    (tmp_path / "record.py").write_text(RECORD)
    systems = {}
    for name, node, partner in (("alpha", "node1", "beta"), ("beta", "node2", "alpha")):
        times = f"{tmp_path / (name + '.times')} {tmp_path / (partner + '.times')}"
        command = f"{{python}} {tmp_path / 'record.py'} {times} " + DEMO
        systems[name] = slurm_yaml(
            name,
            {"llama2-70b-99": {"scenarios": ["Offline", "Server"], "command": command}},
            {"nodelist": node} if pinned else None,
        )
    project = make_project(tmp_path / "p", systems)
    result = doit(project, "-n", "2")
    assert result.returncode == 0
    spans: dict[str, list[tuple[float, float, str]]] = {}
    for name in ("alpha", "beta"):
        lines = (tmp_path / f"{name}.times").read_text().splitlines()
        spans[name] = sorted((float(a), float(b), node) for a, b, node in (line.split() for line in lines))
        assert len(spans[name]) == 2
        (_, end), (start, _) = spans[name][0][:2], spans[name][1][:2]
        assert start >= end, f"two runs of {name} overlapped"
    overlap = max(min(a[1], b[1]) - max(a[0], b[0]) for a in spans["alpha"] for b in spans["beta"])
    assert overlap > 0.2, "the two systems did not run in parallel"
    if pinned:
        assert {node for *_, node in spans["alpha"]} == {"node1"} and {node for *_, node in spans["beta"]} == {"node2"}
    assert set(verdicts(project).values()) == {"PASS"}


# -- without a cluster ---------------------------------------------------------------------------------------------


def test_without_sbatch_the_run_fails_naming_the_system(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"box": slurm_yaml("box", {"llama2-70b-99": {"scenarios": ["Offline"]}})})
    env = {**os.environ, "PATH": str(tmp_path / "no-slurm-here")}
    result = subprocess.run(
        [sys.executable, "-m", "doit", f"run:{TEST06}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(result.stdout, result.stderr)
    assert result.returncode == 1
    assert (
        f"error: run {TEST06}: system box runs with the Slurm launcher, but sbatch, scontrol, scancel, squeue "
        "are not on PATH here"
    ) in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert audit_configs(project) == []


def _lay_out(case: Path, root: Path) -> None:
    for kind in ("rounds", "models", "tests"):
        shutil.copytree(PROJECT / "specs" / kind, root / "specs" / kind)
    shutil.copytree(case / "systems", root / "specs" / "systems")


def _cases(kind: str) -> list[Path]:
    return sorted(p for p in (EXAMPLES / kind).iterdir() if p.is_dir())


@pytest.mark.parametrize("case", _cases("valid"), ids=lambda p: p.name)
def test_valid_slurm_specs_validate(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _lay_out(case, tmp_path)
    assert main(["validate", "--specs", "specs"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("case", _cases("invalid"), ids=lambda p: p.name)
def test_invalid_slurm_specs_report_exactly_their_problems(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _lay_out(case, tmp_path)
    assert main(["validate", "--specs", "specs"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[:-1] == (case / "expected.txt").read_text().splitlines()


def test_the_example_spec_becomes_sbatch_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _lay_out(EXAMPLES / "valid/slurm-partition", tmp_path)
    monkeypatch.chdir(tmp_path)
    plan = build_plan(load_specs(tmp_path / "specs"))
    runs = {ref.run.label: ref.run for ref in plan.references} | {cp.run.label: cp.run for cp in plan.cells}
    resnet = runs["cluster/resnet/Offline/TEST01"]
    args = slurm.sbatch_args(resnet, slurm.Settings.of(resnet), resnet.files.job_files, "tok")
    assert args[:5] == [
        "sbatch",
        "--parsable",
        "--job-name=mlperf-compliance.cluster",
        "--dependency=singleton",
        "--comment=tok",
    ]
    assert "--time=11" in args and "--no-requeue" in args
    assert args[-6:] == [
        "--partition=debug",
        "--account=mlperf",
        "--exclusive",
        "--gres=gpu:8",
        "--mem=0",
        os.path.abspath("build/cluster/resnet/Offline/TEST01/run.job/job.sh"),
    ]
    llama = runs["cluster/llama2-70b-99/Offline/TEST06"]
    settings = slurm.Settings.of(llama)  # the benchmark's launcher replaces the system's
    assert settings.options() == ["--nodelist=gpu[07-08]", "--constraint=h100", "--qos=long", "--exclusive"]


# -- what Slurm prints, and how an end is told ----------------------------------------------------------------------

SHOW = (
    "JobId=42 JobName=mlperf-compliance.box UserId=root(0) JobState={state} Reason={reason} Dependency=(null) "
    "ExitCode={code} RunTime=00:00:03 TimeLimit=00:02:00 Comment=mlperf-compliance:abc NodeList={nodes} "
    "WorkDir=/tmp/a b/c StdOut=/tmp/a b/run.log Power="
)


def _run(tmp_path: Path) -> RunPlan:
    files = RunFiles(str(tmp_path / "logs"), str(tmp_path / "run.log"), str(tmp_path / "run.json"))
    return RunPlan(
        "box/llama2-70b-99/Offline/TEST06",
        "box",
        "true",
        str(tmp_path / "w"),
        files,
        None,
        {},
        5.0,
        "x = 1\n",
        False,
        Launcher("slurm"),
    )


def test_scontrol_lines_are_parsed_with_spaces_in_values() -> None:
    info = slurm.parse_job(
        SHOW.format(state="PENDING", reason="launch failed requeued held", code="0:0", nodes="(null)")
    )
    assert info is not None
    assert (info.job_id, info.state, info.reason, info.nodes) == ("42", "PENDING", "launch failed requeued held", "")
    assert info.fields["WorkDir"] == "/tmp/a b/c" and info.fields["Power"] == "" and not info.finished
    done = slurm.parse_job(SHOW.format(state="FAILED", reason="NonZeroExitCode", code="3:0", nodes="node1"))
    assert done is not None and (done.exit_status, done.exit_signal, done.nodes, done.finished) == (3, 0, "node1", True)
    assert slurm.parse_job("slurm_load_jobs error: Invalid job id specified") is None


@pytest.mark.parametrize(
    ("state", "status", "stopped", "expected", "words"),
    [
        ("COMPLETED", "exit=0", None, Ending.EXITED, ""),
        ("FAILED", "exit=3", None, Ending.EXITED, "exit status 3 (Slurm job 42)"),
        ("FAILED", "exit=137", None, Ending.SIGNALLED, "killed by SIGKILL (exit status 137)"),
        (
            "COMPLETED",
            None,
            None,
            Ending.LAUNCH_FAILED,
            "Slurm reports job 42 COMPLETED 0:0 (reason: None) on node1, but "
            "its script wrote no status: the command never ran",
        ),
        ("CANCELLED", "signal=TERM", None, Ending.CANCELLED, "Slurm job 42 was cancelled from outside (scancel)"),
        ("CANCELLED", "signal=TERM", "timeout", Ending.TIMEOUT, "timed out after 5 s; Slurm job 42 was cancelled"),
        ("TIMEOUT", "signal=TERM", None, Ending.TIMEOUT, "Slurm ended job 42 at its time limit (00:02:00)"),
        ("PREEMPTED", "signal=TERM", None, Ending.PREEMPTED, "was preempted; run again to resubmit"),
        ("NODE_FAIL", None, None, Ending.NODE_FAILURE, "node node1 of Slurm job 42 failed"),
        ("BOOT_FAIL", None, None, Ending.LAUNCH_FAILED, "failed to boot"),
        (
            "CANCELLED",
            None,
            "never:PartitionTimeLimit",
            Ending.LAUNCH_FAILED,
            "Slurm would never start job 42 (pending with reason PartitionTimeLimit): it was cancelled; "
            "change the launcher settings of system box",
        ),
        (None, None, None, Ending.NODE_FAILURE, "Slurm no longer knows job 42 and it wrote no status"),
        (None, "exit=0", None, Ending.EXITED, ""),
        ("FAILED", "refused=foreign:audit.conf", None, Ending.REFUSED, "/w/audit.conf exists and was not placed"),
        (
            "FAILED",
            "failed=make-folder",
            None,
            Ending.LAUNCH_FAILED,
            "make the working directory /w on node1 (Slurm job 42)",
        ),
        ("FAILED", "failed=no-sha256sum", None, Ending.LAUNCH_FAILED, "sha256sum is not on PATH on node1"),
        ("FAILED", "failed=lock-system", None, Ending.LAUNCH_FAILED, "lock file <locks>/system-box.lock on node1"),
        ("FAILED", "failed=nonsense", None, Ending.LAUNCH_FAILED, "the job reported 'nonsense' on node1"),
    ],
)
def test_job_ends_map_to_launched(
    tmp_path: Path, state: str | None, status: str | None, stopped: str | None, expected: Ending, words: str
) -> None:
    run = _run(tmp_path)
    info = (
        None if state is None else slurm.parse_job(SHOW.format(state=state, reason="None", code="0:0", nodes="node1"))
    )
    found = None
    if status is not None:
        path = tmp_path / "status"
        path.write_text(f"job=42\nnode=node1\n{status}\naudit=removed\n")
        found = slurm.read_status(str(path), "42")
        assert found is not None and slurm.read_status(str(path), "43") is None  # another job's status is not its
    launched = slurm.ending(run, "42", info, found, stopped, 1.0)
    assert launched.ending is expected
    words = words.replace("<locks>", os.environ["MLPERF_COMPLIANCE_LOCKS"])
    assert (
        words.replace("/w/", f"{tmp_path}/w/").replace("/w on", f"{tmp_path}/w on") in launched.reason
        if words
        else (launched.reason == "" and launched.ok)
    )


def test_a_replaced_audit_config_is_the_aftermath(tmp_path: Path) -> None:
    path = tmp_path / "status"
    path.write_text("job=42\nnode=node1\nhost=h1\nexit=0\naftermath=replaced\naudit=replaced\n")
    launched = slurm.ending(_run(tmp_path), "42", None, slurm.read_status(str(path), "42"), None, 1.0)
    assert launched.ending is Ending.EXITED and not launched.ok
    assert launched.problem == (
        f"the command replaced the staged audit.config with its own, and left it in {tmp_path / 'w'}: remove it "
        "before any submission run there"
    )
    assert (launched.where.host, launched.where.job_id, launched.where.node) == ("h1", "42", "node1")
