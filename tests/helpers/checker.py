"""The file sets the official submission checker requires of a tree's compliance and results folders
(docs/rules.md §5; domain.md 5.1, 5.3), checked without the checker (it is not a dependency)."""

from __future__ import annotations

from pathlib import Path

#: files the checker tolerates in a TESTxx/performance/run_1/ beside the summary and detail logs
TOLERATED = {"mlperf_log_accuracy.json", "mlperf_log_trace.json", "results.json", ".gitkeep"}
#: TEST01/accuracy/ of a cell that passes by the non-deterministic fallback (REQUIRED_TEST01_ACC_FILES)
FALLBACK_FILES = {"mlperf_log_accuracy.json", "accuracy.txt", "baseline_accuracy.txt", "compliance_accuracy.txt"}
TEST06_LINES = ("EOS check pass: True", "Sample length check pass: True")


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


def folder_problems(folder: Path) -> list[str]:
    """What the checker would find missing in one TESTxx folder (empty: nothing)."""
    test, problems = folder.name, []
    run_1 = folder / "performance" / "run_1"
    if test in ("TEST01", "TEST04"):
        if not (folder / "verify_performance.txt").is_file() or not any(
            "TEST PASS" in line for line in _lines(folder / "verify_performance.txt")
        ):
            problems.append(f"{folder}: verify_performance.txt without TEST PASS")
        names = {p.name for p in run_1.iterdir()} if run_1.is_dir() else set()
        if not {"mlperf_log_summary.txt", "mlperf_log_detail.txt"} <= names or names - TOLERATED - {
            "mlperf_log_summary.txt",
            "mlperf_log_detail.txt",
        }:
            problems.append(f"{folder}: performance/run_1 holds {sorted(names)}")
    if test == "TEST01":
        # without a TEST PASS line the checker takes the non-deterministic fallback's files instead (Part III)
        accuracy = {p.name for p in (folder / "accuracy").iterdir()} if (folder / "accuracy").is_dir() else set()
        extras = TOLERATED - FALLBACK_FILES  # the files the checker tolerates beside the required ones
        if "TEST PASS" not in _lines(folder / "verify_accuracy.txt") and accuracy - extras != FALLBACK_FILES:
            problems.append(
                f"{folder}: verify_accuracy.txt has no line TEST PASS, and accuracy/ holds {sorted(accuracy)}"
            )
        if not (folder / "accuracy" / "mlperf_log_accuracy.json").is_file():
            problems.append(f"{folder}: no accuracy/mlperf_log_accuracy.json")
    if test == "TEST06":
        lines = _lines(folder / "verify_accuracy.txt")
        first = "First token check pass: True" in lines or "First token check pass: Skipped" in lines
        if not first or not all(line in lines for line in TEST06_LINES):
            problems.append(f"{folder}: verify_accuracy.txt lacks the three TEST06 pass lines")
    if test in ("TEST07", "TEST08"):  # facts doc §5: TEST PASS anywhere (TEST07), a line exactly TEST PASS (TEST08)
        text = folder / "verify_accuracy.txt"
        lines = _lines(text) if text.is_file() else []
        if not (any("TEST PASS" in line for line in lines) if test == "TEST07" else "TEST PASS" in lines):
            problems.append(f"{folder}: verify_accuracy.txt without TEST PASS")
    if test == "TEST09":
        text = folder / "verify_output_len.txt"
        if not text.is_file() or not any("TEST PASS" in line for line in _lines(text)):
            problems.append(f"{folder}: verify_output_len.txt without TEST PASS")
    return problems


def tree_problems(root: Path, division: str, submitter: str, system: str, round_: str) -> tuple[int, list[str]]:
    """The TESTxx folders of a system in the tree of its round (v5.x under compliance/, v6.x under results/), how
    many, and what the checker would find missing in them and in each scenario's results (accuracy/ and
    performance/run_1/ with their LoadGen logs)."""
    org = root / division / submitter
    base = org / ("compliance" if round_.startswith("v5") else "results") / system
    tests = sorted(p for p in base.glob("*/*/TEST*") if p.is_dir())
    problems = [p for t in tests for p in folder_problems(t)]
    if round_.startswith("v5") and (org / "results" / system).is_dir():
        problems += [f"{p}: a TEST folder under results/ in round {round_}" for p in (org / "results").rglob("TEST*")]
    for scenario in sorted({t.parent for t in tests}):
        results = org / "results" / system / scenario.relative_to(base)
        for needed in ("accuracy/mlperf_log_accuracy.json", "performance/run_1/mlperf_log_detail.txt"):
            if not (results / needed).is_file():
                problems.append(f"{results}: no {needed}")
    return len(tests), problems
