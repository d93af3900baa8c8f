"""The staging rules (compliance/pipeline/staging.py), one table applied twice: decision by decision on small trees
(what is ours, recorded before it was placed; what is refused and left untouched; what is removed), the local
launcher keeping them around a command, and the same folders staged by the Python steps and by the shell a Slurm job
runs (generated from the table), which must end alike with the same rule fired and the same sentence: a change of
the rules cannot reach one and not the other."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from compliance.auditconfig import AUDIT_CONFIG
from compliance.layout import ISOLATED_MARKER, RunFiles
from compliance.pipeline import staging
from compliance.pipeline.launch.base import Ending
from compliance.pipeline.launch.local import LocalLauncher
from compliance.pipeline.launch.slurm import script
from compliance.plan import RunPlan
from compliance.specs.types import Launcher
from tests.helpers import pipeline as p

MARKED = "# mlperf-compliance: TEST04 resnet Offline cell=box/resnet/Offline/TEST04\n*.*.mode = 2\n"


def _message(problem: staging.Problem | None) -> str:
    return problem.message if problem is not None else ""


def _runs(**changes):
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet", **changes)))
    return p.cell(plan, "box/resnet/Offline/TEST04").run, p.reference(plan, "box/resnet/Offline/performance").run


def test_a_placed_config_is_recorded_first_and_removed_only_while_it_holds_our_text() -> None:
    run, _ = _runs()
    assert staging.before(run) is None and Path(run.workdir).is_dir()
    assert staging.place(run) is None
    staged = staging.staged_path(run)
    assert staged.read_text() == run.audit_text
    assert staging.remove(run) is None and not staged.exists()
    staging.place(run)
    staged.write_text("the harness's own\n")  # the command replaced it: reported, never deleted
    assert _message(staging.remove(run)) == (
        f"the command replaced the staged audit.config with its own, and left it in {run.workdir}: remove it before "
        "any submission run there"
    )
    assert staged.read_text() == "the harness's own\n"


def test_a_config_an_interrupted_run_left_is_ours_to_remove(capsys: pytest.CaptureFixture[str]) -> None:
    run, _ = _runs()
    staging.before(run)
    staging.place(run)  # then the run was killed: the file stays, and so does our record of it
    assert staging.before(run) is None  # removed as ours, said, and nothing is refused
    assert not staging.staged_path(run).exists() and "left by an interrupted run" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["*.*.mode = 2\n", MARKED], ids=["by hand", "rendered by audit-config"])
@pytest.mark.parametrize("name", ["audit.config", "audit.conf"])
def test_a_config_not_placed_by_the_project_is_refused_and_left(name: str, text: str) -> None:
    """Only a file this project recorded placing is ours: one copied by hand (even with our marker comment) or
    whisper's audit.conf is refused for compliance and submission runs, and never deleted."""
    run, reference = _runs()
    foreign = Path(run.workdir, name)
    foreign.parent.mkdir(parents=True)
    foreign.write_text(text)
    assert _message(staging.before(run)) == (
        f"{foreign} exists and was not placed by this project's runs: it would be used by this run and by any "
        "submission run there; move it away, then rerun"
    )
    assert _message(staging.before(reference)) == (
        f"{foreign} exists: this submission run would be audited. Remove it (an interrupted compliance run may have "
        "left it), then rerun"
    )
    assert foreign.read_text() == text


def test_an_isolated_folder_is_made_afresh_and_one_not_ours_is_refused() -> None:
    run, _ = _runs(isolated=True)
    assert staging.before(run) is None
    work = Path(run.workdir)
    assert (work / ".mlperf-compliance-workdir").exists()
    (work / "stale").write_text("left by an earlier run")
    assert staging.before(run) is None and not (work / "stale").exists()  # every run starts empty
    (work / ".mlperf-compliance-workdir").unlink()
    (work / "precious.txt").write_text("not ours")
    assert "is not a working directory made by mlperf-compliance" in _message(staging.before(run))
    assert (work / "precious.txt").read_text() == "not ours"


# -- the local launcher keeps the rules around a command ---------------------------------------------------------------


def test_the_launcher_refuses_before_starting_and_reports_a_replaced_config(tmp_path: Path) -> None:
    run, _ = _runs()
    launcher = LocalLauncher()
    foreign = Path(run.workdir, "audit.config")
    foreign.parent.mkdir(parents=True)
    foreign.write_text("*.*.mode = 2\n")
    launched = launcher.launch(replace(run, command=f"touch {tmp_path}/started"), say=lambda _: None)
    assert launched.ending is Ending.REFUSED and "was not placed by this project's runs" in launched.reason
    assert not (tmp_path / "started").exists() and foreign.read_text() == "*.*.mode = 2\n"
    foreign.unlink()
    launched = launcher.launch(replace(run, command="echo ours > audit.config"), say=lambda _: None)
    assert launched.problem is not None and "replaced the staged audit.config" in launched.problem
    assert launched.where.host  # a run's record says where it ran
    foreign.unlink()
    launched = launcher.launch(replace(run, command="test -s audit.config"), say=lambda _: None)
    assert launched.ok and not foreign.exists()  # in place while the command ran, gone after


@pytest.mark.parametrize(
    ("command", "timeout", "words", "ending"),
    [("exit 3", 60.0, "exit status 3", Ending.EXITED), ("sleep 60", 0.5, "timed out after 0.5 s", Ending.TIMEOUT)],
)
def test_a_failing_or_hanging_command_leaves_no_config(command: str, timeout: float, words: str, ending) -> None:
    run, _ = _runs()
    launched = LocalLauncher().launch(replace(run, command=command, timeout=timeout), say=lambda _: None)
    assert launched.ending is ending and words in launched.reason
    assert not staging.staged_path(run).exists()


# -- the same folders, staged by Python and by the job's shell ----------------------------------------

TEXT = "*.*.mode = 2  # ours\n"
REPORT = 'printf "\\n@%s %s %s %s\\n" "$rc" "$STAGE_REFUSED$STAGE_FAILED" "$STAGE_INDEX" "$STAGE_PLACED"'
OTHER = "*.*.mode = 3  # an earlier cell's, left by an interrupted run\n"


def _plan(root: Path, audit: str | None = TEXT, isolated: bool = False, label: str = "box/b/Offline/TEST06") -> RunPlan:
    files = RunFiles(str(root / "build/logs"), str(root / "build/run.log"), str(root / "build/run.json"))
    launcher = Launcher("slurm", (("exclusive", True), ("sbatch_options", ())))
    return RunPlan(label, "box", "true", str(root / "work"), files, None, {}, 5.0, audit, isolated, launcher)


# -- what each side does ---------------------------------------------------------------------------------------------


def _python(run: RunPlan, command: Callable[[Path], None]) -> tuple[list[str], list[str]]:
    """(rules fired, sentences said) by the Python steps: before, place, the command, remove."""
    said: list[str] = []
    fired = []
    problem = staging.before(run, said.append)
    if problem is None:
        problem = staging.place(run)
        if problem is None:
            command(Path(run.workdir))
            problem = staging.remove(run)
    if problem is not None:
        fired.append(f"{problem.rule.id}: {problem.message}")
    notes = [line.strip() for line in said]
    return fired, notes


def _shell(run: RunPlan, command: Callable[[Path], None]) -> tuple[list[str], list[str]]:
    """The same, by the job's shell: stage_in, the command, stage_out (two shells; STAGE_PLACED carried over)."""
    staging.expect(run)  # as the controller does before it submits
    env = {**os.environ, **script.job_environment(run, run.files.job_files)}
    stage = script.stage_shell(run)
    first = subprocess.run(
        ["/bin/sh", "-c", stage + "\nstage_in; rc=$?\n" + REPORT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    out, _, tail = first.stdout.rpartition("\n@")
    rc, rule, index, placed = (tail.strip().split(" ") + ["", "", ""])[:4]
    notes = [line.removeprefix("mlperf-compliance: ") for line in out.splitlines() if line]
    if rc != "0":
        return [f"{rule}: {env[f'{script.PREFIX}RULE_{index}']}"], notes
    command(Path(run.workdir))
    second = subprocess.run(
        ["/bin/sh", "-c", stage + f'\nSTAGE_PLACED={placed}\nstage_out\nprintf "%s" "$STAGE_AFTERMATH"'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rule = second.stdout.strip()
    return ([f"{rule}: {staging.BY_ID[rule].message(run)}"] if rule else []), notes


def _state(folder: Path) -> dict[str, str]:
    if not folder.exists():
        return {}
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        found[name] = "dir" if path.is_dir() else ("link" if path.is_symlink() else path.read_text())
    return found


def _same_on_both(
    tmp_path: Path, prepare: Callable[[RunPlan], None], command: Callable[[Path], None], **plan
) -> list[str]:
    results = {}
    for side, apply in (("python", _python), ("shell", _shell)):
        root = tmp_path / side
        root.mkdir()
        os.chdir(root)  # the staging records live in build/ of the folder doit runs in
        run = _plan(root, **plan)
        prepare(run)
        fired, notes = apply(run, command)
        results[side] = (
            [f.replace(str(root), "<root>") for f in fired],
            [n.replace(str(root), "<root>") for n in notes],
            {k: v for k, v in _state(root / "work").items() if not k.startswith(".audit.config.")},
        )
    assert results["python"] == results["shell"]
    return results["python"][0]


# -- the folders ----------------------------------------------------------------------------------------------------


def _nothing(run: RunPlan) -> None:
    pass


def _ran(folder: Path) -> None:
    (folder / "ran").write_text("the command ran\n")


def _foreign(name: str) -> Callable[[RunPlan], None]:
    def prepare(run: RunPlan) -> None:
        Path(run.workdir).mkdir(parents=True, exist_ok=True)
        (Path(run.workdir) / name).write_text("*.*.mode = 2  # placed by hand\n")

    return prepare


def _stale(run: RunPlan) -> None:
    """An interrupted run of another cell of this project left its audit.config (its text is in our record)."""
    earlier = _plan(Path(run.workdir).parent, audit=OTHER, label="box/b/Offline/TEST01")
    staging.before(earlier, lambda _: None)
    staging.place(earlier)


def _dangling_link(run: RunPlan) -> None:
    Path(run.workdir).mkdir(parents=True)
    (Path(run.workdir) / AUDIT_CONFIG).symlink_to("/nonexistent/audit.config")


def _not_a_folder(run: RunPlan) -> None:
    Path(run.workdir).write_text("a file where the working directory should be\n")


def _foreign_folder(run: RunPlan) -> None:
    Path(run.workdir).mkdir(parents=True)
    (Path(run.workdir) / "notes.txt").write_text("the user's\n")


def _our_old_folder(run: RunPlan) -> None:
    Path(run.workdir).mkdir(parents=True)
    (Path(run.workdir) / ISOLATED_MARKER).write_text("working directory of an earlier run\n")
    (Path(run.workdir) / "left.txt").write_text("from the earlier run\n")


def _replace(folder: Path) -> None:
    (folder / AUDIT_CONFIG).write_text("*.*.mode = 7  # the harness's own\n")


def _delete(folder: Path) -> None:
    (folder / AUDIT_CONFIG).unlink()


@pytest.mark.parametrize(
    ("prepare", "command", "plan", "expected"),
    [
        (_nothing, _ran, {}, []),
        (_nothing, _ran, {"audit": None}, []),
        (_stale, _ran, {}, []),
        (_foreign(AUDIT_CONFIG), _ran, {}, ["foreign:audit.config"]),
        (_foreign("audit.conf"), _ran, {}, ["foreign:audit.conf"]),
        (_foreign(AUDIT_CONFIG), _ran, {"audit": None}, ["audited:audit.config"]),
        (_foreign("audit.conf"), _ran, {"audit": None}, ["audited:audit.conf"]),
        (_dangling_link, _ran, {}, ["foreign:audit.config"]),
        (_not_a_folder, _ran, {}, ["make-folder"]),
        (_foreign_folder, _ran, {"isolated": True}, ["foreign-folder"]),
        (_our_old_folder, _ran, {"isolated": True}, []),
        (_nothing, _replace, {}, ["replaced"]),
        (_nothing, _delete, {}, []),
    ],
    ids=lambda v: getattr(v, "__name__", None) or (str(v) if not isinstance(v, dict) else ",".join(v) or "-"),
)
def test_python_steps_and_job_shell_end_alike(tmp_path: Path, prepare, command, plan: dict, expected: list) -> None:
    fired = _same_on_both(tmp_path, prepare, command, **plan)
    assert [f.partition(": ")[0] for f in fired] == expected


def test_a_stale_file_of_ours_is_removed_and_said(tmp_path: Path) -> None:
    os.chdir(tmp_path)
    run = _plan(tmp_path)
    _stale(run)
    said: list[str] = []
    assert staging.before(run, said.append) is None
    assert said == [f"  removed {tmp_path / 'work' / AUDIT_CONFIG}, left by an interrupted run"]


# -- the table and its two implementations ------------------------------------------------------------------------


def test_every_check_has_a_python_and_a_shell_implementation() -> None:
    stage = (Path(script.__file__).parent / "stage.sh").read_text()
    shell = set(re.findall(r"^stage_(\w+)\(\) \{", stage, re.M))
    assert set(staging.CHECKS) == set(staging.Check)
    assert {c.value for c in staging.Check} <= shell


def test_every_rule_reaches_the_job_with_its_sentence(tmp_path: Path) -> None:
    for plan in ({}, {"audit": None}, {"isolated": True}):
        run = _plan(tmp_path, **plan)
        text = script.stage_shell(run)
        env = script.job_environment(run, run.files.job_files)
        for index, rule in enumerate(staging.RULES):
            line = f"stage_rule {index} {rule.id} {rule.check.value}"
            assert (line in text) == rule.applies_to(run), (rule.id, plan)
            assert env.get(f"{script.PREFIX}RULE_{index}") == (rule.message(run) if rule.applies_to(run) else None)


def test_rule_ids_are_unique_and_sentences_name_what_to_do() -> None:
    assert len(staging.BY_ID) == len(staging.RULES)
    for rule in staging.RULES:
        assert re.fullmatch(r"[a-z][a-z.:-]*", rule.id)
    ours = hashlib.sha256(TEXT.encode()).hexdigest()
    assert staging.text_sha(_plan(Path("/w"))) == ours
