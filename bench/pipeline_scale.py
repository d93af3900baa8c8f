"""Benchmark: task listing and up-to-date checks at submission scale.

Generates specs for ``--systems`` systems (default 20) running ``--benchmarks`` benchmarks of round v5.0 (default
15) in all their scenarios, with every required test: about a thousand cells and five thousand tasks. Their
"benchmark" is a stand-in harness (this script with ``--harness``) that does what LoadGen would: it reads the
audit.config of its working directory and writes LoadGen-format logs showing its settings in effect, so every task
really runs and every verification really passes. The script runs the whole pipeline once (``doit -n 2``), then
times ``doit list`` and a ``doit`` with nothing to do, each as users run them (a new process). Target (issue #4):
each under 5 s.

Run: ``python bench/pipeline_scale.py [--systems 20] [--benchmarks 15] [--dir /tmp/mlperf-compliance-scale]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from compliance.plan import build_plan, load_specs  # noqa: E402


def make_project(root: Path, systems: int, benchmarks: int) -> None:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copy(HERE / "dodo.py", root / "dodo.py")
    for kind in ("rounds", "models", "tests"):
        shutil.copytree(HERE / "specs" / kind, root / "specs" / kind)
    (root / "specs" / "systems").mkdir()
    specs = load_specs(root / "specs")
    names = [b for b in specs.rounds["v5.0"].required if specs.rounds["v5.0"].required[b]][:benchmarks]
    names += [b for b in specs.rounds["v5.0"].required if b not in names][: benchmarks - len(names)]
    for i in range(systems):
        lines = [
            f"name: sys{i:02d}",
            "round: v5.0",
            "division: closed",
            "submitter: Acme",
            "submission_dir: submission",
            "benchmarks:",
        ]
        for bench in names:
            scenarios = ", ".join(specs.models[bench].scenarios)
            lines += [
                f"  {bench}:",
                f"    scenarios: [{scenarios}]",
                f"    workdir: work/sys{i:02d}/{bench}",
                f'    command: "{{python}} {Path(__file__).resolve()} --harness {{benchmark}} {{scenario}} '
                '{test} {mode} {log_dir}"',
                "    reference: {}",
            ]
        (root / "specs" / "systems" / f"sys{i:02d}.yaml").write_text("\n".join(lines) + "\n")


EFFECTIVE = {
    "accuracy_log_rng_seed": "effective_accuracy_log_rng_seed",
    "accuracy_log_sampling_target": "effective_accuracy_log_sampling_target",
    "performance_issue_same_index": "effective_performance_issue_same_index",
    "min_duration": "effective_min_duration_ms",
}
BOOLEAN = {"performance_issue_unique", "performance_issue_same", "sample_concatenate_permutation"}


def harness(benchmark: str, scenario: str, test: str, mode: str, log_dir: str) -> int:
    """Write the logs a LoadGen run would, honouring ./audit.config as LoadGen does (stand-in for a benchmark)."""
    from compliance.auditconfig import parse
    from tests.helpers import logwriter as w

    lg = "Server" if scenario == "Interactive" else scenario
    out = Path(log_dir)
    out.mkdir(parents=True, exist_ok=True)
    audit = Path("audit.config")
    values: dict = {
        "effective_scenario": lg,
        "effective_test_mode": "AccuracyOnly" if mode == "accuracy" else "PerformanceOnly",
    }
    if audit.exists():
        for key, value in parse(audit.read_text()).settings(scenario).items():
            if key in BOOLEAN:
                values[f"effective_{key}"] = bool(value)
            elif key == "min_query_count":
                values["effective_samples_per_query" if lg == "Offline" else "effective_min_query_count"] = value
            elif key in EFFECTIVE:
                values[EFFECTIVE[key]] = value
    score = {"Offline": 100.0, "Server": 50.0, "SingleStream": 500000, "MultiStream": 4000000}[lg]
    detail = w.perf_detail(lg, score, audit=audit.exists(), **values)
    (out / "mlperf_log_detail.txt").write_text(detail)
    (out / "mlperf_log_summary.txt").write_text(w.summary_log(lg, score))
    if test == "TEST06":
        entries = [
            w.accuracy_entry(i, i, w.hexdata([5, 6, 7]), None if lg == "Offline" else w.hexdata([5]), 3)
            for i in range(100)
        ]
    elif mode == "accuracy" or test == "TEST01":
        entries = [w.accuracy_entry(i, i, w.hexdata([i, 1, 2, 3])) for i in range(10)]
    else:
        entries = []
    (out / "mlperf_log_accuracy.json").write_text(w.accuracy_log(entries))
    return 0


def count(root: Path) -> tuple[int, int]:
    os.chdir(root)
    plan = build_plan(load_specs("specs"))
    return len(plan.cells), len(plan.references) + 5 * len(plan.cells)


def timed(root: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"doit {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=20)
    parser.add_argument("--benchmarks", type=int, default=15)
    parser.add_argument("--dir", default="/tmp/mlperf-compliance-scale")
    parser.add_argument("--harness", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.harness:
        return harness(*args.harness)
    root = Path(args.dir)
    make_project(root, args.systems, args.benchmarks)
    cells, tasks = count(root)
    print(
        f"{args.systems} systems x {args.benchmarks} benchmarks: {cells} cells, {tasks} tasks; running them all...",
        flush=True,
    )
    first, _ = timed(root, "-n", "2")
    listing, listed = timed(root, "list", "--all")
    noop, result = timed(root)
    ran = [line for line in result.stdout.splitlines() if line.startswith("[") and line.endswith(" ...")]
    print(
        f"first doit -n 2 (everything): {first:.0f} s   doit list --all: {listing:.2f} s "
        f"({len(listed.stdout.splitlines())} lines)   doit (nothing to do): {noop:.2f} s, {len(ran)} tasks ran"
    )
    return 0 if not ran else 1


if __name__ == "__main__":
    raise SystemExit(main())
