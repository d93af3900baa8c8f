"""Checks of the runs themselves, shared by the tests: the scenario they were made in, the LoadGen mode of the
submission's own runs, and the Server target QPS of a compliance run against the submission's.

The official verifiers compare none of these with the folder a run is filed in (docs/rules.md §3, item 11): a
SingleStream run filed as MultiStream, or a submission accuracy run made in PerformanceOnly mode, passes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compliance.logs.detail import DetailLog
from compliance.specs.types import LOADGEN_SCENARIOS, loadgen_scenario
from compliance.verify.result import Check, Kind, Outcome, Result

CHECK_SCENARIO = "scenario"
CHECK_MODES = "submission runs in their modes"

#: the LoadGen modes a submission run of each kind may show (SubmissionRun: LoadGen's mode 0 makes both)
RUN_MODES = {"accuracy": ("AccuracyOnly", "SubmissionRun"), "performance": ("PerformanceOnly", "SubmissionRun")}


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, (str, int, float, bool, type(None))) else f"a {type(value).__name__}"


def scenario(folder_scenario: str | None, logs: Mapping[str, DetailLog]) -> Check | None:
    """Each run's ``effective_scenario`` is the folder's scenario (``Interactive`` is LoadGen's ``Server``);
    None when the folder's scenario is not known (then only the runs' agreement is checked elsewhere)."""
    if folder_scenario is None:
        return None
    expected = loadgen_scenario(folder_scenario)
    figures: dict[str, Any] = {"folder": folder_scenario, "expected": expected}
    wrong = []
    for label, log in logs.items():
        logged = log.get("effective_scenario")
        figures[label] = logged if isinstance(logged, str) else _shown(logged)
        if not isinstance(logged, str) or logged not in LOADGEN_SCENARIOS:
            wrong.append(f"the {label} run's detail log names no scenario LoadGen knows ({_shown(logged)})")
        elif logged != expected:
            wrong.append(f"the {label} run was made in {logged}, not {expected}")
    if wrong:
        where = f"the folder is {folder_scenario}" + (f" (LoadGen's {expected})" if expected != folder_scenario else "")
        return Check(CHECK_SCENARIO, Outcome.FAIL, "; ".join(wrong) + f": {where}", figures)
    return Check(CHECK_SCENARIO, Outcome.PASS, "", figures)


def modes(references: Mapping[str, DetailLog]) -> Check:
    """The submission's own runs were made in their LoadGen mode (``accuracy``: AccuracyOnly, ``performance``:
    PerformanceOnly; SubmissionRun for either): a PerformanceOnly "accuracy run" logs only a sample of outputs."""
    figures: dict[str, Any] = {}
    wrong = []
    for label, log in references.items():
        logged = log.get("effective_test_mode")
        figures[label] = logged if isinstance(logged, str) or logged is None else _shown(logged)
        if logged is not None and logged not in RUN_MODES[label]:
            wrong.append(f"the submission's {label} run was made in {_shown(logged)} mode, not {RUN_MODES[label][0]}")
    if wrong:
        return Check(CHECK_MODES, Outcome.FAIL, "; ".join(wrong) + "; rerun it in its mode", figures)
    return Check(CHECK_MODES, Outcome.PASS, "", figures)


def add_run_checks(
    result: Result,
    folder_scenario: str | None,
    references: Mapping[str, DetailLog],
    logs: Mapping[str, DetailLog | None],
) -> None:
    """Add :func:`modes` of the submission runs ``references`` (by kind) and :func:`scenario` of every run read."""
    if references:
        result.add(modes(references))
    check = scenario(folder_scenario, {label: log for label, log in logs.items() if log is not None})
    if check is not None:
        result.add(check)


def target_qps(reference: DetailLog, compliance: DetailLog) -> tuple[float, float] | None:
    """The Server target QPS of both runs when they differ (None when equal, unknown, or not Server)."""
    if reference.scenario != "Server" or compliance.scenario != "Server":
        return None
    ref, comp = reference.get("effective_target_qps"), compliance.get("effective_target_qps")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in (ref, comp))
    return (float(ref), float(comp)) if numbers and ref != comp else None


def note_target_qps(result: Result, reference: DetailLog, compliance: DetailLog, lower_means: str, check: str) -> bool:
    """A finding when the Server compliance run used another target QPS than the submission's (review.md §2:
    common practice, 0.92x in hundreds of published folders); ``lower_means`` says what a lower one does to this
    test's comparison. Whether one was noted."""
    pair = target_qps(reference, compliance)
    if pair is None:
        return False
    ref, comp = pair
    ratio = comp / ref
    if comp < ref:
        message = (
            f"the compliance run's target QPS is {comp:g}, {ratio:.2f}x the submission's {ref:g}: in Server the "
            f"completed samples per second follow the target, so {lower_means}"
        )
    else:
        message = (
            f"the compliance run's target QPS is {comp:g}, {ratio:.2f}x the submission's {ref:g}: it was run "
            "under more load than the submission"
        )
    result.note(message, check, Kind.TARGET_QPS)
    return True
