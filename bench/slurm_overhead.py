"""Benchmark: the Slurm launcher's own overhead per run, from submission to collected result.

Launches ``--runs`` runs (default 20) whose command does nothing (``true``), one after another, through
:class:`compliance.pipeline.launch.slurm.SlurmLauncher` in this process, each with an audit.config staged in a
scratch working directory, exactly as a doit run action would (job script, staging record, ``sbatch``, polls,
status file, record). Prints the time each launch took (min, median, max, mean): that is what the tool adds to a
benchmark's own run time on this cluster, queueing and Slurm's start included. Needs a cluster: start the test one
with ``slurm_env=$(.ci/slurm/start.sh | tail -n1); eval "$slurm_env"``.

Run: ``python bench/slurm_overhead.py [--runs 20] [--dir /tmp/mlperf-compliance-slurm-bench] [--nodelist node1]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from compliance.layout import RunFiles  # noqa: E402
from compliance.pipeline.launch.slurm import SlurmLauncher  # noqa: E402
from compliance.plan import RunPlan  # noqa: E402
from compliance.specs.launchers import launcher_defaults  # noqa: E402
from compliance.specs.types import Launcher  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--dir", default="/tmp/mlperf-compliance-slurm-bench")
    parser.add_argument("--nodelist", default=None, help="pin the jobs to these nodes (default: any)")
    args = parser.parse_args()
    root = Path(args.dir)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    os.chdir(root)  # the build folder and the staging records are relative, as in a project
    # the launcher's settings as the spec loader gives them (its defaults filled in once, there)
    given = {**launcher_defaults("slurm"), **({"nodelist": args.nodelist} if args.nodelist else {})}
    settings = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in given.items()))
    launcher = SlurmLauncher()
    times: list[float] = []
    for i in range(args.runs):
        files = RunFiles(f"build/bench/run{i}/logs", f"build/bench/run{i}/run.log", f"build/bench/run{i}/run.json")
        run = RunPlan(
            f"bench/run{i}",
            "bench",
            "true",
            "work",
            files,
            None,
            {},
            60.0,
            "*.*.mode = 2\n",
            False,
            Launcher("slurm", settings),
        )
        start = time.monotonic()
        launched = launcher.launch(run, say=lambda line: None)
        times.append(time.monotonic() - start)
        if not launched.ok:
            print(f"run {i}: {launched.ending.value}: {launched.problem}", file=sys.stderr)
            return 1
        if (root / "work/audit.config").exists():
            print(f"run {i}: audit.config left behind", file=sys.stderr)
            return 1
    print(
        f"{args.runs} Slurm runs of 'true', submission to collected result: min {min(times):.2f} s, "
        f"median {statistics.median(times):.2f} s, max {max(times):.2f} s, mean {statistics.mean(times):.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
