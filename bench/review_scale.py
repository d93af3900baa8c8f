"""How long ``mlperf-compliance review`` takes on a whole published round, against ``cat`` of the same files.

Usage: ``python bench/review_scale.py /work/rounds/v4.1 [--round v4.1] [--specs DIR] [-j N] [--repeat 3]``

Each repeat first reads every file of the tree with ``cat`` (``find ROOT -type f -print0 | xargs -0 cat``), which
also warms the page cache, then runs ``mlperf-compliance review ROOT --format json -o FILE`` in a process of its own.
It prints both wall times, their ratio (the target: at most 10), the CPU time, the largest resident set of any one
process of the review (the parent or a worker: ``ru_maxrss`` of the children, the target: at most 300 MB), and what
the review read and found. The figures go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter


def _children() -> resource.struct_rusage:
    return resource.getrusage(resource.RUSAGE_CHILDREN)


def cat(root: str) -> float:
    start = time.monotonic()
    subprocess.run(f"find '{root}' -type f -print0 | xargs -0 cat > /dev/null", shell=True, check=True)
    return time.monotonic() - start


def review(root: str, args: argparse.Namespace, out: str) -> tuple[float, float, int]:
    """(wall s, CPU s of the review's processes, exit status)."""
    command = [sys.executable, "-m", "compliance", "review", root, "--format", "json", "-o", out, "--no-progress"]
    command += ["--specs", args.specs] if args.specs else []
    command += ["--round", args.round] if args.round else []
    command += ["-j", str(args.jobs)] if args.jobs else []
    before = _children()
    start = time.monotonic()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    after = _children()
    if done.returncode not in (0, 1):
        sys.exit(f"review failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root")
    parser.add_argument("--round")
    parser.add_argument("--specs")
    parser.add_argument("-j", "--jobs", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = sum(len(names) for _, _, names in os.walk(args.root))
    size = sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(args.root) for n in names)
    cat(args.root)  # warm the page cache
    cats, walls, cpus = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "review.json")
        for n in range(args.repeat):
            cats.append(cat(args.root))
            wall, cpu, status = review(args.root, args, out)
            walls.append(wall)
            cpus.append(cpu)
            print(f"repeat {n + 1}: cat {cats[-1]:.2f} s, review {wall:.2f} s (CPU {cpu:.1f} s, exit {status})")
        with open(out, encoding="utf-8") as f:
            document = json.load(f)
    rss_mb = _children().ru_maxrss / 1024  # KiB on Linux: the largest of any one child process
    meta = document["meta"]
    cat_s, review_s = statistics.median(cats), statistics.median(walls)
    print(f"tree: {args.root}: {files} files, {size / 1e9:.2f} GB; {os.cpu_count()} cores; load {os.getloadavg()}")
    cpu_s = statistics.median(cpus)
    print(f"cat: {cat_s:.2f} s (median of {args.repeat}); review: {review_s:.2f} s, CPU {cpu_s:.1f} s")
    print(f"ratio review/cat: {review_s / cat_s:.1f} (target <= 10); peak RSS of one process: {rss_mb:.0f} MB")
    print(
        f"review: round {meta['round']} ({meta['round_evidence']}), {meta['cells']} cells, "
        f"{len(document['records'])} folders, {meta['logs_read']} logs ({meta['bytes_read'] / 1e9:.2f} GB), "
        f"{meta['jobs']} processes; statuses {document['totals']['statuses']}; "
        f"findings {document['totals']['findings']}"
    )
    counts(document)
    return 0


def counts(document: dict) -> None:
    """Findings per rule and severity (and the folders they are on), checks NOT CHECKABLE per reason, and how
    many TEST01 folders had their performance, evidence and cleanliness checked."""
    findings: Counter[tuple[str, str]] = Counter()
    folders: Counter[str] = Counter()
    for record in document["records"]:
        findings.update((f["rule"], f["severity"]) for f in record["findings"])
        folders.update({f["rule"] for f in record["findings"]})
    print("findings by rule: count, folders, severity, rule")
    for (rule, severity), n in sorted(findings.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n:6} {folders[rule]:6}  {severity:8} {rule}")
    print("checks NOT CHECKABLE, by reason:")
    for reason, n in document["meta"]["not_checkable"].items():
        print(f"  {n:6}  {reason}")
    test01 = [r for r in document["records"] if r["test"] == "TEST01" and r["kind"] == "test"]
    names = ("performance", "audit config in effect", "submission runs without audit config")
    made = sum(all(any(c["name"] == n for c in r["checks"]) for n in names) for r in test01)
    print(f"TEST01 folders: {len(test01)}; performance, evidence and cleanliness checked in {made}")


if __name__ == "__main__":
    raise SystemExit(main())
