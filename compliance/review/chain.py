"""Facts of the official chain after the tool (docs/rules.md §8), as pre-flight checks a tree against them: which
files each checker requires in a TEST folder, what ``repository_checks.sh`` refuses, the user's files of a round's
layout, and the known defects of the official scripts with what to do about each.

Two checkers read a tree (docs/rules.md §8.4): the *modular* one (``submission_checker/`` from v6.0; the single
``submission_checker.py`` of the round's commit before), and the *old* one that ``preprocess_submission.py`` runs
(``submission_checker_old.py`` at b66003e and d7574244; ``submission_checker.py`` at c0b60cdb), which moves a
benchmark to open when a cell fails it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from compliance.layout import ACCURACY, DETAIL, SUMMARY, VERIFY_ACCURACY, VERIFY_OUTPUT_LEN, VERIFY_PERFORMANCE
from compliance.specs.types import Round

MODULAR, OLD = "modular", "old"
CHECKERS = (MODULAR, OLD)
#: what the checkers and repository_checks.sh refuse: a file over 50 MiB (FILE_SIZE_LIMIT_MB; find -size +50M)
SIZE_LIMIT = 50 * 1024 * 1024
RUN_1 = os.path.join("performance", "run_1")
ACC = "accuracy"
#: files the modular checker requires in a TEST folder (compliance_check.py dir_exists_check; docs/rules.md §5.3)
MODULAR_FILES = {
    "TEST01": (VERIFY_ACCURACY, VERIFY_PERFORMANCE, os.path.join(RUN_1, DETAIL)),
    "TEST04": (VERIFY_PERFORMANCE, os.path.join(RUN_1, DETAIL)),
    "TEST06": (VERIFY_ACCURACY,),
    "TEST07": (VERIFY_ACCURACY,),
    "TEST08": (VERIFY_ACCURACY,),
    "TEST09": (VERIFY_OUTPUT_LEN,),
}
#: files the old checker requires (check_compliance_perf_dir, check_compliance_acc_dir)
OLD_FILES = {
    "TEST01": (VERIFY_ACCURACY, VERIFY_PERFORMANCE),
    "TEST04": (VERIFY_PERFORMANCE,),
    "TEST06": (VERIFY_ACCURACY,),
}
#: the old checker's performance/run_1/ of TEST01 and TEST04: exactly these (files_diff, REQUIRED_COMP_PER_FILES)
OLD_RUN_1 = frozenset({DETAIL, SUMMARY})
#: ... and what it tolerates besides (files_diff's optional files)
OLD_RUN_1_TOLERATED = frozenset({ACCURACY, "mlperf_log_trace.json", "results.json", ".gitkeep"})
#: the old checker's TEST01/accuracy/: exactly these when verify_accuracy.txt passes (REQUIRED_TEST01_ACC_FILES_1),
#: else these and the fallback's two texts (REQUIRED_TEST01_ACC_FILES)
OLD_TEST01_ACCURACY = frozenset({ACCURACY, "accuracy.txt"})
OLD_TEST01_FALLBACK = OLD_TEST01_ACCURACY | {"baseline_accuracy.txt", "compliance_accuracy.txt"}
#: the models whose performance runs (compliance runs included) the old checker requires in equal-issue mode
#: (effective_sample_concatenate_permutation true; requires_equal_issue): at the v5.0 round's commit c0b60cdb
#: (closed and network), and at d7574244 and b66003e (submission_checker_old.py, any division)
EQUAL_ISSUE = {
    "v5": frozenset(
        "3d-unet-99 3d-unet-99.9 gptj-99 gptj-99.9 llama2-70b-99 llama2-70b-99.9 llama2-70b-interactive-99 "
        "llama2-70b-interactive-99.9 mixtral-8x7b llama3.1-405b rgat".split()
    ),
    "v6": frozenset(
        "3d-unet-99 3d-unet-99.9 gptj-99 gptj-99.9 llama2-70b-99 llama2-70b-99.9 mixtral-8x7b llama3.1-405b "
        "llama3.1-8b llama3.1-8b-edge deepseek-r1 rgat whisper".split()
    ),
}


def equal_issue(rnd: Round, benchmark: str, division: str) -> bool:
    """Whether the old checker requires equal-issue mode of the benchmark's runs in the round."""
    if v6_layout(rnd):
        return benchmark in EQUAL_ISSUE["v6"]
    return division in ("closed", "network") and benchmark in EQUAL_ISSUE["v5"]


#: the tests whose compliance runs each checker holds to the performance rules (docs/rules.md §8.4)
PERFORMANCE_CHECKED = {MODULAR: ("TEST01", "TEST04"), OLD: ("TEST01", "TEST04", "TEST07", "TEST08", "TEST09")}


@dataclass(frozen=True)
class Defect:
    """A known defect of the official chain (C1-C8 of docs/rules.md §8.5): what happens, and what to do."""

    id: str
    what: str
    remedy: str


DEFECTS = {
    "C1": Defect(
        "C1",
        "preprocess_submission.py crashes on this {test} folder (the old checker raises NotImplemented in "
        "check_compliance_acc_dir for TEST07 and TEST08; TypeError: 'NotImplementedType' object is not callable), "
        "leaving its output half processed",
        "do not preprocess the tree with this benchmark: run the modular checker (which accepts the folder), or "
        "preprocess a copy without it and put the benchmark back",
    ),
    "C2": Defect(
        "C2",
        "the old checker (preprocess) holds {test}'s compliance run to the submission's performance rules ({why}) and "
        "requires verify_performance.txt, which the official {test} script never writes: it rejects the cell "
        "whatever the run",
        "judge the cell by the modular checker; do not let preprocess move the benchmark to open for it",
    ),
    "C4": Defect(
        "C4",
        "preprocess_submission.py at b66003e cannot preprocess a {round} tree (v5.x layout): it refuses --version "
        "v5.0 (choices v6.1, v6.0, v5.1) and crashes without it, and its merge of compliance/ into results/ breaks "
        "the checker run after it",
        "preprocess with the round's own commit ({commit})",
    ),
    "C7": Defect(
        "C7",
        "without {file} the modular checker stops with a traceback (AttributeError in loader.py) and preprocess "
        "skips the system ('no system_desc')",
        "add the system description the round asks for",
    ),
}


def required_files(test: str, checker: str) -> tuple[str, ...]:
    """The files ``checker`` requires in a folder of ``test`` (relative to it)."""
    return (MODULAR_FILES if checker == MODULAR else OLD_FILES).get(test, ())


def v6_layout(rnd: Round) -> bool:
    """Whether the round puts TEST folders beside the runs in results/ (v6.x), with the measurements there and the
    code in src/ (the checker's MEASUREMENTS_PATH, SRC_PATH); else compliance/, measurements/ and code/ (v5.x)."""
    return "compliance" not in rnd.test_dir.split("/")


@dataclass(frozen=True)
class UserFile:
    """A file (or folder) a round's tree expects from the submitter: its path in the tree, what it is, and a
    pattern when its name is the submitter's choice (``*``)."""

    path: str
    what: str
    folder: bool = False


def user_files(rnd: Round, division: str, org: str, system: str, benchmark: str, scenario: str) -> list[UserFile]:
    """The submitter's files of a scenario's results (docs/rules.md §8.3): accuracy.txt, the measurements
    description with user.conf and README.md, and the system's description."""
    results = os.path.join(division, org, "results", system, benchmark, scenario)
    files = [UserFile(os.path.join(results, ACC, "accuracy.txt"), "the accuracy script's output")]
    if v6_layout(rnd):
        measured = results
        files.append(UserFile(os.path.join(measured, "measurements.json"), "the measurements description"))
    else:
        measured = os.path.join(division, org, "measurements", system, benchmark, scenario)
        files.append(UserFile(os.path.join(measured, f"{system}*.json"), "the measurements description"))
    files += [
        UserFile(os.path.join(measured, "user.conf"), "the LoadGen settings of the runs"),
        UserFile(os.path.join(measured, "README.md"), "how to run the benchmark"),
        # the old checker's code_dir: src/<benchmark> (v6.x), code/<benchmark>[/<implementation>] (v5.x)
        UserFile(os.path.join(code_folder(rnd, division, org), benchmark), "the benchmark's code", folder=True),
    ]
    return files


def system_file(division: str, org: str, system: str) -> str:
    return os.path.join(division, org, "systems", f"{system}.json")


def code_folder(rnd: Round, division: str, org: str) -> str:
    return os.path.join(division, org, "src" if v6_layout(rnd) else "code")


def refused_name(name: str, is_dir: bool, is_link: bool) -> str | None:
    """Why repository_checks.sh refuses a name (a symbolic link, a hidden file or folder, a space), or None."""
    if is_link:
        return "a symbolic link"
    if name.startswith("."):
        return f"a hidden {'folder' if is_dir else 'file'} (its name starts with '.')"
    if " " in name:
        return f"a {'folder' if is_dir else 'file'} name with a space"
    return None
