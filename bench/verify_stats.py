"""Benchmark: TEST08 against a 1 GB DLRMv3 accuracy log, and TEST09 on a 1 GB log, in time and peak memory.

* TEST08: an accuracy log of about ``--size-gb`` of dlrm-v3-like entries (8 to 32 candidates, about 480 bytes of
  hex each: about 2 million entries per GB), and an honest compliance log of 4096 of them (the sampling target).
  ``shifted``: the same, with the compliance run's ``qsl_idx`` all different from the accuracy run's (a harness
  whose sample numbers differ between runs), which makes the verifier read the whole accuracy log a second time.
* TEST09: an e2e-rag-qna-like compliance log of its 824 samples with outputs of about 150,000 tokens (1.2 MB of
  hex each; its mean is far outside the bounds, so the verdict is FAIL: only the time and memory matter here).

Each is run as its own process (peak RSS is the process's own): ``cat`` of the inputs from the page cache (the
floor), then ``mlperf-compliance verify`` end to end (writing its output folder, which copies the compliance log).
Times are the best of 3 runs. Targets (issue #15): TEST08 within 10x the ``cat`` of its inputs, peak RSS under
150 MB. Run: ``python bench/verify_stats.py [--size-gb 1] [--cases test08 shifted test09] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.verify_memory import _measure
from tests.helpers import logwriter as w

HERE = Path(__file__).resolve().parent.parent
SEED = 720381539243781796
SAMPLED = 4096


def _dlrm_tail(template: int, accuracy: bool) -> tuple[int, str]:
    n = 8 + template % 25
    preds = [0.02 + 0.96 * ((template * 131 + j * 71) % 997) / 997 for j in range(n)]
    if not accuracy:
        return n, w.hexdata(preds, "<f")
    labels = [1.0 if (template + j) % 3 == 0 else 0.0 for j in range(n)]
    return n, w.hexdata([*preds, *labels, *([1.0] * n), n], "<f")


def build_test08(folder: Path, size: int, shifted: bool) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "res" / "accuracy").mkdir(parents=True)
    (folder / "comp").mkdir(parents=True)
    acc_tails = [_dlrm_tail(t, True)[1] for t in range(997)]
    perf_tails = [_dlrm_tail(t, False)[1] for t in range(997)]
    template = '{ "seq_id" : %d, "qsl_idx" : %d, "data" : "%s%s" }'
    rng = random.Random(1)
    count = 0
    with open(folder / "res" / "accuracy" / "mlperf_log_accuracy.json", "w") as f:
        f.write("[\n")
        written = 2
        while written < size:
            line = template % (count, count, w.hexdata([count // 64, count % 64], "<f"), acc_tails[count % 997])
            f.write(("" if count == 0 else ",\n") + line)
            written += len(line) + 2
            count += 1
        f.write("\n]\n")
    chosen = sorted(rng.sample(range(count), SAMPLED))
    entries = [
        w.accuracy_entry(i, (q + 1) % count if shifted else q, w.hexdata([q // 64, q % 64], "<f") + perf_tails[q % 997])
        for i, q in enumerate(chosen)
    ]
    (folder / "comp" / "mlperf_log_accuracy.json").write_text(w.accuracy_log(entries))
    effective = {
        "effective_scenario": "Offline",
        "effective_test_mode": "PerformanceOnly",
        "effective_accuracy_log_rng_seed": SEED,
        "effective_accuracy_log_sampling_target": SAMPLED,
        "generated_query_count": 1,
        "generated_samples_per_query": 100_000,
    }
    (folder / "comp" / "mlperf_log_detail.txt").write_text(w.detail_log(effective, audit=True))
    (folder / "comp" / "mlperf_log_summary.txt").write_text(w.summary_log("Offline", 1000.0))


def build_test09(folder: Path, size: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "comp").mkdir(parents=True)
    tokens = size // 824 // 8
    data = w.hexdata([100 + i % 50000 for i in range(tokens)])
    with open(folder / "comp" / "mlperf_log_accuracy.json", "w") as f:
        f.write("[\n")
        for i in range(824):
            f.write(("" if i == 0 else ",\n") + w.accuracy_entry(i, i, data, token_count=tokens))
        f.write("\n]\n")
    effective = {
        "effective_scenario": "Offline",
        "effective_test_mode": "PerformanceOnly",
        "effective_accuracy_log_rng_seed": SEED,
        "effective_accuracy_log_sampling_target": 10000,
        "effective_samples_per_query": 824,
        "effective_min_duration_ms": 0,
        "effective_sample_concatenate_permutation": False,
        "qsl_reported_total_count": 824,
    }
    (folder / "comp" / "mlperf_log_detail.txt").write_text(w.detail_log(effective, audit=True))
    (folder / "comp" / "mlperf_log_summary.txt").write_text(w.summary_log("Offline", 1000.0))


def _verify(args: list[str], folder: Path) -> list[str]:
    shutil.rmtree(folder / "out", ignore_errors=True)
    out = ["-o", str(folder / "out"), "--specs", str(HERE / "specs")]
    return [sys.executable, "-m", "compliance", "verify", *args, *out]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--dir", default="/tmp/mlperf-compliance-bench-stats")
    parser.add_argument("--keep", action="store_true", help="keep the generated logs")
    parser.add_argument(
        "--cases", nargs="+", choices=("test08", "shifted", "test09"), default=["test08", "shifted", "test09"]
    )
    parser.add_argument("--build", nargs=2, metavar=("CASE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = int(args.size_gb * 1e9)
    if args.build:  # in a child process, so that the parent's RSS (which children inherit) stays small
        case, folder = args.build[0], Path(args.build[1])
        build_test09(folder, size) if case == "test09" else build_test08(folder, size, case == "shifted")
        return 0
    print(f"{'case':8s} {'inputs MB':>10s} {'cat':>7s} | {'verify':>7s} {'x cat':>6s} {'RSS MB':>7s}")
    for case in args.cases:
        folder = Path(args.dir) / case
        build = [sys.executable, __file__, "--size-gb", str(args.size_gb), "--build", case, str(folder)]
        subprocess.run(build, check=True)
        inputs = [str(folder / "comp" / "mlperf_log_accuracy.json")]
        if case != "test09":
            inputs.append(str(folder / "res" / "accuracy" / "mlperf_log_accuracy.json"))
        for _ in range(2):  # warm the page cache
            subprocess.run(["cat", *inputs], stdout=subprocess.DEVNULL, check=True)
        cat, _ = _measure(["cat", *inputs])
        if case == "test09":
            command = _verify(["TEST09", "-c", str(folder / "comp"), "-s", "Offline", "--model", "e2e-rag-qna"], folder)
        else:
            command = _verify(
                ["TEST08", "-r", str(folder / "res"), "-c", str(folder / "comp"), "--model", "dlrm-v3"], folder
            )
        ours, rss = _measure(command, repeat=1 if case == "shifted" else 3, cwd=HERE)
        mb = sum(Path(p).stat().st_size for p in inputs) / 1e6
        print(f"{case:8s} {mb:10.0f} {cat:7.3f} | {ours:7.2f} {ours / cat:6.1f} {rss:7.1f}", flush=True)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
