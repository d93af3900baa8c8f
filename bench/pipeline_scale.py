"""Benchmark: task listing and up-to-date checks at submission scale.

Generates specs for ``--systems`` systems (default 20) running ``--benchmarks`` benchmarks of round v5.0 (default
15) in all their scenarios, with every required test: about a thousand cells and five thousand tasks. It writes
every output the pipeline would have produced (small stand-in files, taken from the plan), records doit's state
with ``doit reset-dep`` (doit's command for adopting existing outputs), then times ``doit list`` and a ``doit`` with
nothing to do, each as users run them (a new process). Target (issue #4): each under 5 s.

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

from compliance.actions import signature_file  # noqa: E402
from compliance.plan import build_plan  # noqa: E402
from compliance.specs import load_specs  # noqa: E402


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
        lines = [f"name: sys{i:02d}", "round: v5.0", "division: closed", "submitter: Acme",
                 "submission_dir: submission", "benchmarks:"]
        for bench in names:
            scenarios = ", ".join(specs.models[bench].scenarios)
            lines += [f"  {bench}:", f"    scenarios: [{scenarios}]", f"    workdir: work/sys{i:02d}/{bench}",
                      "    command: ./run.sh {scenario} {mode} {log_dir}", "    reference: {}"]
        (root / "specs" / "systems" / f"sys{i:02d}.yaml").write_text("\n".join(lines) + "\n")


def fabricate(root: Path) -> tuple[int, int]:
    """Write every output of the plan; return (cells, tasks)."""
    os.chdir(root)
    plan = build_plan(load_specs("specs"))
    files: list[str] = []
    for ref in plan.references:
        files += ref.run.logs
        Path(ref.run.output_dir).mkdir(parents=True, exist_ok=True)
        Path(signature_file(ref.run)).write_text(ref.run.signature)
    for cp in plan.cells:
        files += cp.run.logs + cp.verified_files + cp.tree_files
        Path(cp.run.output_dir).mkdir(parents=True, exist_ok=True)
        for step in ("run", "unstage"):
            Path(signature_file(cp.run, step)).write_text(cp.run.signature)
    for name in files:
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text("stand-in\n")
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
    args = parser.parse_args()
    root = Path(args.dir)
    make_project(root, args.systems, args.benchmarks)
    cells, tasks = fabricate(root)
    reset, _ = timed(root, "reset-dep")
    listing, listed = timed(root, "list", "--all")
    noop, result = timed(root)
    ran = [line for line in result.stdout.splitlines() if line.startswith(".  ")]
    print(f"{args.systems} systems x {args.benchmarks} benchmarks: {cells} cells, {tasks} tasks "
          f"({len(listed.stdout.splitlines())} lines listed)")
    print(f"doit reset-dep: {reset:.2f} s   doit list --all: {listing:.2f} s   doit (nothing to do): {noop:.2f} s, "
          f"{len(ran)} tasks ran")
    return 0 if not ran else 1


if __name__ == "__main__":
    raise SystemExit(main())
