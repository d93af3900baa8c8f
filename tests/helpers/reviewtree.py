"""A small published submission tree, written as the official scripts lay it out, for the tests of ``review``.

:func:`honest` gives the files of an honest v5.x-layout tree of round v5.1 (one organisation, one system: resnet
Offline and Server with TEST01 and TEST04, llama2-70b-99 Offline with TEST06), as a flat dict of relative path ->
text; a test changes the dict to plant one defect and writes it with :func:`write` (``paths.write_tree``). Every log
is written by ``tests/helpers/logwriter.py`` in LoadGen's formats, with the round's seeds and a start time per run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers.logwriter import (
    AUDIT_SEED,
    accuracy_entry,
    accuracy_log,
    detail_log,
    hexdata,
    perf_detail,
    summary_log,
)
from tests.helpers.paths import write_tree

ROUND = "v5.1"
SEEDS = {
    "effective_qsl_rng_seed": 1780908523862526354,
    "effective_sample_index_rng_seed": 14771362308971278857,
    "effective_schedule_rng_seed": 18209322760996052031,
}
V50_SEEDS = {
    "effective_qsl_rng_seed": 6023615788873153749,
    "effective_sample_index_rng_seed": 15036839855038426416,
    "effective_schedule_rng_seed": 9933818062894767841,
}
ORG = "closed/Acme"
SYSTEM = "sys1"
RESULTS = f"{ORG}/results/{SYSTEM}"
COMPLIANCE = f"{ORG}/compliance/{SYSTEM}"
SAMPLES = 64
TARGET_QPS = 1000.0
_clock = [0]


def _started() -> str:
    """A start time of its own for each run (LoadGen's test_datetime)."""
    _clock[0] += 1
    return f"2025-07-01T10:{_clock[0] // 60:02d}:{_clock[0] % 60:02d}Z"


def _resnet_output(qsl: int) -> str:
    return bytes([qsl % 250 + 1, 7, 7, 7]).hex().upper()


def accuracy_run(scenario: str, entries: list[str], **extra: Any) -> dict[str, str]:
    values = {
        "test_datetime": _started(),
        "qsl_reported_total_count": len(entries),
        "effective_scenario": "Server" if scenario == "Interactive" else scenario,
        "effective_test_mode": "AccuracyOnly",
        **SEEDS,
        "result_validity": "VALID",
        **extra,
    }
    return {
        "accuracy/mlperf_log_detail.txt": detail_log(values),
        "accuracy/mlperf_log_summary.txt": summary_log(values["effective_scenario"], 1.0),
        "accuracy/mlperf_log_accuracy.json": accuracy_log(entries),
    }


def performance_run(scenario: str, score: float, *, audit: bool = False, **extra: Any) -> dict[str, str]:
    values = {"test_datetime": _started(), **SEEDS, "effective_target_qps": TARGET_QPS, **extra}
    return {
        "mlperf_log_detail.txt": perf_detail(scenario, score, audit=audit, **values),
        "mlperf_log_summary.txt": summary_log(scenario, score),
    }


def _in(folder: str, files: dict[str, str]) -> dict[str, str]:
    return {f"{folder}/{name}": text for name, text in files.items()}


TEST01_EFFECTIVE = {
    "effective_accuracy_log_rng_seed": AUDIT_SEED,
    "effective_accuracy_log_sampling_target": 4096,
}
TEST06_EFFECTIVE = {
    "effective_accuracy_log_rng_seed": AUDIT_SEED,
    "effective_accuracy_log_sampling_target": 100,
    "effective_samples_per_query": 100,
    "effective_min_duration_ms": 0,
    "effective_sample_concatenate_permutation": False,
}
TEST04_EFFECTIVE = {
    "effective_performance_issue_unique": False,
    "effective_performance_issue_same": True,
    "effective_performance_issue_same_index": 3,
}


def verify_performance(reference: float, test: float, upper: bool = True, verdict: str = "TEST PASS") -> str:
    ref, tst = ("Reference score", "Test score") if upper else ("reference score", "test score")
    return f"Verifying performance.\n{ref} = {reference:g}\n{tst} = {test:g}\n{verdict}\n"


def verify_accuracy_test01(acc: int, perf: int, verdict: str = "TEST PASS") -> str:
    return (
        "Verifying accuracy. This might take a while...\nReading accuracy mode results...\n"
        "Reading performance mode results...\n"
        f"num_acc_log_entries = {acc}\nnum_acc_log_duplicate_keys = 0\nnum_acc_log_data_mismatch = 0\n"
        f"num_perf_log_entries = {perf}\nnum_perf_log_qsl_idx_match = {perf}\nnum_perf_log_data_mismatch = 0\n"
        f"num_missing_qsl_idxs = 0\n{verdict}\n\n"
    )


def resnet_cell(scenario: str, score: float = 1000.0) -> dict[str, str]:
    """A resnet cell: its submission runs, TEST01 and TEST04."""
    results, compliance = f"{RESULTS}/resnet/{scenario}", f"{COMPLIANCE}/resnet/{scenario}"
    files = _in(results, accuracy_run(scenario, [accuracy_entry(q, q, _resnet_output(q)) for q in range(SAMPLES)]))
    files.update(_in(f"{results}/performance/run_1", performance_run(scenario, score)))
    test01 = performance_run(scenario, score * 1.001, audit=True, **TEST01_EFFECTIVE)
    files.update(_in(f"{compliance}/TEST01/performance/run_1", test01))
    sampled = [accuracy_entry(i, q, _resnet_output(q)) for i, q in enumerate(range(0, SAMPLES, 2))]
    files[f"{compliance}/TEST01/accuracy/mlperf_log_accuracy.json"] = accuracy_log(sampled)
    files[f"{compliance}/TEST01/verify_accuracy.txt"] = verify_accuracy_test01(SAMPLES, len(sampled))
    files[f"{compliance}/TEST01/verify_performance.txt"] = verify_performance(score, score * 1.001)
    test04 = performance_run(scenario, score * 0.99, audit=True, **TEST04_EFFECTIVE)
    files.update(_in(f"{compliance}/TEST04/performance/run_1", test04))
    files[f"{compliance}/TEST04/verify_performance.txt"] = verify_performance(score, score * 0.99, upper=False)
    return files


def llama_entries(count: int = 100) -> list[str]:
    """TEST06 entries: int32 tokens ending in one EOS (2), token_count right."""
    return [accuracy_entry(i, i, hexdata([10 + i, 20, 2]), token_count=3) for i in range(count)]


TEST06_TEXT = (
    "First token check pass: Skipped\nEOS check pass: True\nSample length check pass: True\n"
    "TEST06 verification complete\n"
)


def llama_cell(benchmark: str = "llama2-70b-99", scenario: str = "Offline", org: str = ORG) -> dict[str, str]:
    results = f"{org}/results/{SYSTEM}/{benchmark}/{scenario}"
    compliance = f"{org}/compliance/{SYSTEM}/{benchmark}/{scenario}"
    files = _in(results, accuracy_run(scenario, llama_entries(24)))
    files.update(_in(f"{results}/performance/run_1", performance_run(scenario, 50.0)))
    files[f"{compliance}/TEST06/accuracy/mlperf_log_accuracy.json"] = accuracy_log(llama_entries())
    files[f"{compliance}/TEST06/verify_accuracy.txt"] = TEST06_TEXT
    # the run's logs, which a published TEST06 folder seldom keeps: with them its evidence is checkable
    test06 = performance_run(scenario, 49.5, audit=True, **TEST06_EFFECTIVE)
    files.update(_in(f"{compliance}/TEST06/performance/run_1", test06))
    return files


def honest() -> dict[str, str]:
    """Every file of the honest tree, by path relative to its root."""
    files = {**resnet_cell("Offline"), **resnet_cell("Server"), **llama_cell()}
    files[f"{ORG}/systems/{SYSTEM}.json"] = '{"system_type": "datacenter", "division": "closed"}\n'
    return files


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` under ``root`` (through ``paths.write_tree``) and return ``root``."""
    nested: dict[str, Any] = {}
    for path, text in files.items():
        node = nested
        *folders, name = path.split("/")
        for folder in folders:
            node = node.setdefault(folder, {})
        node[name] = text
    write_tree(root, nested)
    return root


def set_values(text: str, **values: Any) -> str:
    """A detail log with some records' values replaced (``key=value``; the record must be there)."""
    import json

    lines = []
    for line in text.splitlines():
        if line.startswith(":::MLLOG "):
            record = json.loads(line[len(":::MLLOG ") :])
            if record["key"] in values:
                record["value"] = values[record["key"]]
                line = ":::MLLOG " + json.dumps(record)
        lines.append(line)
    return "\n".join(lines) + "\n"


def without_audit(text: str) -> str:
    """A detail log without LoadGen's audit warning."""
    return "\n".join(line for line in text.splitlines() if "Found Audit Config" not in line) + "\n"
