"""Each rule of review's catalogue fires on a tree with its defect and is silent on an honest tree.

The trees are written by ``tests/helpers/reviewtree.py`` (logs in LoadGen's formats); each case below plants one
defect in the honest tree. The catalogue in ``docs/review-rules.md`` is the code's (generated from it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.plan import load_specs
from compliance.report.model import Finding
from compliance.review import rules
from compliance.review.engine import Options, Review, review
from tests.helpers import reviewtree as rt
from tests.helpers.logwriter import accuracy_entry, accuracy_log, detail_log
from tests.helpers.paths import PROJECT, SHIPPED_SPECS

SPECS = load_specs(str(SHIPPED_SPECS))
RES_OFF = f"{rt.RESULTS}/resnet/Offline"
RES_SRV = f"{rt.RESULTS}/resnet/Server"
COMP_OFF = f"{rt.COMPLIANCE}/resnet/Offline"
COMP_SRV = f"{rt.COMPLIANCE}/resnet/Server"
T01 = f"{COMP_OFF}/TEST01/performance/run_1/mlperf_log_detail.txt"
T04 = f"{COMP_OFF}/TEST04/performance/run_1/mlperf_log_detail.txt"
PERF = f"{RES_OFF}/performance/run_1/mlperf_log_detail.txt"
ACC = f"{RES_OFF}/accuracy/mlperf_log_detail.txt"


def run_review(tmp_path: Path, files: dict[str, str], path: str = "", **options: object) -> Review:
    root = rt.write(tmp_path / "tree", files)
    return review(str(root / path), SPECS, Options(jobs=1, **options))  # type: ignore[arg-type]


def findings(result: Review) -> list[Finding]:
    return [f for record in result.records for f in record.findings]


# -- one planted defect per rule ---------------------------------------------------------------------------------


def _move(files: dict[str, str], old: str, new: str) -> None:
    for path in [p for p in files if p.startswith(old + "/")]:
        files[new + path[len(old) :]] = files.pop(path)


def missing_test(f: dict[str, str]) -> None:
    for path in [p for p in f if p.startswith(f"{COMP_OFF}/TEST04/")]:
        del f[path]


def missing_file(f: dict[str, str]) -> None:
    del f[f"{COMP_OFF}/TEST01/verify_performance.txt"]


def extra_file(f: dict[str, str]) -> None:
    f[f"{COMP_OFF}/TEST04/performance/run_1/notes.txt"] = "mine\n"


def logs_misfiled(f: dict[str, str]) -> None:
    f[f"{COMP_OFF}/performance/run_1/mlperf_log_detail.txt"] = f[T04]


def twice(f: dict[str, str]) -> None:
    for path in [p for p in f if p.startswith(f"{COMP_OFF}/TEST04/")]:
        f[path.replace(COMP_OFF, RES_OFF)] = f[path]


def orphan(f: dict[str, str]) -> None:
    for path in [p for p in f if p.startswith(RES_OFF + "/")]:
        del f[path]


def other_division(f: dict[str, str]) -> None:
    _move(f, RES_OFF, RES_OFF.replace("closed/", "open/", 1))


def not_required(f: dict[str, str]) -> None:
    f[f"{COMP_OFF}/TEST05/verify_performance.txt"] = rt.verify_performance(1000, 1000)


def resolved(f: dict[str, str]) -> None:
    f.update(rt.llama_cell("llama2-70b-fp8_quark", org="open/Acme"))


def unresolved(f: dict[str, str]) -> None:
    f.update(rt.llama_cell("mystery-model", org="open/Acme"))


def audit_missing(f: dict[str, str]) -> None:
    f[T04] = rt.without_audit(f[T04])


def too_slow(f: dict[str, str]) -> None:
    f[T01] = rt.set_values(f[T01], result_samples_per_second=500.0)


def outputs_differ(f: dict[str, str]) -> None:
    wrong = [accuracy_entry(0, 0, "FF070707"), accuracy_entry(1, 2, "FF070707")]
    f[f"{COMP_OFF}/TEST01/accuracy/mlperf_log_accuracy.json"] = accuracy_log(wrong)


def accuracy_audited(f: dict[str, str]) -> None:
    lines = f[ACC].splitlines()
    audit = detail_log({}, audit=True).splitlines()[1]
    f[ACC] = "\n".join([lines[0], audit, *lines[1:]]) + "\n"


def wrong_mode(f: dict[str, str]) -> None:
    f[ACC] = rt.set_values(f[ACC], effective_test_mode="PerformanceOnly")


def verifier_note(f: dict[str, str]) -> None:
    path = f"{rt.COMPLIANCE}/llama2-70b-99/Offline/TEST06/accuracy/mlperf_log_accuracy.json"
    f[path] = accuracy_log(rt.llama_entries(90))


def pass_over_fail(f: dict[str, str]) -> None:
    too_slow(f)  # verify_performance.txt still says TEST PASS


def figures_differ(f: dict[str, str]) -> None:
    f[f"{COMP_OFF}/TEST01/verify_performance.txt"] = rt.verify_performance(1234.5, 1001.0)


def no_pass(f: dict[str, str]) -> None:
    f[f"{COMP_OFF}/TEST04/verify_performance.txt"] = rt.verify_performance(1000, 990, False, "TEST FAIL")


def fallback_out_of_delta(f: dict[str, str]) -> None:
    outputs_differ(f)  # the checker reads the fallback's texts when the outputs differ
    f[f"{COMP_OFF}/TEST01/verify_accuracy.txt"] = rt.verify_accuracy_test01(64, 32, "TEST FAIL")
    f[f"{COMP_OFF}/TEST01/accuracy/baseline_accuracy.txt"] = "accuracy=76.000%, good=38, total=50\n"
    f[f"{COMP_OFF}/TEST01/accuracy/compliance_accuracy.txt"] = "accuracy=70.000%, good=35, total=50\n"


def is_submission_run(f: dict[str, str]) -> None:
    f[T04] = f[PERF]


def reused(f: dict[str, str]) -> None:
    f[T04] = f[T01]


def copied(f: dict[str, str]) -> None:
    for path in [p for p in f if p.startswith(f"{rt.RESULTS}/resnet/Offline/performance")]:
        f[path.replace("/sys1/", "/sys2/")] = f[path]


def shared_allowed(f: dict[str, str]) -> None:
    for path in [p for p in f if "/llama2-70b-99/" in p]:
        f[path.replace("/llama2-70b-99/", "/llama2-70b-99.9/")] = f[path]


def scenario_mismatch(f: dict[str, str]) -> None:
    f[PERF] = rt.set_values(f[PERF], effective_scenario="SingleStream")


def scenario_inferred(f: dict[str, str]) -> None:
    f[f"{rt.ORG}/systems/{rt.SYSTEM}.json"] = '{"system_type": "edge"}\n'
    folder = f"{rt.RESULTS}/resnet/multistream/performance/run_1/mlperf_log_detail.txt"
    f[folder] = rt.set_values(f[PERF], effective_scenario="SingleStream", test_datetime="2025-07-02T00:00:00Z")


def other_round(f: dict[str, str]) -> None:
    f[PERF] = rt.set_values(f[PERF], **rt.V50_SEEDS)
    f[T01] = rt.set_values(f[T01], **rt.V50_SEEDS)
    f[T04] = rt.set_values(f[T04], **rt.V50_SEEDS)


def seeds_differ(f: dict[str, str]) -> None:
    f[T01] = rt.set_values(f[T01], **{k: 0 for k in rt.SEEDS})


def seeds_unknown(f: dict[str, str]) -> None:
    for path in (PERF, T01, T04):
        f[path] = rt.set_values(f[path], **{k: 0 for k in rt.SEEDS})


def lower_qps(f: dict[str, str]) -> None:
    path = f"{COMP_SRV}/TEST04/performance/run_1/mlperf_log_detail.txt"
    f[path] = rt.set_values(f[path], effective_target_qps=rt.TARGET_QPS * 0.92)


def unreadable(f: dict[str, str]) -> None:
    f[T04] = "not a LoadGen log\n" + f[T04]


CASES: dict[str, Callable[[dict[str, str]], None]] = {
    "test-missing": missing_test,
    "test-files-missing": missing_file,
    "test-files-unexpected": extra_file,
    "logs-misfiled": logs_misfiled,
    "test-folder-twice": twice,
    "orphan-test-folder": orphan,
    "results-in-other-division": other_division,
    "test-not-required": not_required,
    "benchmark-resolved": resolved,
    "benchmark-unresolved": unresolved,
    "audit-not-in-effect": audit_missing,
    "performance-out-of-bounds": too_slow,
    "test-fails": outputs_differ,
    "submission-run-audited": accuracy_audited,
    "submission-run-wrong-mode": wrong_mode,
    "verify-note": verifier_note,
    "verify-text-pass-over-fail": pass_over_fail,
    "verify-text-figures-differ": figures_differ,
    "verify-text-no-pass": no_pass,
    "verify-text-fail-over-pass": no_pass,
    "fallback-out-of-delta": fallback_out_of_delta,
    "compliance-run-is-submission-run": is_submission_run,
    "compliance-run-reused": reused,
    "log-copied": copied,
    "log-shared-allowed": shared_allowed,
    "scenario-mismatch": scenario_mismatch,
    "scenario-inferred": scenario_inferred,
    "seeds-other-round": other_round,
    "seeds-differ": seeds_differ,
    "seeds-unknown": seeds_unknown,
    "server-target-qps-differs": lower_qps,
    "log-unreadable": unreadable,
}


def test_every_rule_has_a_case() -> None:
    """Review's rules here; those only pre-flight reports in tests/unit/test_preflight.py."""
    preflight_only = {r.id for r in rules.RULES.values() if rules.REVIEW not in r.used_by}
    assert set(CASES) | {"review-crashed"} == set(rules.RULES) - preflight_only


@pytest.fixture(scope="module")
def honest_review(tmp_path_factory: pytest.TempPathFactory) -> Review:
    return run_review(tmp_path_factory.mktemp("honest"), rt.honest())


def test_the_honest_tree_passes_whole(honest_review: Review) -> None:
    assert [r.status for r in honest_review.records] == ["PASS"] * len(honest_review.records)
    assert len(honest_review.records) == 11  # 3 cells: 2 runs each, TEST01 + TEST04 twice, TEST06
    assert honest_review.round == "v5.1" and "11 of 11" in honest_review.round_evidence


@pytest.mark.parametrize("rule", sorted(rules.RULES))
def test_rule_is_silent_on_the_honest_tree(rule: str, honest_review: Review) -> None:
    assert [f.message for f in findings(honest_review) if f.rule == rule] == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_its_defect(rule: str, tmp_path: Path) -> None:
    files = rt.honest()
    CASES[rule](files)
    found = findings(run_review(tmp_path, files, round=rt.ROUND))
    fired = [f for f in found if f.rule == rule]
    assert fired, f"{rule} did not fire; found: {[(f.rule, f.message) for f in found]}"
    assert all(f.severity is rules.RULES[rule].severity and f.message and f.rests_on for f in fired)


def test_review_crashed_is_a_finding_not_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(test: str, folder: str, ctx: object, second: bool = False) -> None:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr("compliance.review.cell.review_test", broken)
    result = run_review(tmp_path, rt.honest())
    crashed = [f for f in findings(result) if f.rule == "review-crashed"]
    assert len(crashed) == 5 and "ZeroDivisionError: planted" in crashed[0].message  # every TEST folder, reported
    assert {r.test for r in result.records if r.kind == "run"} == {"accuracy", "performance"}


def test_the_catalogue_in_the_docs_is_the_code_s() -> None:
    assert (PROJECT / "docs" / "review-rules.md").read_text(encoding="utf-8") == rules.catalogue_markdown()


def test_a_finding_of_an_unknown_rule_is_a_bug() -> None:
    with pytest.raises(KeyError):
        rules.finding("no-such-rule", "x")


def test_ids_are_stable_words() -> None:
    assert all(r.replace("-", "").isalnum() and r == r.lower() for r in rules.RULES)
