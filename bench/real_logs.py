"""Benchmark: the log readers on the LoadGen logs of published submission trees, in time and peak memory.

Real detail logs hold one line of up to 2.2 MB (``loaded_qsl_set``: docs/rules.md §4.1), which the readers read
past without holding; real accuracy logs are truncated by the submission tools or (TEST06) whole, up to a few MB.
For each tree given (e.g. the rounds laid out in /work/rounds/v4.1 and v5.1: ``git archive`` of
mlcommons/inference_results_v4.1 and _v5.1), this measures, each in a child process of its own (so that peak RSS
is its own): ``cat`` of every detail and accuracy log (the physical floor, from the page cache), reading every
detail log with :func:`compliance.logs.detail.read_detail`, every accuracy log with
:class:`compliance.logs.accuracy.AccuracyLog`, and the largest log of each kind alone. Times are the best of
``--repeat`` runs. Run: ``python bench/real_logs.py /work/rounds/v4.1 /work/rounds/v5.1``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

READ = """
import sys
from compliance.logs import LogError
from compliance.logs.accuracy import AccuracyLog
from compliance.logs.detail import read_detail
kind, listing = sys.argv[1], sys.argv[2]
lines = unread = entries = errors = 0
for path in open(listing).read().split("\\n"):
    if not path:
        continue
    try:
        if kind == "detail":
            log = read_detail(path)
            lines += len(log.values)
            unread += sum(log.unread.values())
        else:
            entries += sum(1 for _ in AccuracyLog(path, check_all_hex=True))
    except LogError:
        errors += 1
print(lines, unread, entries, errors)
"""


def _measure(command: list[str], repeat: int) -> tuple[float, float, float, str]:
    """Best wall time (s), the CPU time (s) of that run, peak RSS (MB) and output of ``command`` run ``repeat``
    times as a child process (the CPU time tells on a busy machine what the wall time hides)."""
    best, cpu, peak, out = float("inf"), 0.0, 0.0, ""
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=HERE)
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        _, _, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best, cpu = elapsed, usage.ru_utime + usage.ru_stime
        peak = max(peak, usage.ru_maxrss / 1024)
    return best, cpu, peak, out.strip()


def _logs(roots: list[str]) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {"detail": [], "accuracy": []}
    for root in roots:
        for folder, _, files in os.walk(root):
            if "mlperf_log_detail.txt" in files:
                found["detail"].append(Path(folder) / "mlperf_log_detail.txt")
            if "mlperf_log_accuracy.json" in files:
                found["accuracy"].append(Path(folder) / "mlperf_log_accuracy.json")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", help="submission trees (a round laid out from its repository)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure; the best time is kept")
    args = parser.parse_args()
    found = _logs(args.roots)
    with tempfile.TemporaryDirectory() as scratch:
        for kind, paths in found.items():
            largest = max(paths, key=lambda p: p.stat().st_size)
            size = sum(p.stat().st_size for p in paths)
            print(
                f"{kind} logs: {len(paths)} files, {size / 1e6:.1f} MB; largest {largest.stat().st_size / 1e6:.2f} MB"
            )
            for label, chosen in (("all", paths), ("largest", [largest])):
                listing = Path(scratch) / f"{kind}-{label}.txt"
                listing.write_text("\n".join(map(str, chosen)) + "\n")
                cat_t, _, cat_rss, _ = _measure(["sh", "-c", f"xargs cat < '{listing}' > /dev/null"], args.repeat)
                ours_t, ours_cpu, ours_rss, out = _measure(
                    [sys.executable, "-c", READ, kind, str(listing)], args.repeat
                )
                records, unread, entries, errors = (int(x) for x in out.split())
                what = (
                    f"{records} records held, {unread / 1e6:.1f} MB read past"
                    if kind == "detail"
                    else f"{entries} entries"
                )
                print(
                    f"  {label:8s} cat {cat_t:6.2f} s {cat_rss:5.0f} MB | ours {ours_t:6.2f} s (CPU {ours_cpu:6.2f} s) "
                    f"{ours_rss:5.0f} MB "
                    f"({ours_t / cat_t:5.1f}x cat; {what}; {errors} not LoadGen logs)"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
