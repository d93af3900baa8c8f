"""Input files of a verification: missing or unreadable ones are bad input, malformed ones a failed check."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from compliance import layout
from compliance.errors import InputError
from compliance.logs import LogError
from compliance.logs.detail import DetailLog, read_detail
from compliance.logs.summary import SummaryLog, read_summary
from compliance.verify.checks import evidence
from compliance.verify.result import Check, Kind, Outcome, Result

if TYPE_CHECKING:
    from compliance.verify.base import Request

CHECK_LOGS = "logs readable"


#: what a path is when it is not a regular file (a FIFO or a device would hang or flood a reader: never opened)
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def required(path: str | Path) -> str:
    """``path`` as a string, or InputError when it is not a readable regular file (it is never opened here)."""
    path = str(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is None or not stat.S_ISREG(mode):
        if mode is not None:
            raise InputError(f"{path}: is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a file")
        if os.path.islink(path):
            raise InputError(f"{path}: a symbolic link to nothing (or a loop of links)")
        parent = os.path.dirname(path) or "."
        if os.path.isdir(parent) and not os.access(parent, os.X_OK):
            raise InputError(f"{path}: its folder {parent} cannot be searched (permission denied)")
        raise InputError(f"{path}: no such file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: cannot be read (permission denied)")
    return path


def present(path: str | Path) -> bool:
    """Whether anything is at ``path`` (a file, a folder, a broken link...): an optional input that is present
    must then be a readable file (:func:`required`), never taken for absent."""
    return os.path.lexists(path)


#: where a published TEST folder keeps each log of the compliance run (the official scripts copy them there)
PUBLISHED_PLACES = {
    layout.DETAIL: layout.TEST_PERFORMANCE_LOGS[1],
    layout.SUMMARY: layout.TEST_PERFORMANCE_LOGS[0],
    layout.ACCURACY: layout.TEST_ACCURACY_LOG,
}


def compliance_log(comp_dir: Path, name: str) -> Path:
    """Where the compliance run's log ``name`` is: directly in ``comp_dir`` (LoadGen's output folder), else where
    a published TEST folder keeps it (``performance/run_1/``, ``accuracy/``), so that ``-c`` takes either."""
    direct = comp_dir / name
    published = comp_dir / PUBLISHED_PLACES[name]
    return published if not present(direct) and present(published) else direct


def compliance_file(comp_dir: Path, name: str) -> str:
    """:func:`compliance_log`, required (InputError naming both places when it is in neither)."""
    path = compliance_log(comp_dir, name)
    if not present(path):
        raise InputError(
            f"{path}: no such file (nor {comp_dir / PUBLISHED_PLACES[name]}, where a published TEST folder keeps it)"
        )
    return required(path)


def submission_folder(path: str | Path) -> Path:
    """RESULTS_DIR: the submission's scenario folder, holding ``accuracy/`` and ``performance/run_1/``."""
    return required_dir(path, "the submission's results of the scenario")


def compliance_folder(path: str | Path) -> Path:
    return required_dir(path, "the compliance run's logs")


#: TESTxx/ path -> the compliance run's performance log copied there (Verifier.copies of TEST04, TEST05)
PERFORMANCE_COPIES = {
    layout.TEST_PERFORMANCE_LOGS[0]: "compliance_summary",
    layout.TEST_PERFORMANCE_LOGS[1]: "compliance_detail",
}
#: the same with the accuracy log (the tests whose folder keeps all three)
RUN_COPIES = {layout.TEST_ACCURACY_LOG: "compliance_accuracy_log", **PERFORMANCE_COPIES}

#: submission run -> its log's name among a result's inputs
REFERENCE_INPUTS = {"accuracy": "reference_accuracy_log", "performance": "reference_performance_detail"}


def reference_logs(results: Path, runs: tuple[str, ...]) -> dict[str, str]:
    """The logs of the submission ``runs`` a verifier cannot do without (the ones the pipeline waits for)."""
    return {REFERENCE_INPUTS[run]: required(layout.reference_log(str(results), run)) for run in runs}


def compared_logs(request: Request, runs: tuple[str, ...], accuracy: bool = True) -> tuple[Path, dict[str, str]]:
    """A verification that compares with submission ``runs``: the submission's scenario folder, and the logs it
    cannot do without (those runs', then the compliance run's: :func:`compliance_logs`)."""
    assert request.results_dir is not None
    results = submission_folder(request.results_dir)
    paths = {**reference_logs(results, runs), **compliance_logs(compliance_folder(request.compliance_dir), accuracy)}
    return results, paths


def performance_runs(request: Request) -> tuple[Result, dict[str, str], DetailLog | None, DetailLog | None]:
    """The opening of a test that compares performance runs only (TEST04, TEST05): the result with the test's
    tolerances, the logs it reads, and the compliance and submission detail logs (None when malformed)."""
    _, paths = compared_logs(request, ("performance",), accuracy=False)
    model, thresholds = request.model, request.test.thresholds
    result = Result(request.test.name, model=model.name if model else None, inputs=dict(paths))
    result.settings = {"tolerance": thresholds.tolerance, "relaxed_tolerance": thresholds.relaxed_tolerance}
    comp = detail(paths["compliance_detail"], result)
    ref = detail(paths["reference_performance_detail"], result)
    result.scenario = comp.scenario if comp else None
    return result, paths, comp, ref


def compliance_logs(comp_dir: Path, accuracy: bool = True) -> dict[str, str]:
    """The compliance run's logs a verifier cannot do without: detail, summary and (unless not) the accuracy log."""
    paths = {
        "compliance_detail": compliance_file(comp_dir, layout.DETAIL),
        "compliance_summary": compliance_file(comp_dir, layout.SUMMARY),
    }
    if accuracy:
        paths["compliance_accuracy_log"] = compliance_file(comp_dir, layout.ACCURACY)
    return paths


def accuracy_run_detail(results: Path, result: Result) -> DetailLog | None:
    """The submission accuracy run's detail log when it is there (it is optional: a note says when it is not; a
    folder or anything else in its place is bad input, never taken for absent)."""
    path = results / layout.RESULT_RUNS["accuracy"] / layout.DETAIL
    if not present(path):
        result.note("the accuracy run's detail log is missing: its freedom from audit.config was not checked")
        return None
    return detail(required(path), result)


def required_dir(path: str | Path, what: str) -> Path:
    if not os.path.isdir(path):
        raise InputError(f"{path}: no such folder ({what})")
    return Path(path)


def detail(path: str, result: Result) -> DetailLog | None:
    """Read a detail log; a malformed one becomes a failed 'logs readable' check (and None)."""
    try:
        return read_detail(path)
    except LogError as exc:
        _unreadable(result, str(exc))
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    return None


def summary(path: str, result: Result | None) -> SummaryLog | None:
    """Read a summary log; a malformed one becomes a failed check when ``result`` is given (and None)."""
    try:
        return read_summary(path)
    except LogError as exc:
        if result is not None:
            _unreadable(result, str(exc))
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    return None


CHECK_AGREE = "logs agree"


def summary_complete(path: str, result: Result, detail_log: DetailLog | None = None) -> SummaryLog | None:
    """Read the compliance run's summary, which goes into the submission: it must show LoadGen's result line, and
    say what the run's detail log says (validity, scenario, mode): a summary of another run fails the test."""
    log = summary(path, result)
    if log is not None and log.get("Result is") is None:
        _unreadable(result, f"{path}: no 'Result is' line (LoadGen did not finish writing it)")
    if log is None or detail_log is None:
        return log
    pairs = (
        ("Result is", "result_validity", "validity"),
        ("Scenario", "effective_scenario", "scenario"),
        ("Mode", "effective_test_mode", "mode"),
    )
    differ = [
        f"{what}: the summary says {log.get(key)!r}, the detail log {detail_log.get(record)!r}"
        for key, record, what in pairs
        if log.get(key) is not None
        and detail_log.get(record) is not None
        and str(log.get(key)).strip() != str(detail_log.get(record))
    ]
    if differ:
        result.add(
            Check(
                CHECK_AGREE,
                Outcome.FAIL,
                f"{path} belongs to another run than {detail_log.path} (" + "; ".join(differ) + ")",
            )
        )
    return log


def summaries(paths: dict[str, str], result: Result, comp: DetailLog | None) -> tuple[SummaryLog | None, ...]:
    """The summary logs the official performance scripts of TEST04 and TEST05 read: the submission run's (beside
    its detail log, when there) and the compliance run's (:func:`summary_complete`)."""
    ref_path = Path(paths["reference_performance_detail"]).with_name(layout.SUMMARY)
    reference = summary(str(ref_path), None) if ref_path.is_file() else None
    return reference, summary_complete(paths["compliance_summary"], result, comp)


def _unreadable(result: Result, reason: str) -> None:
    existing = result.check(CHECK_LOGS)
    if existing is None:
        result.add(Check(CHECK_LOGS, Outcome.FAIL, reason))
    else:
        existing.reason += "; " + reason


def log_errors(result: Result, logs: dict[str, DetailLog | None]) -> None:
    """Report LoadGen errors logged in any run as findings (an audit.config LoadGen rejected also fails the audit
    evidence check; one that was applied despite an error_invalid_config, e.g. from a second FromConfig call, is
    this finding and one that says so, wherever in the log the error stands)."""
    for label, log in logs.items():
        if log is None:
            continue
        messages = [f"{k}: {v}" for k, v in log.errors]
        if messages:
            result.note(
                f"the {label} run logged {len(messages)} LoadGen error(s), e.g. {messages[0]}", kind=Kind.LOG_ERRORS
            )
        rejected = log.error_messages("error_invalid_config")
        applied = result.check(evidence.CHECK_APPLIED)
        if label == "compliance" and rejected and applied is not None and applied.outcome is Outcome.PASS:
            result.note(
                f"LoadGen logged error_invalid_config ({rejected[0]}) in the compliance run, yet its effective "
                "settings are the audit.config's: another config file (a user.conf, or a second FromConfig call) "
                "was rejected or loaded twice; check that the run used the submission's settings",
                evidence.CHECK_APPLIED,
                Kind.CONFIG_ERROR_APPLIED,
            )
