"""The accuracy command, run by the pipeline's runner: every way its score cannot be trusted is named for what it is
(a timeout, no score, a failing exit after a good score, its input deleted or changed, output without end)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from compliance.pipeline import process
from compliance.specs.types import Metric
from compliance.verify import scoring

METRIC = Metric("acc", r"^acc=([\d.]+)", 1.0)


def _score(tmp_path: Path, template: str, timeout: float = 60) -> tuple[scoring.Scored, Path]:
    log = tmp_path / "comp" / "mlperf_log_accuracy.json"
    log.parent.mkdir(exist_ok=True)
    log.write_text("[]\n")
    command = scoring.Command(template, {}, timeout, {}, process.accuracy_runner)
    with scoring.scratch(tmp_path / "scratch") as folder:
        return scoring.score(command, str(log), (METRIC,), folder), log


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("echo acc=76.5 # {accuracy_log}", None),
        ("sleep 30 # {accuracy_log}", "the accuracy command timed out after 0.5 s and was stopped"),
        ("echo nothing # {accuracy_log}", "the accuracy command printed no score: no line of its output matches"),
        (
            "echo acc=99; exit 3 # {accuracy_log}",
            "the accuracy command exited with status 3 after printing a score (acc): a failing scorer's score is not "
            "used",
        ),
        ("echo acc=99; kill -9 $$ # {accuracy_log}", "the accuracy command was killed by signal 9 after printing"),
        ("rm {accuracy_log}; echo acc=99", "the accuracy command deleted the log it was given to score (a link to"),
        ("echo more >> {accuracy_log}; echo acc=99", "the accuracy command changed the log it scores"),
        ("exec /nonexistent/scorer {accuracy_log}", "the accuracy command exited with status 127"),
    ],
)
def test_each_way_a_score_cannot_be_trusted_is_named(tmp_path: Path, template: str, reason: str | None) -> None:
    scored, log = _score(tmp_path, template, timeout=0.5 if "sleep" in template else 60)
    if reason is None:
        assert scored.ok and scored.values == {"acc": 76.5}
        return
    assert scored.problems and scored.problems[0].startswith(reason), scored.problems
    assert log.exists()  # the log itself is never deleted: the command got a link to it


def test_output_without_end_is_cut_and_stopped_quickly(tmp_path: Path) -> None:
    start = time.monotonic()
    scored, _ = _score(tmp_path, "yes acc=1 # {accuracy_log}")
    assert time.monotonic() - start < 30  # it used to be read for as long as it printed, past its timeout
    limit = scoring.MAX_OUTPUT_BYTES >> 20
    assert scored.problems[0] == f"the accuracy command printed more than {limit} MB and was stopped"
    assert scored.cut and len(scored.output) <= scoring.KEEP_CHARS + 100


def test_without_a_runner_nothing_is_started(tmp_path: Path) -> None:
    command = scoring.Command("touch {accuracy_log}.ran", {}, 10, {}, None)
    log = tmp_path / "log.json"
    log.write_text("[]\n")
    with scoring.scratch(tmp_path) as folder:
        scored = scoring.score(command, str(log), (METRIC,), folder)
    assert "no process runner" in scored.problems[0]
    assert not list(tmp_path.rglob("*.ran"))
