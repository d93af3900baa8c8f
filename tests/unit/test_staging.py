"""The staging rules (compliance/pipeline/staging.py), decision by decision, on small trees: what is ours (recorded
before it was placed), what is refused and left untouched, what is removed; and the local launcher keeping them
around a command (a shell command, no doit, no LoadGen)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from compliance.pipeline import staging
from compliance.pipeline.launch.base import Ending
from compliance.pipeline.launch.local import LocalLauncher
from tests.helpers import pipeline as p

MARKED = "# mlperf-compliance: TEST04 resnet Offline cell=box/resnet/Offline/TEST04\n*.*.mode = 2\n"


def _runs(**changes):
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet", **changes)))
    return p.cell(plan, "box/resnet/Offline/TEST04").run, p.reference(plan, "box/resnet/Offline/performance").run


def test_a_placed_config_is_recorded_first_and_removed_only_while_it_holds_our_text() -> None:
    run, _ = _runs()
    assert staging.prepare_workdir(run) is None and Path(run.workdir).is_dir()
    assert staging.place(run) is None
    staged = staging.staged_path(run)
    assert staged.read_text() == run.audit_text
    assert staging.remove(run) is None and not staged.exists()
    staging.place(run)
    staged.write_text("the harness's own\n")  # the command replaced it: reported, never deleted
    assert staging.remove(run) == (
        f"the command replaced the staged audit.config with its own, and left it in {run.workdir}: remove it before "
        "any submission run there"
    )
    assert staged.read_text() == "the harness's own\n"


def test_a_config_an_interrupted_run_left_is_ours_to_remove(capsys: pytest.CaptureFixture[str]) -> None:
    run, _ = _runs()
    staging.prepare_workdir(run)
    staging.place(run)  # then the run was killed: the file stays, and so does our record of it
    assert staging.clear_stale(run) is None
    assert not staging.staged_path(run).exists() and "left by an interrupted run" in capsys.readouterr().out
    assert staging.refuse_foreign(run) is None


@pytest.mark.parametrize("text", ["*.*.mode = 2\n", MARKED], ids=["by hand", "rendered by audit-config"])
@pytest.mark.parametrize("name", ["audit.config", "audit.conf"])
def test_a_config_not_placed_by_the_project_is_refused_and_left(name: str, text: str) -> None:
    """Only a file this project recorded placing is ours: one copied by hand (even with our marker comment) or
    whisper's audit.conf is refused for compliance and submission runs, and never deleted."""
    run, reference = _runs()
    foreign = Path(run.workdir, name)
    foreign.parent.mkdir(parents=True)
    foreign.write_text(text)
    for step in (staging.clear_stale, staging.prepare_workdir):
        assert step(run) is None
    assert staging.refuse_foreign(run) == (
        f"{foreign} exists and was not placed by this project's runs: it would be used by this run and by any "
        "submission run there; move it away, then rerun"
    )
    assert staging.refuse_foreign(reference) == (
        f"{foreign} exists: this submission run would be audited. Remove it (an interrupted compliance run may have "
        "left it), then rerun"
    )
    assert foreign.read_text() == text


def test_an_isolated_folder_is_made_afresh_and_one_not_ours_is_refused() -> None:
    run, _ = _runs(isolated=True)
    assert staging.prepare_workdir(run) is None
    work = Path(run.workdir)
    assert (work / ".mlperf-compliance-workdir").exists()
    (work / "stale").write_text("left by an earlier run")
    assert staging.prepare_workdir(run) is None and not (work / "stale").exists()  # every run starts empty
    (work / ".mlperf-compliance-workdir").unlink()
    (work / "precious.txt").write_text("not ours")
    assert "is not a working directory made by mlperf-compliance" in (staging.prepare_workdir(run) or "")
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
