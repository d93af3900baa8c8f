"""Robustness of the honest demo: does every cell pass, run after run, while other processes keep the cores busy?

Runs the shipped demo (``doit`` on a fresh copy of dodo.py and specs/, exactly the README's quick start) N times from
a clean build folder while K processes load the machine (started and killed here; ``--load-kind``: busy loops,
shells starting short processes, or both, as bench/load.py describes), and prints how many cells passed out of
how many, with each failure's reason and figures (from ``mlperf-compliance summary --format json``), the cells that
passed only on a later attempt (with what the earlier ones fell short by), and the wall time of each run.
``--attempts N`` lets every demo system retry what noise can cause (``attempts: N`` in its spec; default: as
shipped, one attempt). With ``--pytest M`` it also runs the test suite (``pytest -q``) M times under the same load,
counts the passing runs and names each failing test.

    python bench/robustness.py --runs 20 --load 2
    python bench/robustness.py --runs 0 --pytest 5 --load 2
    python bench/robustness.py --runs 10 --load 2 --load-kind mixed
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from load import KINDS, Load, describe

ROOT = Path(__file__).resolve().parents[1]


def _demo_run(folder: Path, attempts: int | None) -> tuple[float, list[dict[str, str]]]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "dodo.py", folder / "dodo.py")
    shutil.copytree(ROOT / "specs", folder / "specs")
    if attempts is not None:
        for spec in (folder / "specs" / "systems").glob("*.yaml"):
            spec.write_text(
                spec.read_text(encoding="utf-8").rstrip("\n") + f"\nattempts: {attempts}\n", encoding="utf-8"
            )
    env = {**os.environ, "MLPERF_COMPLIANCE_LOCKS": str(folder / ".locks")}
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "doit"], cwd=folder, env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    summary = subprocess.run(
        [sys.executable, "-m", "compliance", "summary", "--format", "json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    try:
        rows: list[dict[str, str]] = json.loads(summary.stdout)["rows"]
    except (ValueError, KeyError):
        raise SystemExit(
            f"no summary in {folder} (is the tool installed for {sys.executable}?):\n"
            f"{(run.stdout + run.stderr + summary.stderr)[-2000:]}"
        ) from None
    return wall, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="fresh demo runs (default 20)")
    parser.add_argument("--load", type=int, default=2, help="load processes meanwhile (default 2)")
    parser.add_argument("--load-kind", default="spin", choices=KINDS, help="what they do (bench/load.py)")
    parser.add_argument("--attempts", type=int, default=None, help="attempts: N in every demo system (default: 1)")
    parser.add_argument("--pytest", type=int, default=0, help="also run the test suite this many times")
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "mlperf-compliance-robustness"))
    args = parser.parse_args()
    with Load(args.load, args.load_kind):
        print(f"load: {describe(args.load, args.load_kind)}; load average before: {os.getloadavg()[0]:.2f}")
        walls, passed, total, retried = [], 0, 0, 0
        for i in range(args.runs):
            wall, rows = _demo_run(Path(args.dir) / "demo", args.attempts)
            required = [r for r in rows if r["status"] != "NOT REQUIRED"]
            cells = [r for r in required if r["test"].startswith("TEST")]  # the others: submission runs in the tree
            ok = [r for r in cells if r["status"] == "PASS"]
            runs_ok = sum(r["status"] == "PASS" for r in required if r not in cells)
            walls.append(wall)
            passed, total = passed + len(ok), total + len(cells)
            print(
                f"run {i + 1:2d}: {len(ok)}/{len(cells)} cells PASS, {runs_ok}/{len(required) - len(cells)} "
                f"submission runs in the tree PASS, in {wall:.1f} s (load average {os.getloadavg()[0]:.2f})"
            )
            for row in required:
                # a PASS with a reason passed on a later attempt ("PASS on attempt 2 of 3; attempt 1: ...")
                if row["status"] != "PASS" or row["reason"]:
                    retried += row["status"] == "PASS"
                    print(
                        f"    {row['status']} {row['system']}/{row['benchmark']}/{row['scenario']}/{row['test']}: "
                        f"{row['reason']} [{row['figures']}]"
                    )
        if walls:
            print(
                f"demo: {passed}/{total} cells passed ({retried} on a later attempt) over {args.runs} runs; "
                f"wall time median {statistics.median(walls):.1f} s, max {max(walls):.1f} s"
            )
        good = 0
        for i in range(args.pytest):
            start = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider"],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
            good += done.returncode == 0
            print(f"pytest {i + 1}: exit {done.returncode} in {time.monotonic() - start:.0f} s: {last}")
            for line in done.stdout.splitlines():
                if line.startswith(("FAILED ", "ERROR ")):
                    print(f"    {line}")
        if args.pytest:
            print(f"pytest: {good}/{args.pytest} runs passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
