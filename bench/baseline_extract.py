"""Benchmark: TEST01 Part III's baseline extraction from a huge accuracy log, in time and peak memory.

Builds (with ``bench/verify_memory.py``'s DLRM-like case) an accuracy log of about ``--size-gb`` of millions of
small entries and a compliance log of 4096 of them, then measures, as separate processes (so that peak RSS is the
process's own): ``cat`` of both inputs from the page cache (the physical floor) and the extraction
(:mod:`compliance.verify.checks.baseline`: the compliance log's qsl_idx counts, then the accuracy log streamed with the
compiled scanner and the wanted entries written out). Times are the best of 3 runs. Target (issue #15): peak RSS
under 150 MB and at most 5x the ``cat``. Run: ``python bench/baseline_extract.py [--size-gb 1] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import verify_memory

HERE = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--dir", default="/tmp/mlperf-compliance-bench-baseline")
    args = parser.parse_args()
    folder = Path(args.dir)
    verify_memory.build(folder, "small", int(args.size_gb * (1 << 30)), 0)
    ref = folder / "ref" / "accuracy" / "mlperf_log_accuracy.json"
    comp = folder / "comp" / "mlperf_log_accuracy.json"
    out = folder / "baseline" / "mlperf_log_accuracy.json"
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    try:
        os.sync()
        for _ in range(2):  # warm the page cache
            subprocess.run(["cat", str(ref), str(comp)], stdout=subprocess.DEVNULL, check=True)
        cat_time, cat_rss = verify_memory._measure(["cat", str(ref), str(comp)])
        code = (
            "from compliance.verify.checks import baseline; "
            f"made = baseline.write({str(ref)!r}, baseline.compliance_samples({str(comp)!r}), {str(out)!r}); "
            "assert made.problem is None and made.entries == 4096, made"
        )
        ours, rss = verify_memory._measure([sys.executable, "-c", code], cwd=HERE, env=env)
        size = ref.stat().st_size / (1 << 30)
        entries = sum(1 for _ in open(out)) - 2
        print(f"accuracy log {size:.2f} GiB, compliance log 4096 entries, baseline {entries} entries")
        print(f"cat of both inputs      {cat_time:7.2f} s  {cat_rss:6.1f} MB")
        print(f"baseline extraction     {ours:7.2f} s  {rss:6.1f} MB  ({ours / cat_time:.1f}x cat)")
        ok = rss < 150 and ours <= 5 * cat_time
        print("within the targets (RSS < 150 MB, <= 5x cat)" if ok else "OUTSIDE the targets")
        return 0 if ok else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
