"""The catalogue of the rules of review and pre-flight: each finding's stable id, severity, title, the rule it rests
on, its remedy, and the commands that report it.

``docs/review-rules.md`` is generated from this table (:func:`catalogue_markdown`; a test keeps the two equal), so
the documentation and the code cannot drift. Severities: an *error* is a compliance defect (the tree should not be
accepted so), a *warning* asks a reviewer to look (the rules may allow it, or it weakens what a test shows), an
*info* says what the rules allow but a reviewer may want to know.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from compliance.report.model import Evidence, Finding, Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: a note


REVIEW, PREFLIGHT = "review", "preflight"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    rests_on: str
    remedy: str
    used_by: tuple[str, ...] = (REVIEW,)


_RULES = (
    # -- what the tree holds ------------------------------------------------------------------------------------
    Rule(
        "test-missing",
        E,
        "a test the round requires is missing",
        "docs/rules.md §6 (required tests per round and model); the checker's dir_exists_check (domain.md §5.3)",
        "run the test for this cell and put its TEST folder in the tree",
        (REVIEW, PREFLIGHT),
    ),
    Rule(
        "test-files-missing",
        E,
        "the TEST folder lacks a file the checker expects",
        "docs/rules.md §5.3 (the files of each TEST folder)",
        "copy the file the test's verification writes (verify_*.txt) or the compliance run's log into the folder",
        (REVIEW, PREFLIGHT),
    ),
    Rule(
        "test-files-unexpected",
        E,
        "performance/run_1/ holds a file the checker refuses",
        "domain.md §5.3 item 4 (run_1 holds exactly the detail and summary logs; accuracy log, trace, results.json "
        "and .gitkeep tolerated)",
        "remove the extra file from performance/run_1/",
    ),
    Rule(
        "logs-misfiled",
        W,
        "LoadGen logs lie outside the place the checker reads them from",
        "docs/rules.md §5.3 (TESTxx/performance/run_1/, TESTxx/accuracy/)",
        "move the logs into their TEST folder's performance/run_1/ or accuracy/",
    ),
    Rule(
        "test-folder-twice",
        W,
        "the cell holds a test in both layouts",
        "domain.md §5.1 (compliance/ up to v5.1, results/ from v6.0: the round's checker reads one of them)",
        "keep the folder of the round's layout",
    ),
    Rule(
        "orphan-test-folder",
        W,
        "a TEST folder has no submission results",
        "domain.md §5.1 (a TEST folder belongs to a cell with results)",
        "remove the TEST folder of a withdrawn cell, or add the cell's results",
    ),
    Rule(
        "results-in-other-division",
        N,
        "the TEST folder's results are in the other division",
        "the submission tools move failing closed results to open (domain.md §5, review.md §1)",
        "move the TEST folder with its results",
    ),
    Rule(
        "test-not-required",
        N,
        "the round requires no such test for this benchmark",
        "docs/rules.md §6",
        "nothing, or remove the folder",
    ),
    Rule(
        "benchmark-resolved",
        N,
        "an open-division benchmark name was taken as a round's model",
        "the checker's model_mapping (domain.md §5.2); review.md §1 (open-division names)",
        "add model_mapping.json to the tree if the base model is another",
    ),
    Rule(
        "benchmark-unresolved",
        N,
        "the benchmark names no model of the round: model facts are unknown",
        "review.md §1 (open-division names)",
        'add model_mapping.json ({"folder": "model"}) to the tree\'s root or the organisation\'s folder',
    ),
    # -- re-verification from the logs ------------------------------------------------------------------------------
    Rule(
        "audit-not-in-effect",
        E,
        "the compliance run did not run with the test's audit.config",
        "docs/rules.md §1.3 (the audit warning and the effective_* settings)",
        "run the test again with the test's audit.config in the benchmark's working directory",
    ),
    Rule(
        "performance-out-of-bounds",
        E,
        "the compliance run's performance is outside the test's bounds",
        "docs/rules.md §2.1 (TEST01 ±10%), §2.2 (TEST04 at most 10% faster); TEST05 within 5% (review.md §1)",
        "find what changed between the runs; rerun the submission and the compliance run on a quiet system",
    ),
    Rule(
        "test-fails",
        E,
        "re-verified from the logs in the tree, the test fails",
        "docs/rules.md §2 (each test's criteria)",
        "fix the cause the check names and run the test again",
    ),
    Rule(
        "submission-run-audited",
        E,
        "a submission run was made with an audit.config in place",
        "docs/rules.md §1.3; a submission run is made without audit.config (§0)",
        "rerun the submission run with no audit.config in its working directory",
    ),
    Rule(
        "submission-run-wrong-mode",
        E,
        "a submission run was made in the wrong LoadGen mode",
        "docs/rules.md §0 (accuracy/ holds an AccuracyOnly run, performance/run_1/ a PerformanceOnly run)",
        "rerun it in the mode its folder stands for",
    ),
    Rule(
        "verify-note",
        N,
        "the verification noted something worth knowing",
        "the test's verifier (docs/rules.md §2)",
        "read the note",
    ),
    # -- the verify texts against the logs ----------------------------------------------------------------------------
    Rule(
        "verify-text-pass-over-fail",
        E,
        "the verify text says PASS, the logs beside it fail",
        "docs/rules.md §5.3 (the checker trusts the text); §2 (the criteria the text claims)",
        "verify the logs in the tree again and publish the true verdict; a failing test must be fixed or declared",
    ),
    Rule(
        "verify-text-figures-differ",
        E,
        "the verify text's figures are not those of the logs beside it",
        "docs/rules.md §2.1 (verify_performance.txt prints both runs' scores; verify_accuracy.txt the counts)",
        "verify against the published runs and publish that verification",
    ),
    Rule(
        "verify-text-no-pass",
        E,
        "the verify text does not pass by the checker's rule",
        "docs/rules.md §5.3 (TEST PASS line, TEST06's three lines)",
        "fix the failing test, or move the cell to the open division",
        (REVIEW, PREFLIGHT),
    ),
    Rule(
        "verify-text-fail-over-pass",
        W,
        "the verify text fails, the logs beside it pass",
        "docs/rules.md §5.3",
        "verify the published logs again and publish that verification",
    ),
    Rule(
        "fallback-out-of-delta",
        E,
        "TEST01's fallback accuracies differ by more than the model's delta",
        "docs/rules.md §2.1 Part III (|1 - baseline/compliance| * 100 within the delta)",
        "find why performance mode changes the outputs; the fallback does not pass this cell",
        (REVIEW, PREFLIGHT),
    ),
    # -- across folders ---------------------------------------------------------------------------------------------
    Rule(
        "compliance-run-is-submission-run",
        E,
        "the compliance run is the submission's own run",
        "a compliance run is a separate run with the audit.config in place (docs/rules.md §0, §1.3)",
        "run the test: a copy of the submission run proves nothing",
    ),
    Rule(
        "compliance-run-reused",
        E,
        "one run is filed for two tests of the cell",
        "each test has its own audit.config, so its own run (docs/rules.md §2)",
        "run each test",
    ),
    Rule(
        "log-copied",
        E,
        "a log is a byte copy of another cell's",
        "each cell's runs are its own (docs/rules.md §0); review.md §3 (a copy standing in for a run)",
        "make the run on this system, benchmark and scenario",
    ),
    Rule(
        "log-shared-allowed",
        N,
        "a log is shared with a cell the rules allow it to be",
        "review.md §3 (the same run filed for a -99 and a -99.9 model, or in both divisions, is allowed)",
        "nothing",
    ),
    Rule(
        "scenario-mismatch",
        E,
        "a run was made in another scenario than its folder's",
        "docs/rules.md §2.1 (the scenarios of the compared runs); the checker's scenario rules (domain.md §5.3)",
        "file the run under its own scenario, or make the run in the folder's scenario",
    ),
    Rule(
        "scenario-inferred",
        N,
        "a SingleStream or MultiStream run filed for a scenario inferred from it",
        "the checker's inferred_check: edge systems may infer MultiStream and Offline (domain.md §5.3)",
        "nothing",
    ),
    Rule(
        "seeds-other-round",
        E,
        "a run carries the LoadGen seeds of another round",
        "the round's mlperf.conf seeds (docs/rules.md §1.2; the checker's seed check, domain.md §5.3)",
        "rerun with the round's LoadGen (its mlperf.conf)",
    ),
    Rule(
        "seeds-differ",
        E,
        "the compliance run's seeds are not the submission run's",
        "a compliance run repeats the submission's run under the audit settings (docs/rules.md §1.2: seeds come "
        "from mlperf.conf only; 'Multiple conf files are used' leaves them 0)",
        "rerun the test with the harness loading mlperf.conf and user.conf once",
    ),
    Rule(
        "seeds-unknown",
        N,
        "the seeds are no known round's",
        "the checker requires the round's seeds (domain.md §5.3)",
        "use the round's LoadGen and mlperf.conf for a submission",
    ),
    Rule(
        "server-target-qps-differs",
        W,
        "the Server compliance run ran at another target QPS than the submission",
        "review.md §2 (in Server the completed rate follows the target)",
        "run the compliance test at the submission's target QPS: at a lower one TEST01's ±10% holds by "
        "construction and TEST04's latencies are lowered by the lighter load, not by a cache",
    ),
    Rule(
        "review-crashed",
        E,
        "review could not review this folder (a bug of the tool)",
        "the tool's promise: every real LoadGen folder is reviewed",
        "report it with the folder",
    ),
    Rule(
        "log-unreadable",
        E,
        "a log cannot be read or is not a LoadGen log",
        "docs/rules.md §4 (LoadGen's log formats)",
        "replace it with the run's own log",
    ),
    # -- pre-flight: the official chain after the tool (docs/rules.md §8) -------------------------------------------
    Rule(
        "old-checker-files",
        E,
        "the checker preprocess runs refuses the TEST folder's files",
        "docs/rules.md §8.4 (submission_checker_old.py: check_compliance_perf_dir, check_compliance_acc_dir; "
        "TEST01/accuracy/ holds exactly the log and accuracy.txt when the test passes)",
        "write the folder as the tool publishes it (TEST01: accuracy.txt with the log's hash line, docs/rules.md §8.2)",
        (PREFLIGHT,),
    ),
    Rule(
        "benchmark-to-open",
        E,
        "preprocess would move the whole benchmark to open",
        "docs/rules.md §8.4 (preprocess_submission.py clean_invalid_results: a closed cell that fails moves every "
        "scenario of its benchmark to open)",
        "make the failing cell pass (run its test again, fix its files), or move the benchmark to open yourself",
        (PREFLIGHT,),
    ),
    Rule(
        "performance-rule",
        E,
        "the compliance run breaks a performance rule of the round's checker",
        "docs/rules.md §8.4 (the checker's performance checks apply to TEST01 and TEST04 runs: seeds, minimum "
        "duration and queries, samples per query, performance sample count, early stopping, validity; the round "
        "spec's performance_rules)",
        "run the test again with the submission's LoadGen settings (mlperf.conf and user.conf of the round)",
        (PREFLIGHT,),
    ),
    Rule(
        "loadgen-errors",
        E,
        "the compliance run logged LoadGen errors",
        "docs/rules.md §8.5 C5 (the modular checker ignores them with its default flags; with "
        "--submission-exceptions, and the old checker, reject the run)",
        "find the cause the error names and run the test again",
        (PREFLIGHT,),
    ),
    Rule(
        "file-too-large",
        E,
        "a file is over 50 MiB",
        "docs/rules.md §8.4 (FILE_SIZE_LIMIT_MB; repository_checks.sh find -size +50M; GitHub refuses such files)",
        "cut it with truncate_accuracy_log.py if it is an accuracy log it cuts, else keep it out of the tree",
        (PREFLIGHT,),
    ),
    Rule(
        "name-refused",
        E,
        "a name repository_checks.sh refuses",
        "docs/rules.md §8.4 (repository_checks.sh: symbolic links, hidden files and folders, spaces)",
        "rename or remove it",
        (PREFLIGHT,),
    ),
    Rule(
        "accuracy-hash-mismatch",
        E,
        "accuracy.txt's hash is not the sha256 of the log beside it",
        "docs/rules.md §8.1 (the truncation records the hash of the log before it cuts it)",
        "run the accuracy script and the truncation again on this run's log",
        (PREFLIGHT,),
    ),
    Rule(
        "user-file-missing",
        W,
        "a file the round expects from the submitter is missing",
        "docs/rules.md §8.3 (systems/<system>.json, accuracy.txt, the measurements description, user.conf, "
        "README.md, the code)",
        "add it before running the official chain",
        (PREFLIGHT,),
    ),
    Rule(
        "truncation-pending",
        W,
        "an accuracy log the mandatory truncation has yet to cut",
        "docs/rules.md §8.1 (truncate_accuracy_log.py cuts every results and TEST01/TEST07/TEST09 accuracy log)",
        "run truncate_accuracy_log.py on the tree (once accuracy.txt is there)",
        (PREFLIGHT,),
    ),
    Rule(
        "official-defect",
        W,
        "a known defect of the official chain hits this folder",
        "docs/rules.md §8.5 (C1-C8, measured in official-chain.md)",
        "as the finding says",
        (PREFLIGHT,),
    ),
    Rule(
        "performance-rules-off",
        N,
        "the checker's performance rules were not applied",
        "the system spec's upload.performance_rules: false (a demo or a dry run)",
        "set upload.performance_rules to true (the default) for the runs you submit",
        (PREFLIGHT,),
    ),
)
RULES: dict[str, Rule] = {r.id: r for r in _RULES}


def finding(rule_id: str, message: str, path: str = "", evidence: Iterable[Evidence] = ()) -> Finding:
    """A finding of rule ``rule_id`` (KeyError for an id the catalogue does not have)."""
    rule = RULES[rule_id]
    return Finding(rule.id, rule.severity, rule.title, message, path, tuple(evidence), rule.rests_on, rule.remedy)


def catalogue_markdown() -> str:
    """``docs/review-rules.md``: one line per rule."""
    lines = [
        "# Review rules",
        "",
        "Every finding of `mlperf-compliance review` and `mlperf-compliance preflight` names one of these rules",
        "(generated from `compliance/review/rules.py`; `tests/unit/test_review_rules.py` keeps this file equal to",
        "it). `docs/review.md` and `docs/upload.md` say how to use them.",
        "",
        "| rule | severity | used by | what | rests on | remedy |",
        "|---|---|---|---|---|---|",
    ]
    for r in _RULES:
        used = ", ".join(r.used_by)
        lines.append(f"| `{r.id}` | {r.severity.value} | {used} | {r.title} | {r.rests_on} | {r.remedy} |")
    return "\n".join(lines) + "\n"
