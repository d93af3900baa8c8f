"""How much the demo harness's LoadGen metric moves between honest runs, idle or under CPU load.

For each scenario it runs the harness (``python -m compliance.demo --benchmark B --scenario S --mode performance``,
each run in its own temporary working directory) N times as a submission performance run (no audit.config), as a
TEST01 compliance run and as a TEST04 compliance run (their audit.config in the working directory), interleaved, and
optionally the faults that must stay detectable (``cache`` with TEST04, ``slow_audit`` with TEST01). With
``--load K`` it keeps K processes busy meanwhile (``--load-kind``: busy loops, forking shells or both; see
bench/load.py), started and killed here. ``DEMO_DEVICE_PRIORITY=normal`` in the environment runs the demo's device
without the real-time policy (compliance/demo/device.py), to measure what that policy is worth.

Per case it prints the metric LoadGen reports in mlperf_log_detail.txt (Offline result_samples_per_second, Server
result_completed_samples_per_sec, SingleStream early_stopping_latency_ss, MultiStream early_stopping_latency_ms),
min/max/spread, how many runs were VALID and the wall time per run; per scenario the worst ratio between a
reference run and an honest compliance run (TEST01 and TEST04 allow 10%), and the ratio of each fault run to the
reference runs' median.

    python bench/demo_noise.py --runs 5 --load 2
    python bench/demo_noise.py --scenarios SingleStream MultiStream --runs 8 --faults
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from load import KINDS, Load, describe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compliance.demo import harness  # noqa: E402

SCENARIOS = ("Offline", "SingleStream", "MultiStream", "Server")
METRIC = {
    "Offline": "result_samples_per_second",
    "Server": "result_completed_samples_per_sec",
    "SingleStream": "early_stopping_latency_ss",
    "MultiStream": "early_stopping_latency_ms",
}
LATENCY = ("SingleStream", "MultiStream")  # lower is faster


def audit_text(test: str, scenario: str) -> str:
    """The audit.config of TEST01 or TEST04 (as the official files have it, with the model-independent keys)."""
    if test == "TEST01":
        return "*.*.mode = 2\n*.*.accuracy_log_rng_seed = 720381539243781796\n*.*.accuracy_log_sampling_target = 4096\n"
    return (
        f"*.{scenario}.mode = 2\n*.{scenario}.performance_issue_unique = 0\n"
        f"*.{scenario}.performance_issue_same = 1\n*.{scenario}.performance_issue_same_index = 3\n"
    )


def read_detail(path: Path) -> dict:
    """The key/value records of a LoadGen detail log (the last value of a key wins)."""
    records = {}
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(":::MLLOG "):
                try:
                    record = json.loads(line[9:])
                except ValueError:
                    continue
                records[record.get("key")] = record.get("value")
    return records


def run_once(
    python: str, benchmark: str, scenario: str, mode: str, audit: str | None, fault: str | None, scratch: Path
) -> dict:
    """One harness run in a fresh working directory: its metric, validity and wall time."""
    workdir = Path(tempfile.mkdtemp(dir=scratch))
    if audit is not None:
        (workdir / "audit.config").write_text(audit, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("DEMO_FAULT", None)
    command = [python, *harness.command(benchmark, scenario, mode, "logs", fault)[1:]]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}) in {workdir}:\n{done.stderr}")
    detail = read_detail(workdir / "logs" / "mlperf_log_detail.txt")
    accuracy_log = workdir / "logs" / "mlperf_log_accuracy.json"
    entries = sum(1 for line in accuracy_log.open(encoding="utf-8") if '"seq_id"' in line)
    return {
        "metric": detail.get(METRIC[scenario]),
        "validity": detail.get("result_validity"),
        "reason": detail.get("result_invalid_reason"),
        "wall": wall,
        "entries": entries,
        "queries": detail.get("result_query_count"),
    }


def ratio(a: float, b: float) -> float:
    return max(a / b, b / a)


def fmt(scenario: str, value) -> str:
    if not isinstance(value, (int, float)):
        return str(value)
    return f"{value / 1e6:.3f}ms" if scenario in LATENCY else f"{value:.1f}/s"


def summarize(scenario: str, cases: dict[str, list[dict]]) -> dict:
    """Print one block per scenario; return its figures."""
    out = {"cases": {}}
    print(f"\n== {scenario} ({METRIC[scenario]})")
    print(
        f"  {'case':<16} {'n':>2} {'min':>12} {'max':>12} {'spread':>7} {'valid':>6} {'wall/run':>9} "
        f"{'wall max':>8} {'entries':>8}"
    )
    for name, runs in cases.items():
        values = [r["metric"] for r in runs if isinstance(r["metric"], (int, float))]
        valid = sum(r["validity"] == "VALID" for r in runs)
        walls = [r["wall"] for r in runs]
        spread = (max(values) / min(values) - 1) if values and min(values) > 0 else float("nan")
        reasons = {r["reason"] for r in runs if r["reason"]}
        print(
            f"  {name:<16} {len(runs):>2} {fmt(scenario, min(values) if values else None):>12} "
            f"{fmt(scenario, max(values) if values else None):>12} {spread * 100:6.1f}% {valid:>3}/{len(runs):<2} "
            f"{statistics.mean(walls):8.2f}s {max(walls):7.2f}s {runs[0]['entries']:>8}"
            + (f"  INVALID: {'; '.join(sorted(reasons))}" if reasons else "")
        )
        out["cases"][name] = {
            "min": min(values) if values else None,
            "max": max(values) if values else None,
            "spread": spread,
            "valid": valid,
            "runs": len(runs),
            "wall_mean": statistics.mean(walls),
            "wall_max": max(walls),
            "entries": runs[0]["entries"],
        }
    refs = [r["metric"] for r in cases["reference"] if isinstance(r["metric"], (int, float))]
    honest = [
        r["metric"]
        for name in ("TEST01", "TEST04")
        for r in cases.get(name, [])
        if isinstance(r["metric"], (int, float))
    ]
    if refs and honest:
        worst = max(ratio(a, b) for a in refs for b in honest)
        every = refs + honest
        out["worst_honest_ratio"] = worst
        out["honest_spread"] = max(every) / min(every) - 1
        print(
            f"  worst reference/compliance ratio (honest): {worst:.4f} (allowed 1.10); spread of all honest runs "
            f"{out['honest_spread'] * 100:.1f}%"
        )
    median = statistics.median(refs) if refs else None
    for name in ("cache+TEST04", "slow_audit+TEST01"):
        for r in cases.get(name, []):
            if median and isinstance(r["metric"], (int, float)) and r["metric"] > 0:
                # speed-up of the fault run against the reference median (>1 = faster)
                speedup = (median / r["metric"]) if scenario in LATENCY else (r["metric"] / median)
                out.setdefault("fault_speedup", {}).setdefault(name, []).append(speedup)
                print(f"  {name}: speed-up vs reference median {speedup:.3f} ({r['validity']})")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="resnet")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--runs", type=int, default=5, help="runs per honest case (default 5)")
    parser.add_argument("--load", type=int, default=0, help="load processes meanwhile (default 0)")
    parser.add_argument("--load-kind", default="spin", choices=KINDS, help="what they do (bench/load.py)")
    parser.add_argument("--faults", action="store_true", help="also run cache (TEST04) and slow_audit (TEST01)")
    parser.add_argument("--accuracy", action="store_true", help="also time one accuracy-mode run per scenario")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="demo-noise-") as scratch, Load(args.load, args.load_kind):
        print(
            f"benchmark {args.benchmark}, {args.runs} runs per case, load: {describe(args.load, args.load_kind)}, "
            f"{os.cpu_count()} CPUs, loadavg {os.getloadavg()[0]:.2f}"
        )
        for scenario in args.scenarios:
            cases: dict[str, list[dict]] = {"reference": [], "TEST01": [], "TEST04": []}
            for _ in range(args.runs):  # interleaved, so that a change of load affects every case alike
                cases["reference"].append(
                    run_once(args.python, args.benchmark, scenario, "performance", None, None, Path(scratch))
                )
                for test in ("TEST01", "TEST04"):
                    cases[test].append(
                        run_once(
                            args.python,
                            args.benchmark,
                            scenario,
                            "performance",
                            audit_text(test, scenario),
                            None,
                            Path(scratch),
                        )
                    )
            if args.faults:
                cases["cache+TEST04"] = [
                    run_once(
                        args.python,
                        args.benchmark,
                        scenario,
                        "performance",
                        audit_text("TEST04", scenario),
                        "cache",
                        Path(scratch),
                    )
                ]
                cases["slow_audit+TEST01"] = [
                    run_once(
                        args.python,
                        args.benchmark,
                        scenario,
                        "performance",
                        audit_text("TEST01", scenario),
                        "slow_audit",
                        Path(scratch),
                    )
                ]
            if args.accuracy:
                cases["accuracy"] = [
                    run_once(args.python, args.benchmark, scenario, "accuracy", None, None, Path(scratch))
                ]
            results[scenario] = summarize(scenario, cases)
        print(f"\nloadavg at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
