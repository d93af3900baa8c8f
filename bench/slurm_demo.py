"""Benchmark: the whole demo through the Slurm launcher, both demo systems on one node versus each on its own node.

Copies dodo.py and specs/ of this repository into a fresh scratch project per measurement, rewrites the two shipped
demo systems (``demo``, ``demo-v6``) with ``launcher: {kind: slurm, partition: debug, nodelist: ...}`` and runs the
whole demo with ``python -m doit -n 2``:

- **one node**: both systems pinned to ``node1``; their jobs are exclusive, so they take turns on that node;
- **two nodes**: ``demo`` on ``node1``, ``demo-v6`` on ``node2``; their jobs can run side by side.

The cases alternate, ``--repeat`` times each (default 2). For each case it prints the wall times of ``doit`` and
their median, how many tasks ran (the reporter's total line), and whether every cell passed
(``python -m compliance summary --format json`` -> ``passed``; the cells that did not pass are named), then the
ratio of the medians one node / two nodes (near 2 when the systems really run in parallel, near 1 when they do
not). As a reference it also runs the same demo once with the local launcher (the shipped specs) and ``-n 1``.
The load average is printed before and after each measurement: the demo's verdicts include performance checks,
which a loaded machine can fail. ``MLPERF_COMPLIANCE_LOCKS`` points into the scratch folder, so other copies of the
project on the machine do not share our locks (Slurm's ``--dependency=singleton`` still orders jobs of the same
system name and user across every copy). doit's output of each measurement is kept as ``<project>/doit.log``.

Needs a cluster with nodes node1 and node2 in partition debug: start the test one with
``slurm_env=$(.ci/slurm/start.sh | tail -n1); eval "$slurm_env"``.

Run: ``python bench/slurm_demo.py [--repeat 2] [--dir /tmp/mlperf-compliance-slurm-demo] [--partition debug]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SYSTEMS = ("demo", "demo-v6")
CASES: dict[str, tuple[str, str]] = {"one node": ("node1", "node1"), "two nodes": ("node1", "node2")}
TOTAL_LINE = re.compile(r"^(\d+) tasks: (\d+) ran \(", re.MULTILINE)
START_LINE = re.compile(r"^\[\d+/\d+\] \S+ \S+ \.\.\.$", re.MULTILINE)


@dataclass
class Measurement:
    wall: float
    returncode: int
    ran: int
    total: int
    passed: bool
    not_passed: list[str] = field(default_factory=list)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def with_slurm(text: str, partition: str, node: str) -> str:
    """The shipped system spec ``text`` with a Slurm launcher block before its top-level ``benchmarks:``."""
    block = f"launcher:\n  kind: slurm\n  partition: {partition}\n  nodelist: {node}\n  exclusive: true\n"
    out, found = re.subn(r"^benchmarks:", lambda m: block + m.group(0), text, count=1, flags=re.MULTILINE)
    if not found:
        raise SystemExit("the shipped demo spec has no top-level 'benchmarks:'")
    return out


def make_project(root: Path, partition: str, nodes: tuple[str, str] | None) -> Path:
    """A scratch project: dodo.py and specs/ of the repository; with ``nodes``, the demo systems on Slurm."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copy(HERE / "dodo.py", root / "dodo.py")
    shutil.copytree(HERE / "specs", root / "specs")
    if nodes is not None:
        for system, node in zip(SYSTEMS, nodes, strict=True):
            spec = root / "specs" / "systems" / f"{system}.yaml"
            spec.write_text(with_slurm(spec.read_text(encoding="utf-8"), partition, node), encoding="utf-8")
    return root


def measure(project: Path, jobs: int, env: dict[str, str], timeout: float) -> Measurement:
    """Run the whole demo with ``doit -n jobs`` in ``project``; then read the summary."""
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "doit", "-n", str(jobs)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.monotonic() - start
    (project / "doit.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    totals = TOTAL_LINE.findall(result.stdout)
    total, ran = (int(totals[-1][0]), int(totals[-1][1])) if totals else (0, len(START_LINE.findall(result.stdout)))
    summary = subprocess.run(
        [sys.executable, "-m", "compliance", "summary", "--format", "json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        table = json.loads(summary.stdout)
    except json.JSONDecodeError:
        return Measurement(
            wall,
            result.returncode,
            ran,
            total,
            False,
            [f"summary gave no JSON (exit {summary.returncode}): {summary.stderr.strip()[-300:]}"],
        )
    not_passed = [
        f"{r['system']}/{r['benchmark']}/{r['scenario']}/{r['test']} {r['status']}: {r['reason']}"
        for r in table["rows"]
        if r["status"] not in ("PASS", "NOT REQUIRED")
    ]
    return Measurement(wall, result.returncode, ran, total, bool(table["passed"]), not_passed)


def report(label: str, m: Measurement) -> None:
    verdict = "all cells passed" if m.passed else f"NOT all cells passed ({len(m.not_passed)})"
    print(f"  {label}: {m.wall:.1f} s, doit exit {m.returncode}, {m.ran}/{m.total} tasks ran, {verdict}", flush=True)
    for line in m.not_passed[:10]:
        print(f"    {line}", flush=True)
    if len(m.not_passed) > 10:
        print(f"    ... and {len(m.not_passed) - 10} more", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="measurements of each Slurm case (default 2)")
    parser.add_argument("--dir", default="/tmp/mlperf-compliance-slurm-demo", help="the scratch folder")
    parser.add_argument("--partition", default="debug")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed for one doit (default 1800)")
    args = parser.parse_args()
    if not os.environ.get("SLURM_CONF") or shutil.which("sbatch") is None:
        print(
            "needs a Slurm cluster: SLURM_CONF set and sbatch on PATH "
            '(slurm_env=$(.ci/slurm/start.sh | tail -n1); eval "$slurm_env")',
            file=sys.stderr,
        )
        return 2
    scratch = Path(args.dir)
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "locks").mkdir(parents=True)
    env = {**os.environ, "MLPERF_COMPLIANCE_LOCKS": str(scratch / "locks")}

    print(f"local launcher, doit -n 1 (reference), {load()}", flush=True)
    local = measure(make_project(scratch / "local", args.partition, None), 1, env, args.timeout)
    report("local", local)
    print(f"  after: {load()}", flush=True)

    results: dict[str, list[Measurement]] = {case: [] for case in CASES}
    for i in range(args.repeat):
        for case, nodes in CASES.items():
            print(
                f"{case} ({SYSTEMS[0]} on {nodes[0]}, {SYSTEMS[1]} on {nodes[1]}), doit -n 2, "
                f"round {i + 1}/{args.repeat}, {load()}",
                flush=True,
            )
            project = make_project(scratch / f"{case.replace(' ', '-')}-{i + 1}", args.partition, nodes)
            m = measure(project, 2, env, args.timeout)
            results[case].append(m)
            report(case, m)
            print(f"  after: {load()}", flush=True)

    print("\nsummary")
    print(
        f"  local -n 1: {local.wall:.1f} s, {local.ran} tasks ran, "
        f"{'all cells passed' if local.passed else 'NOT all cells passed'}"
    )
    medians: dict[str, float] = {}
    for case, ms in results.items():
        medians[case] = statistics.median(m.wall for m in ms)
        walls = ", ".join(f"{m.wall:.1f}" for m in ms)
        tasks = ", ".join(str(m.ran) for m in ms)
        passed = ", ".join("yes" if m.passed else "NO" for m in ms)
        print(f"  {case}: wall {walls} s (median {medians[case]:.1f} s), tasks ran {tasks}, all passed {passed}")
    print(f"  ratio of medians one node / two nodes: {medians['one node'] / medians['two nodes']:.2f}")
    ok = local.passed and all(m.passed and m.returncode == 0 for ms in results.values() for m in ms)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
