"""Benchmark: TEST01 verification of huge accuracy logs, in time and peak memory.

Builds two reference accuracy logs of about ``--size-gb`` each, with honest compliance logs beside them:

* DLRM-like: millions of small entries; the compliance log has 4096 of them (TEST01's sampling target);
* 3d-unet-like: 8 entries of about 1/8 of the size each; the compliance log repeats ``--huge-compliance`` of them.

For each it runs, as separate processes (so that peak RSS is the process's own): ``cat`` of the inputs (the
physical floor, from the page cache), ``mlperf-compliance verify TEST01`` end to end (writing its output folder),
the comparison alone (no spec loading, no output copy), and the official script's method, ``json.load`` of both
logs. Times are the best of 3 runs (``json.load``: 1); it prints time and peak RSS of each and the ratio of our
times to the ``cat`` of both inputs. Targets (issue #3): at most 10x for small entries and 4x for huge ones, peak RSS
under 150 MB. ``--scanner regex`` measures the standard-library scanner of wanted entries instead of the compiled
one (compliance/scan.py). Run: ``python bench/verify_memory.py [--size-gb 1] [--dir /tmp/mlperf-compliance-bench]``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from compliance.logs import scan
from tests.helpers import logwriter as w

HERE = Path(__file__).resolve().parent.parent


def _measure(command: list[str], repeat: int = 3, **kwargs) -> tuple[float, float]:
    """Best wall time (s) of ``repeat`` runs and the largest peak RSS (MB) of a command run as a child process."""
    runs = [_measure_once(command, **kwargs) for _ in range(repeat)]
    return min(t for t, _ in runs), max(m for _, m in runs)


def _measure_once(command: list[str], **kwargs) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{command[:4]} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def _write_small(folder: Path, size: int) -> None:
    rng = random.Random(1)
    template = '{ "seq_id" : %d, "qsl_idx" : %d, "data" : "%s" }'
    outputs = [w.hexdata([rng.random() for _ in range(8)], "<f") for _ in range(997)]
    chosen: list[str] = []
    with open(folder / "ref" / "accuracy" / "mlperf_log_accuracy.json", "w") as f:
        f.write("[\n")
        i, written = 0, 2
        wanted = set(rng.sample(range(size // 130), 4096))  # entries are about 122 bytes: all 4096 exist
        while written < size:
            line = template % (i, i, outputs[i % 997])
            f.write(("" if i == 0 else ",\n") + line)
            written += len(line) + 2
            if i in wanted:
                chosen.append(template % (len(chosen), i, outputs[i % 997]))
            i += 1
        f.write("\n]\n")
    (folder / "comp" / "mlperf_log_accuracy.json").write_text(w.accuracy_log(chosen))


def _write_huge(folder: Path, size: int, repeats: int) -> None:
    per_entry = size // 8 // 2  # bytes per output; hex doubles it
    with (
        open(folder / "ref" / "accuracy" / "mlperf_log_accuracy.json", "w") as ref,
        open(folder / "comp" / "mlperf_log_accuracy.json", "w") as comp,
    ):
        ref.write("[\n")
        comp.write("[\n")
        for i in range(8):
            data = os.urandom(per_entry).hex().upper()
            ref.write(("" if i == 0 else ",\n") + w.accuracy_entry(i, i, data))
            if i < repeats:
                comp.write(("" if i == 0 else ",\n") + w.accuracy_entry(i, i, data))
        ref.write("\n]\n")
        comp.write("\n]\n")


def build(folder: Path, kind: str, size: int, repeats: int) -> None:
    """A results folder ``ref/`` and a compliance folder ``comp/`` with honest logs of ``kind``."""
    shutil.rmtree(folder, ignore_errors=True)
    for sub in ("ref/accuracy", "ref/performance/run_1", "comp"):
        (folder / sub).mkdir(parents=True)
    (folder / "ref" / "performance" / "run_1" / "mlperf_log_detail.txt").write_text(w.perf_detail("Offline", 1000.0))
    settings = {"effective_accuracy_log_rng_seed": 720381539243781796, "effective_accuracy_log_sampling_target": 4096}
    (folder / "comp" / "mlperf_log_detail.txt").write_text(w.perf_detail("Offline", 1001.0, audit=True, **settings))
    (folder / "comp" / "mlperf_log_summary.txt").write_text(w.summary_log("Offline", 1001.0))
    if kind == "small":
        _write_small(folder, size)
    else:
        _write_huge(folder, size, repeats)


def run_core(folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """The comparison alone (no spec loading, no output copy), in its own process."""
    code = (
        "from compliance.verify.checks.compare import compare; "
        f"compare({str(folder / 'ref' / 'accuracy' / 'mlperf_log_accuracy.json')!r}, "
        f"{str(folder / 'comp' / 'mlperf_log_accuracy.json')!r}, 'float32')"
    )
    return _measure([sys.executable, "-c", code], cwd=HERE, env=env)


def run_case(folder: Path, kind: str, naive: bool, env: dict[str, str]) -> dict[str, float]:
    ref = folder / "ref" / "accuracy" / "mlperf_log_accuracy.json"
    comp = folder / "comp" / "mlperf_log_accuracy.json"
    os.sync()  # let the freshly written logs reach the disk before timing anything
    for _ in range(2):  # warm the page cache
        subprocess.run(["cat", str(ref), str(comp)], stdout=subprocess.DEVNULL, check=True)
    cat_ref, _ = _measure(["cat", str(ref)])
    cat_both, _ = _measure(["cat", str(ref), str(comp)])
    shutil.rmtree(folder / "out", ignore_errors=True)
    ours, ours_rss = _measure(
        [
            sys.executable,
            "-m",
            "compliance",
            "verify",
            "TEST01",
            "-r",
            str(folder / "ref"),
            "-c",
            str(folder / "comp"),
            "-o",
            str(folder / "out"),
            "--dtype",
            "float32",
            "--strict",
            "--specs",
            str(HERE / "specs"),
        ],
        cwd=HERE,
        env=env,
    )
    core, core_rss = run_core(folder, env)
    row = {
        "ref_mb": ref.stat().st_size / 1e6,
        "comp_mb": comp.stat().st_size / 1e6,
        "cat_ref": cat_ref,
        "cat_both": cat_both,
        "ours": ours,
        "ours_rss": ours_rss,
        "core": core,
        "core_rss": core_rss,
    }
    if naive:
        code = f"import json; a = json.load(open({str(ref)!r})); b = json.load(open({str(comp)!r}))"
        row["naive"], row["naive_rss"] = _measure([sys.executable, "-c", code], repeat=1)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0, help="size of each reference log (default 1)")
    parser.add_argument("--huge-compliance", type=int, default=2, help="3d-unet-like compliance entries (default 2)")
    parser.add_argument("--dir", default="/tmp/mlperf-compliance-bench", help="where the logs are built")
    parser.add_argument("--no-naive", action="store_true", help="skip the json.load reference (slow, GBs of RAM)")
    parser.add_argument("--keep", action="store_true", help="keep the generated logs")
    parser.add_argument(
        "--scanner",
        choices=("compiled", "regex"),
        default="compiled",
        help="the scanner of wanted entries to measure (default compiled)",
    )
    parser.add_argument("--build", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = int(args.size_gb * 1e9)
    if args.build:  # in a child process, so that the parent's RSS (which children inherit) stays small
        build(Path(args.build[1]), args.build[0], size, args.huge_compliance)
        return 0
    env = {**os.environ, scan.ENV: args.scanner}
    used = subprocess.run(
        [sys.executable, "-c", "from compliance.logs import scan; print(scan.in_use())"],
        env=env,
        cwd=HERE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if used != args.scanner:
        raise SystemExit(f"the {args.scanner} scanner is not available (was the package built without a C compiler?)")
    print(f"scanner of wanted entries: {used}")
    print(
        f"{'case':6s} {'ref MB':>7s} {'comp MB':>8s} {'cat ref':>8s} {'cat both':>9s} | {'verify':>7s} {'x cat':>6s} "
        f"{'RSS':>6s} | {'compare':>8s} {'x cat':>6s} {'RSS':>6s} | {'json.load':>9s} {'RSS':>7s}"
    )
    for kind in ("small", "huge"):
        folder = Path(args.dir) / kind
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--size-gb",
                str(args.size_gb),
                "--huge-compliance",
                str(args.huge_compliance),
                "--build",
                kind,
                str(folder),
            ],
            check=True,
        )
        built = time.perf_counter() - start
        row = run_case(folder, kind, not args.no_naive, env)
        naive = f"{row['naive']:8.2f}s {row['naive_rss']:6.0f}M" if "naive" in row else f"{'-':>9s} {'-':>7s}"
        print(
            f"{kind:6s} {row['ref_mb']:7.0f} {row['comp_mb']:8.1f} {row['cat_ref']:7.3f}s {row['cat_both']:8.3f}s | "
            f"{row['ours']:6.2f}s {row['ours'] / row['cat_both']:5.1f}x {row['ours_rss']:5.0f}M | "
            f"{row['core']:7.2f}s {row['core'] / row['cat_both']:5.1f}x {row['core_rss']:5.0f}M | {naive}"
            f"   (built in {built:.0f} s)",
            flush=True,
        )
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
