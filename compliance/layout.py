"""Every path the tool reads or writes: LoadGen's file names, the build folder, and the submission tree.

Layer: above :mod:`compliance.specs` (it formats a round's layout templates); below everything that touches files.
No other module builds a path by joining strings: they ask this one. Every path is a normalised string relative to
the folder doit runs in (doit links a ``file_dep`` to a target on an exact string match).

Build folder::

    build/.doit.db, build/.doit.lock                        doit's database, and the lock of a doit executing tasks
    build/.staged/                                          records of the audit.config files we placed
    build/withdrawn/<system>/<benchmark>/<scenario>/<test>/<time>/   TEST folders withdrawn from the tree
    build/<system>/<benchmark>/<scenario>/<test>/           a cell
        run.log, run.json                                   the command's output, how the run ended
        run.rerun                                           a rerun asked for (mlperf-compliance rerun)
        run.log.1 ... run.log.5                             the outputs of the 5 runs before (newest first)
        run.job/                                            a batch job's script, record and status (Slurm)
        logs/                                               LoadGen logs of the compliance run
        logs/.run.signature                                 written when the run completed and was checked
        work/                                               the run's own working directory (isolated runs)
        verify/<test>/                                      the verified TEST folder (verify -o)
        verify.meta.json                                    the last verification's outcome and what it read
        publish.json                                        whether the TEST folder is in the tree
        attempts/<n>/                                       every attempt, numbered in order: its LoadGen logs,
            attempt.json, verify.json, run.log              its ledger entry, its verdict, the command's output
    build/<system>/review.json                              the review of the system's part of the tree (review:)
    build/upload/<tree>/                                    the checks of a submission tree before upload
        preflight.json                                      its pre-flight (the report, and the tree it saw)
        official-<checkout>/                                the official chain's run on a copy (a checkout named):
            checker.json, tree/, backup/, <step>.log        its verdicts, the copy, the truncation's backup, logs
    build/<system>/<benchmark>/<scenario>/reference/        the submission runs the system produces: a RESULTS_DIR
        accuracy/, performance/run_1/                       their LoadGen logs
        ../reference-<mode>.log, reference-<mode>.json      each run's output and how it ended (.log.1 ...: before)
        ../reference-<mode>.rerun                           a rerun asked for
        ../reference-<mode>.publish.json                    its copy in the tree's results layout (reference: publish)

Submission tree (per round, from the round spec): ``<submission_dir>/<test_dir>`` holds a cell's TEST folder,
``<submission_dir>/<results_dir>`` a scenario's results (``accuracy/``, ``performance/run_1/``), which the tool
writes only for runs it produced with ``reference: {publish: true}``, and only into folders it wrote itself.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from compliance.specs.types import Round, System, loadgen_scenario

# -- LoadGen's files (docs/rules.md §4) -----------------------------------------------------------------------------
DETAIL = "mlperf_log_detail.txt"
SUMMARY = "mlperf_log_summary.txt"
ACCURACY = "mlperf_log_accuracy.json"
LOG_FILES = (DETAIL, SUMMARY, ACCURACY)

# -- a scenario's results folder (RESULTS_DIR of the official scripts) -------------------------------------------
#: submission run -> its folder in RESULTS_DIR
RESULT_RUNS = {"accuracy": "accuracy", "performance": "performance/run_1"}
#: submission run -> the log a verifier cannot do without (the accuracy run's detail log is optional)
REFERENCE_LOG_NAMES = {"accuracy": ACCURACY, "performance": DETAIL}

# -- a TEST folder ------------------------------------------------------------------------------------------------
VERIFY_ACCURACY = "verify_accuracy.txt"
VERIFY_PERFORMANCE = "verify_performance.txt"
VERIFY_OUTPUT_LEN = "verify_output_len.txt"  # TEST09's
VERIFY_JSON = "verify.json"  # ours; in TESTxx/ itself: the checker tolerates no extra file in performance/run_1/
ATTEMPT_JSON = "attempt.json"  # an attempt's ledger entry, in its folder
TEST_ACCURACY_LOG = f"accuracy/{ACCURACY}"
TEST_PERFORMANCE_LOGS = (f"performance/run_1/{SUMMARY}", f"performance/run_1/{DETAIL}")

# -- the build folder ------------------------------------------------------------------------------------------------
BUILD = "build"
DOIT_DB = os.path.join(BUILD, ".doit.db")
DOIT_LOCK = os.path.join(BUILD, ".doit.lock")
WITHDRAWN = os.path.join(BUILD, "withdrawn")  # TEST folders taken out of the submission tree, by cell and time
ISOLATED_MARKER = ".mlperf-compliance-workdir"  # in a working directory made by us
STAGED = os.path.join(BUILD, ".staged")  # records of the audit.config files we placed, one per working directory


def workdir_key(real_workdir: str) -> str:
    """A short name for a working directory, from its real path (its staging record, its run lock)."""
    return hashlib.sha256(real_workdir.encode()).hexdigest()[:16]


def staged_record(real_workdir: str) -> str:
    """The record of the audit.config files we placed in a working directory (by its real path)."""
    return os.path.join(STAGED, workdir_key(real_workdir) + ".json")


def norm(*parts: str) -> str:
    """A normalised path string (the one form every task uses)."""
    return os.path.normpath(os.path.join(*parts))


def reference_log(results_dir: str, run: str) -> str:
    """The log of submission ``run`` (accuracy, performance) that a verifier needs, in ``results_dir``."""
    return norm(results_dir, RESULT_RUNS[run], REFERENCE_LOG_NAMES[run])


@dataclass(frozen=True)
class RunFiles:
    """Where one LoadGen run's files go in the build folder."""

    logs: str  # the LoadGen output folder
    output: str  # the command's stdout and stderr, of the newest run (earlier runs: previous_outputs)
    record: str  # how the run ended (JSON)

    #: how many earlier runs' outputs are kept beside the newest (``run.log.1`` the one before it, ...)
    KEPT_OUTPUTS = 5

    @property
    def previous_outputs(self) -> list[str]:
        """The outputs of earlier runs, newest first (those that exist or not): ``run.log.1`` ... ``run.log.5``."""
        return [f"{self.output}.{n}" for n in range(1, self.KEPT_OUTPUTS + 1)]

    @property
    def log_files(self) -> list[str]:
        return [norm(self.logs, name) for name in LOG_FILES]

    @property
    def job(self) -> str:
        """The folder of the run's batch job, beside its record (``run.json`` -> ``run.job/``): the job script, the
        job record (its id, for re-attaching) and what the job reports (docs/slurm.md)."""
        return norm(os.path.splitext(self.record)[0] + ".job")

    @property
    def job_files(self) -> JobFiles:
        return JobFiles(self.job)

    @property
    def rerun_request(self) -> str:
        """Where a rerun asked for on purpose is recorded, beside the run's record (``run.json`` -> ``run.rerun``)."""
        return norm(os.path.splitext(self.record)[0] + ".rerun")

    def signature(self, step: str = "run") -> str:
        """The file where ``step`` records the signature of the run it last completed."""
        return norm(self.logs, f".{step}.signature")


@dataclass(frozen=True)
class JobFiles:
    """The files of a run's batch job, in its job folder (``RunFiles.job``; docs/slurm.md)."""

    folder: str

    @property
    def script(self) -> str:
        return norm(self.folder, "job.sh")  # the job script, kept for reading

    @property
    def record(self) -> str:
        return norm(self.folder, "job.json")  # the job's id and token, for a later doit to re-attach

    @property
    def status(self) -> str:
        return norm(self.folder, "status")  # what the job reports when it ends

    @property
    def started(self) -> str:
        return norm(self.folder, "started")  # when the command started (epoch seconds)


@dataclass(frozen=True)
class CellFiles:
    """The build folder of one cell (system, benchmark, scenario, test)."""

    root: str
    test: str

    @property
    def run(self) -> RunFiles:
        return RunFiles(norm(self.root, "logs"), norm(self.root, "run.log"), norm(self.root, "run.json"))

    @property
    def isolated_workdir(self) -> str:
        return norm(self.root, "work")

    @property
    def verify_dir(self) -> str:
        """The folder that receives ``<test>/`` (verify -o)."""
        return norm(self.root, "verify")

    @property
    def verified_dir(self) -> str:
        return norm(self.verify_dir, self.test)

    @property
    def verify_json(self) -> str:
        return norm(self.verified_dir, VERIFY_JSON)

    @property
    def verify_meta(self) -> str:
        """The last verification's outcome, what it depended on and its inputs' stamps (for STALE)."""
        return norm(self.root, "verify.meta.json")

    @property
    def publish_record(self) -> str:
        """Whether the TEST folder was copied into the submission tree or withdrawn from it."""
        return norm(self.root, "publish.json")

    @property
    def attempts_dir(self) -> str:
        """The cell's attempts, one folder each, numbered in order (``attempts/1``, ``attempts/2``, ...)."""
        return norm(self.root, "attempts")

    def attempt_dir(self, number: int) -> str:
        return norm(self.attempts_dir, str(number))

    def withdrawn_dir(self, when: str) -> str:
        """Where a TEST folder withdrawn from the submission tree at time ``when`` is kept."""
        return norm(WITHDRAWN, os.path.relpath(self.root, BUILD), when)


@dataclass(frozen=True)
class TreeFiles:
    """Where the checks of one submission tree before upload keep their records (build/upload/<tree>/)."""

    root: str

    @property
    def preflight(self) -> str:
        return norm(self.root, "preflight.json")

    def official(self, checkout: str) -> str:
        """The official chain's folder for a checkout: its copy of the tree, the truncation's backup, its logs,
        the checker's verdicts (``checker.json``)."""
        return norm(self.root, "official-" + hashlib.sha256(checkout.encode()).hexdigest()[:8])

    def official_record(self, checkout: str) -> str:
        return norm(self.official(checkout), "checker.json")


def tree_files(submission_dir: str) -> TreeFiles:
    """The records of a submission tree's checks before upload: one folder per tree, named after its path."""
    name = norm(submission_dir).strip(os.sep).replace(os.sep, "+") or "root"
    return TreeFiles(norm(BUILD, "upload", name))


def scenario_dir(system: str, benchmark: str, scenario: str) -> str:
    return norm(BUILD, system, benchmark, scenario)


def cell_files(system: str, benchmark: str, scenario: str, test: str) -> CellFiles:
    return CellFiles(norm(scenario_dir(system, benchmark, scenario), test), test)


def produced_results_dir(system: str, benchmark: str, scenario: str) -> str:
    """The RESULTS_DIR of the submission runs the tool produces for a system."""
    return norm(scenario_dir(system, benchmark, scenario), "reference")


def reference_run_files(system: str, benchmark: str, scenario: str, run: str) -> RunFiles:
    """Where a produced submission run (accuracy or performance) goes."""
    base = scenario_dir(system, benchmark, scenario)
    return RunFiles(
        norm(produced_results_dir(system, benchmark, scenario), RESULT_RUNS[run]),
        norm(base, f"reference-{run}.log"),
        norm(base, f"reference-{run}.json"),
    )


def reference_isolated_workdir(system: str, benchmark: str, scenario: str, run: str) -> str:
    return norm(scenario_dir(system, benchmark, scenario), f"reference-{run}-work")


def reference_publish_record(system: str, benchmark: str, scenario: str, run: str) -> str:
    """The record of a produced submission run's copy in the submission tree: which folder of the tree the tool
    wrote (its ownership), with what, from which run."""
    return norm(scenario_dir(system, benchmark, scenario), f"reference-{run}.publish.json")


def withdrawn_reference_dir(system: str, benchmark: str, scenario: str, run: str, when: str) -> str:
    """Where a submission run's copy withdrawn from the tree at time ``when`` is kept."""
    return norm(WITHDRAWN, system, benchmark, scenario, f"reference-{run}", when)


# -- the submission tree ---------------------------------------------------------------------------------------------


def _fields(system: System, benchmark: str, scenario: str) -> dict[str, str]:
    return {
        "division": system.division,
        "submitter": system.submitter,
        "system": system.name,
        "benchmark": benchmark,
        "scenario": scenario,
    }


def round_test_path(
    rnd: Round, division: str, submitter: str, system: str, benchmark: str, scenario: str, test: str
) -> str:
    """A TEST folder's path in a submission tree of round ``rnd``, relative to the tree's root (the round's layout:
    under ``compliance/`` up to v5.1, beside the runs in ``results/`` from v6.0)."""
    fields = {"division": division, "submitter": submitter, "system": system, "benchmark": benchmark}
    return norm(rnd.test_dir.format(**fields, scenario=scenario, test=test))


def tree_test_dir(rnd: Round, system: System, benchmark: str, scenario: str, test: str) -> str:
    """A cell's TEST folder in the submission tree."""
    where = round_test_path(rnd, system.division, system.submitter, system.name, benchmark, scenario, test)
    return norm(system.submission_dir, where)


def tree_run_dir(rnd: Round, system: System, benchmark: str, scenario: str, run: str) -> str:
    """A submission run's folder (``accuracy``, ``performance/run_1``) in the tree's results layout."""
    results = rnd.results_dir.format(**_fields(system, benchmark, scenario))
    return norm(system.submission_dir, results, RESULT_RUNS[run])


def tree_system_dirs(rnd: Round, system: System) -> tuple[str, ...]:
    """The folders of the submission tree that hold a system's cells: each layout template of the round up to its
    ``{system}`` (``closed/Org/compliance/<system>``, ``closed/Org/results/<system>``), then its measurements."""
    fields = {"division": system.division, "submitter": system.submitter, "system": system.name}
    found = []
    for template in (rnd.test_dir, rnd.results_dir, "{division}/{submitter}/measurements/{system}"):
        head = template[: template.index("{system}") + len("{system}")] if "{system}" in template else template
        found.append(norm(system.submission_dir, head.format(**fields)))
    return tuple(sorted(set(found)))


def tree_system_files(system: System) -> tuple[str, ...]:
    """The files of the submission tree about a system that a review reads besides its folders: its
    ``systems/<system>.json`` and the model mappings (the organisation's, the tree's)."""
    org = norm(system.submission_dir, system.division, system.submitter)
    return (
        norm(org, "systems", f"{system.name}.json"),
        norm(org, "model_mapping.json"),
        norm(system.submission_dir, "model_mapping.json"),
    )


def tree_org_dir(system: System) -> str:
    """The system's organisation folder in the submission tree (``closed/Org``)."""
    return norm(system.submission_dir, system.division, system.submitter)


def review_record(system: str) -> str:
    """The record of the review of a system's part of the submission tree (its report inside)."""
    return norm(BUILD, system, "review.json")


def inside(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or lies under it, both resolved (symlinks followed)."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def check_tree_write(path: str, submission_dir: str, test: str) -> str | None:
    """Checked again before every write to the tree: the TEST folder lies strictly inside the submission folder and
    is named after its test; None, or why not."""
    if not inside(path, submission_dir) or os.path.realpath(path) == os.path.realpath(submission_dir):
        return f"{path} is not inside the submission folder {submission_dir}"
    if os.path.basename(os.path.normpath(path)) != test:
        return f"{path} is not a folder named {test}"
    return None


def system_folder(template: str, system: str, benchmark: str, scenario: str, **extra: str) -> str:
    """A folder template of a system spec (``workdir``, ``results``, ``log_dir``) for one scenario."""
    return template.format(
        system=system, benchmark=benchmark, scenario=scenario, loadgen_scenario=loadgen_scenario(scenario), **extra
    )
