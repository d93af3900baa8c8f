"""Which failures noise can cause (a retry may pass) is said by the check that fails, on written logs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compliance.logs.detail import read_detail
from compliance.plan import build_plan, load_specs
from compliance.verify import output, registry, render
from compliance.verify.checks import performance
from compliance.verify.result import Check, Outcome, Result
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

THRESHOLDS = load_specs(SHIPPED_SPECS).tests["TEST01"].thresholds  # the shipped tolerances: 10%, relaxed 20%


def _detail(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_detail(str(path))


@pytest.mark.parametrize(
    ("compliance", "noise"),
    [(800.0, True), (1200.0, True)],  # 20% off either way: a disturbed run can do that
)
def test_test01_performance_failures_are_noise(tmp_path: Path, compliance: float, noise: bool) -> None:
    ref = _detail(tmp_path, "ref", w.perf_detail("Offline", 1000.0))
    comp = _detail(tmp_path, "comp", w.perf_detail("Offline", compliance, audit=True))
    check = performance.within_tolerance(ref, comp, THRESHOLDS)
    assert check.outcome is Outcome.FAIL and check.noise is noise


@pytest.mark.parametrize(("speedup", "noise"), [(1.5, True), (2.0, True), (3.0, False)])
def test_a_test04_speedup_far_beyond_noise_is_not_noise(tmp_path: Path, speedup: float, noise: bool) -> None:
    ref = _detail(tmp_path, "ref", w.perf_detail("Offline", 1000.0))
    comp = _detail(tmp_path, "comp", w.perf_detail("Offline", 1000.0 * speedup, audit=True))
    check = performance.not_faster(ref, comp, THRESHOLDS)
    assert check.outcome is Outcome.FAIL and check.noise is noise


def test_an_invalid_run_is_noise_other_differences_are_not(tmp_path: Path) -> None:
    ref = _detail(tmp_path, "ref", w.perf_detail("Offline", 1000.0))
    invalid = _detail(tmp_path, "invalid", w.perf_detail("Offline", 1000.0, audit=True, valid=False))
    server = _detail(tmp_path, "server", w.perf_detail("Server", 1000.0, audit=True, valid=False))
    assert performance.runs_comparable(ref, invalid).noise is True
    bad_ref = _detail(tmp_path, "bad_ref", w.perf_detail("Offline", 1000.0, valid=False))
    assert performance.runs_comparable(bad_ref, invalid).noise is False  # another compliance run cannot mend it
    other = performance.runs_comparable(ref, server)  # INVALID, and another scenario: a retry changes nothing
    assert other.outcome is Outcome.FAIL and other.noise is False


def test_a_result_is_retryable_only_when_every_failure_is_noise() -> None:
    noisy = Check("performance", Outcome.FAIL, "20% lower", noise=True)
    accuracy = Check("accuracy", Outcome.FAIL, "2 entries differ")
    assert Result("TEST01", checks=[Check("a", Outcome.PASS), noisy]).retryable
    assert not Result("TEST01", checks=[noisy, accuracy]).retryable
    assert not Result("TEST01", checks=[Check("a", Outcome.PASS)]).retryable  # a pass is not retried
    # the flag is in verify.json only where it is true, so the verify.json of other results is as before
    assert [("noise" in c) for c in Result("TEST01", checks=[noisy, accuracy]).to_dict()["checks"]] == [True, False]


def test_the_ledger_lines_never_hold_the_checkers_words() -> None:
    verifier = registry.get("TEST04")
    inputs = {"compliance_summary": "s", "compliance_detail": "d"}
    result = Result("TEST04", checks=[Check("performance", Outcome.PASS)], inputs=inputs)
    result.attempts = [
        {"attempt": 1, "of": 2, "series": 1, "time": 0, "verdict": "FAIL", "short": "a harness said TEST FAIL"},
        {"attempt": 2, "of": 2, "series": 1, "time": 60, "verdict": "PASS", "short": ""},
    ]
    text = output.planned_files(result, verifier)["verify_performance.txt"]
    assert text is not None
    lines = text.splitlines()
    assert lines.count("TEST PASS") == 1
    told = lines[lines.index("TEST PASS") + 1 :]
    assert told[1] == "This verdict is attempt 2 of 2 (1970-01-01 00:01:00 UTC)."
    assert told[2] == "Earlier attempt 1 of 2 (1970-01-01 00:00:00 UTC) failed: a harness said test fail"
    assert not any(word in line for line in told for word in render.CHECKER_WORDS)
    result.attempts = result.attempts[1:]  # one attempt: the text is as it always was
    assert (
        output.planned_files(result, verifier)["verify_performance.txt"]
        == verifier.render(result)["verify_performance.txt"]
    )


def test_attempts_come_from_the_benchmark_then_the_system_then_the_test_spec(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SHIPPED_SPECS, specs)
    test04 = specs / "tests" / "TEST04.yaml"
    test04.write_text(test04.read_text() + "attempts: 4\nattempt_pause: 20\n")
    shutil.rmtree(specs / "systems")
    bench = "    scenarios: [Offline]\n    workdir: w\n    command: run {mode}\n    reference: {}\n"
    head = "round: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: sub\n"
    write_tree(
        specs,
        {
            "systems": {
                "a.yaml": f"name: a\n{head}attempts: 3\nbenchmarks:\n  resnet:\n{bench}    attempts: 2\n"
                f"  3d-unet-99:\n{bench}",
                "b.yaml": f"name: b\n{head}benchmarks:\n  resnet:\n{bench}",
            }
        },
    )
    plan = build_plan(load_specs(specs))
    found = {cp.cell.id: (cp.attempts, cp.attempt_pause) for cp in plan.cells}
    assert found == {
        "a/3d-unet-99/Offline/TEST01": (3, 0.0),
        "a/resnet/Offline/TEST01": (2, 0.0),
        "a/resnet/Offline/TEST04": (2, 20.0),
        "b/resnet/Offline/TEST01": (1, 0.0),
        "b/resnet/Offline/TEST04": (4, 20.0),
    }
    # how many attempts a cell may get is no part of what its verification depends on
    before = {cp.cell.id: cp.verify_parts("v") for cp in plan.cells}
    test04.write_text(test04.read_text().replace("attempts: 4", "attempts: 5"))
    assert {cp.cell.id: cp.verify_parts("v") for cp in build_plan(load_specs(specs)).cells} == before
