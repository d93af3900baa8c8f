"""What each verifier reads and writes: the submission runs it compares with, and the files of its ``TESTxx/`` folder.

One source for the verifiers (:mod:`compliance.verify.output`, :mod:`compliance.verify.render`, the test modules)
and for the pipeline that produces their inputs, declares their files as targets and copies them into the
submission tree (:mod:`compliance.plan`, :mod:`compliance.actions`). Layouts: domain.md 2.1-2.3 and 5.3;
``verify.json`` is ours and sits in ``TESTxx/`` itself, since the checker tolerates no extra file in
``performance/run_1/``.
"""

from __future__ import annotations

from typing import NamedTuple

DETAIL = "mlperf_log_detail.txt"
SUMMARY = "mlperf_log_summary.txt"
ACCURACY = "mlperf_log_accuracy.json"

VERIFY_ACCURACY = "verify_accuracy.txt"
VERIFY_PERFORMANCE = "verify_performance.txt"
VERIFY_JSON = "verify.json"

# The official-format text files each verifier writes
TEXT_FILES: dict[str, tuple[str, ...]] = {
    "TEST01": (VERIFY_ACCURACY, VERIFY_PERFORMANCE),
    "TEST04": (VERIFY_PERFORMANCE,),
    "TEST06": (VERIFY_ACCURACY,),
}

# The compliance run's logs each verifier copies: file in the folder -> the input it copies
_ACCURACY_COPY = {f"accuracy/{ACCURACY}": "compliance_accuracy_log"}
_PERFORMANCE_COPIES = {f"performance/run_1/{SUMMARY}": "compliance_summary",
                       f"performance/run_1/{DETAIL}": "compliance_detail"}
COPIES: dict[str, dict[str, str]] = {
    "TEST01": {**_ACCURACY_COPY, **_PERFORMANCE_COPIES},
    "TEST04": dict(_PERFORMANCE_COPIES),
    "TEST06": dict(_ACCURACY_COPY),  # TEST06 copies no performance logs (domain.md 2.3)
}

VERIFIED_TESTS = tuple(TEXT_FILES)

# The submission's own runs each verifier compares with (domain.md 2.1-2.3), and the log of each it cannot do
# without, relative to RESULTS_DIR (optional ones, like the accuracy run's detail log, are read when present)
REFERENCE_RUNS: dict[str, tuple[str, ...]] = {
    "TEST01": ("accuracy", "performance"),
    "TEST04": ("performance",),
    "TEST06": (),
}
class ReferenceLog(NamedTuple):
    input: str  # its name among a result's inputs
    path: str  # relative to RESULTS_DIR


REFERENCE_LOGS = {"accuracy": ReferenceLog("reference_accuracy_log", f"accuracy/{ACCURACY}"),
                  "performance": ReferenceLog("reference_performance_detail", f"performance/run_1/{DETAIL}")}


def reference_runs(test: str) -> tuple[str, ...]:
    """The submission runs the verifier of ``test`` compares with (none for a test this tool does not verify)."""
    return REFERENCE_RUNS.get(test, ())


def files(test: str) -> tuple[str, ...]:
    """Every file of the verified folder of ``test``, relative to it."""
    return TEXT_FILES[test] + (VERIFY_JSON,) + tuple(COPIES[test])
