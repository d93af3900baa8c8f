"""A synthetic harness for the pipeline's tests: written LoadGen logs of TEST01 runs of retinanet (so each verdict is
certain), the submission's results they compare with, and two ways to "run" them:

* :class:`FakeLauncher` stands for a launcher inside the test's process (no process at all): each launch writes the
  next logs given, or ends as told (an exit status, a timeout); for unit tests of the steps and the retries;
* :data:`SCRIPT` is a harness as a user's command would be (``{python} harness.py {log_dir} calls/<name>``): at its
  n-th call it copies the n-th set of logs given under ``attempts/<name>/<n>/`` (after the last, the last again),
  for tests that need a real process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from compliance.pipeline.launch.base import Ending, Launched, clear_logs
from compliance.plan import RunPlan
from compliance.records import Where
from tests.helpers import logwriter as w

SEED = 720381539243781796
EFFECTIVE = {  # TEST01 of retinanet, as LoadGen logs it with the audit.config applied
    "effective_accuracy_log_rng_seed": SEED,
    "effective_accuracy_log_sampling_target": 256,
    "effective_test_mode": "PerformanceOnly",
}
OUTPUTS = {q: [q, 1, 2] for q in range(8)}


def compliance_logs(score: float = 1000.0, valid: bool = True, differ: bool = False) -> dict[str, str]:
    """The logs of one TEST01 compliance run of retinanet (score in samples/s; outputs that differ in their first
    element from the submission's)."""
    detail = w.perf_detail("Offline", score, audit=True, valid=valid, **EFFECTIVE)
    shift = 100 if differ else 0
    entries = (
        w.accuracy_entry(i, q, w.hexdata([OUTPUTS[q][0] + shift, *OUTPUTS[q][1:]])) for i, q in enumerate((1, 3))
    )
    return {
        "mlperf_log_detail.txt": detail,
        "mlperf_log_summary.txt": w.summary_log("Offline", score, valid),
        "mlperf_log_accuracy.json": w.accuracy_log(entries),
    }


def results(score: float = 1000.0) -> dict[str, Any]:
    """A submission's scenario folder (accuracy/, performance/run_1/) that the compliance logs above compare with."""
    reference = (w.accuracy_entry(i, q, w.hexdata(v)) for i, (q, v) in enumerate(OUTPUTS.items()))
    return {
        "accuracy": {"mlperf_log_accuracy.json": w.accuracy_log(reference)},
        "performance": {
            "run_1": {
                "mlperf_log_detail.txt": w.perf_detail("Offline", score),
                "mlperf_log_summary.txt": w.summary_log("Offline", score),
            }
        },
    }


def submission_logs(mode: str, score: float = 1000.0) -> dict[str, str]:
    """The logs of a submission run (``mode``: accuracy or performance) of retinanet Offline."""
    folder = results(score)["accuracy" if mode == "accuracy" else "performance"]
    logs = dict(folder if mode == "accuracy" else folder["run_1"])
    logs.setdefault("mlperf_log_detail.txt", w.perf_detail("Offline", score, effective_test_mode="AccuracyOnly"))
    logs.setdefault("mlperf_log_summary.txt", w.summary_log("Offline", score))
    logs.setdefault("mlperf_log_accuracy.json", w.accuracy_log([]))
    return logs


#: what a launch does: the logs it writes (by name), or how it ends without them
Outcome = dict[str, str] | Launched | Callable[[RunPlan], "dict[str, str] | Launched"]


def exited(code: int) -> Launched:
    return Launched(Ending.EXITED, code, f"exit status {code} (log: run.log)", 0.01, where=Where("testhost"))


def timed_out(seconds: float = 2) -> Launched:
    return Launched(Ending.TIMEOUT, None, f"timed out after {seconds:g} s and was stopped", seconds)


class FakeLauncher:
    """A launcher that runs nothing: its n-th launch of a run writes the n-th outcome given for that run's label (the
    last again after the last; ``default`` for a run given none), as the run's command would have."""

    kind = "local"

    def __init__(self, outcomes: dict[str, list[Outcome]] | None = None, default: Outcome | None = None):
        self.outcomes = outcomes or {}
        self.default = default
        self.calls: list[str] = []

    def count(self, label: str) -> int:
        return self.calls.count(label)

    def launch(self, run: RunPlan) -> Launched:
        self.calls.append(run.label)
        given = self.outcomes.get(run.label) or [self.default if self.default is not None else _honest]
        outcome = given[min(self.count(run.label), len(given)) - 1]
        if callable(outcome):
            outcome = outcome(run)
        clear_logs(run)
        Path(run.files.output).write_text(f"harness call {self.count(run.label)} of {run.label}\n", encoding="utf-8")
        if isinstance(outcome, Launched):
            return outcome
        for name, text in outcome.items():
            Path(run.files.logs, name).write_text(text, encoding="utf-8")
        return Launched(Ending.EXITED, 0, "", 0.01, where=Where("testhost"))


def _honest(run: RunPlan) -> dict[str, str]:
    """What an honest harness writes for ``run``: a compliance run's logs, or a submission run's."""
    if run.audit_text is not None:
        return compliance_logs()
    return submission_logs("accuracy" if run.label.endswith("accuracy") else "performance")


SCRIPT = """\
import os, shutil, sys, time
log_dir, calls = sys.argv[1], sys.argv[2]
os.makedirs(calls, exist_ok=True)
n = len(os.listdir(calls)) + 1
open(os.path.join(calls, str(n)), "w").close()
print(f"harness call {n}")
given = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attempts", os.path.basename(calls))
source = os.path.join(given, str(min(n, len(os.listdir(given)))))  # after the last one given, the last again
if os.path.exists(os.path.join(source, "sleep")):
    time.sleep(float(open(os.path.join(source, "sleep")).read() or 60))
if os.path.exists(os.path.join(source, "fail")):
    sys.exit(3)
for name in os.listdir(source):
    shutil.copy(os.path.join(source, name), log_dir)
"""


def test06_logs(scenario: str) -> dict[str, str]:
    """The logs of an honest TEST06 run of llama2-70b-99 or mixtral-8x7b (EOS 2) in ``scenario``: 100 outputs that
    end with one EOS, their token counts, their first tokens logged apart, the audit settings in effect."""
    entries = [
        w.accuracy_entry(i, i, w.hexdata([5, 6, 2]), token_data=w.hexdata([5]), token_count=3) for i in range(100)
    ]
    effective = {
        "effective_scenario": scenario,
        "effective_test_mode": "PerformanceOnly",
        "effective_accuracy_log_rng_seed": SEED,
        "effective_accuracy_log_sampling_target": 100,
        "effective_min_duration_ms": 0,
        "effective_min_query_count": 100,
        "effective_sample_concatenate_permutation": False,
    }
    if scenario == "Offline":  # Offline turns min_query_count into samples_per_query (docs/rules.md §1.4)
        effective.update(effective_min_query_count=1, effective_samples_per_query=100)
    return {
        "mlperf_log_accuracy.json": w.accuracy_log(entries),
        "mlperf_log_detail.txt": w.detail_log(effective, audit=True),
        "mlperf_log_summary.txt": w.summary_log(scenario, 100.0),
    }


TEST06_SCRIPT = """\
import os, shutil, sys
log_dir, scenario = sys.argv[1], sys.argv[2]
source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "logs06", scenario)
for name in os.listdir(source):
    shutil.copy(os.path.join(source, name), log_dir)
"""


def test06_harness(root: Path) -> str:
    """Write a harness that writes honest TEST06 logs (in a second, where the demo takes LoadGen's time) into
    ``root``; the command that runs it (``{log_dir}`` and ``{scenario}`` filled by the plan)."""
    (root / "logs06").mkdir(parents=True, exist_ok=True)
    for scenario in ("Offline", "Server"):
        (root / "logs06" / scenario).mkdir(exist_ok=True)
        for name, text in test06_logs(scenario).items():
            (root / "logs06" / scenario / name).write_text(text, encoding="utf-8")
    (root / "harness06.py").write_text(TEST06_SCRIPT, encoding="utf-8")
    return f"{{python}} {root / 'harness06.py'} {{log_dir}} {{scenario}}"
