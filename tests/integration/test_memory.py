"""Bounded memory for every log: a 300 MB line in a detail or summary log, and 300 MB of whitespace in an accuracy
log, are refused or read in seconds with a peak RSS well under 150 MB."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

MEASURE = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "print(done.stderr[-300:])"
)
BIG = 300 << 20


def _tree(root: Path) -> None:
    entries = [w.accuracy_entry(i, i, w.hexdata([i, 1])) for i in range(4)]
    effective = {"effective_accuracy_log_rng_seed": 720381539243781796, "effective_accuracy_log_sampling_target": 4096}
    write_tree(
        root,
        {
            "res": {
                "accuracy": {"mlperf_log_accuracy.json": w.accuracy_log(entries)},
                "performance": {
                    "run_1": {
                        "mlperf_log_detail.txt": w.perf_detail("Offline", 1000.0),
                        "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
                    }
                },
            },
            "comp": {
                "mlperf_log_accuracy.json": w.accuracy_log(entries[:2]),
                "mlperf_log_detail.txt": w.perf_detail("Offline", 1000.0, audit=True, **effective),
                "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
            },
        },
    )


def _append_big(path: Path, filler: bytes, head: bytes = b"", tail: bytes = b"") -> None:
    with open(path, "wb") as f:
        f.write(head)
        chunk = filler * (1 << 20)
        for _ in range(BIG // len(chunk)):
            f.write(chunk)
        f.write(tail)


@pytest.mark.parametrize(
    ("target", "filler", "head", "tail"),
    [
        ("comp/mlperf_log_detail.txt", b"x", b":::MLLOG ", b"\n"),
        ("comp/mlperf_log_summary.txt", b"y", b"Result is : ", b"\n"),
        ("comp/mlperf_log_accuracy.json", b" ", b"[", b"]\n"),
    ],
    ids=["detail line", "summary line", "accuracy whitespace"],
)
def test_a_300_mb_input_costs_little_memory_and_time(
    tmp_path: Path, target: str, filler: bytes, head: bytes, tail: bytes
) -> None:
    _tree(tmp_path)
    _append_big(tmp_path / target, filler, head, tail)
    start = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURE,
            sys.executable,
            "-m",
            "compliance",
            "verify",
            "TEST01",
            "-r",
            str(tmp_path / "res"),
            "-c",
            str(tmp_path / "comp"),
            "-o",
            str(tmp_path / "out"),
            "--specs",
            str(SHIPPED_SPECS),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    elapsed = time.monotonic() - start
    code, rss_kb = map(int, done.stdout.split()[:2])
    assert code in (1, 2) and "Traceback" not in done.stdout, done.stdout
    assert rss_kb < 150 * 1024, f"peak RSS {rss_kb / 1024:.0f} MB"
    assert elapsed < 30, f"{elapsed:.1f} s"
