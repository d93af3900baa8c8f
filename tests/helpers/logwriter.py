"""Write logs exactly in LoadGen's formats (docs/rules.md §4), for tests that need precise or broken logs."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

AUDIT_WARNING = "Found Audit Config file (audit.config). Overriding TestSettings from audit.config file."


def hexdata(values: Sequence[float | int], fmt: str = "<i") -> str:
    """Upper-case hex of values packed with a struct format, as LoadGen logs responses."""
    return b"".join(struct.pack(fmt, v) for v in values).hex().upper()


def _record(key: str, value: Any, error: bool = False, warning: bool = False) -> str:
    meta = {"is_error": error, "is_warning": warning, "file": "loadgen.cc", "line_no": 1, "pid": 1, "tid": 1}
    return ":::MLLOG " + json.dumps(
        {
            "key": key,
            "value": value,
            "time_ms": 0.012345,
            "namespace": "mlperf::logging",
            "event_type": "POINT_IN_TIME",
            "metadata": meta,
        }
    )


def detail_log(
    values: dict[str, Any],
    *,
    audit: bool = False,
    errors: Iterable[tuple[str, str]] = (),
    warnings: Iterable[str] = (),
) -> str:
    """A detail log with ``values`` (in order), the audit warning if asked and other warnings, errors, and
    num_errors last."""
    lines = [_record("loadgen_version", "6.0.17 @ d6147c7eb7")]
    if audit:
        lines.append(_record("warning_generic_message", AUDIT_WARNING, warning=True))
    lines += [_record("warning_generic_message", text, warning=True) for text in warnings]
    lines += [_record(k, v) for k, v in values.items()]
    errors = list(errors)
    lines += [_record(k, v, error=True) for k, v in errors]
    lines.append(_record("num_errors", len(errors)))
    return "\n".join(lines) + "\n"


def perf_detail(
    scenario: str,
    score: float,
    *,
    audit: bool = False,
    valid: bool = True,
    warnings: Iterable[str] = (),
    **extra: Any,
) -> str:
    """A performance-run detail log for ``scenario`` with the checker's metric set to ``score``."""
    key = {
        "Offline": "result_samples_per_second",
        "Server": "result_completed_samples_per_sec",
        "SingleStream": "early_stopping_latency_ss",
        "MultiStream": "early_stopping_latency_ms",
    }[scenario]
    values = {
        "effective_scenario": scenario,
        "effective_test_mode": "PerformanceOnly",
        "effective_target_latency_ns": 50000000 if scenario == "Server" else 0,
        "result_validity": "VALID" if valid else "INVALID",
        key: score,
    }
    values.update(extra)
    return detail_log(values, audit=audit, warnings=warnings)


def summary_log(scenario: str, score: float, valid: bool = True, early_stopping: str | None = None) -> str:
    """A performance-run summary log (docs/rules.md §4.2); ``early_stopping`` names the percentile of its
    estimate line (LoadGen 4.x writes ``90th``, later ones ``90.0th``)."""
    result = {
        "Offline": f"Samples per second: {score}",
        "Server": f"Completed samples per second    : {score}",
        "SingleStream": f"90.0th percentile latency (ns) : {int(score)}",
        "MultiStream": f"99.0th percentile latency (ns) : {int(score)}",
    }[scenario]
    lines = [
        "================================================",
        "MLPerf Results Summary",
        "================================================",
        "SUT name : demo",
        f"Scenario : {scenario}",
        "Mode     : PerformanceOnly",
        result,
        f"Result is : {'VALID' if valid else 'INVALID'}",
    ]
    if scenario in ("SingleStream", "MultiStream"):
        pct = early_stopping or ("90.0th" if scenario == "SingleStream" else "99.0th")
        lines += ["Early Stopping Result:", f" * Early stopping {pct} percentile estimate: {int(score)}"]
    lines += ["", "No warnings encountered during test.", "", "No errors encountered during test."]
    return "\n".join(lines) + "\n"


def accuracy_entry(
    seq_id: int, qsl_idx: Any, data: str, token_data: str | None = None, token_count: int | None = None
) -> str:
    """One entry in LoadGen's layout: ``{ "seq_id" : N, "qsl_idx" : M, "data" : "HEX" }``."""
    parts = [f'"seq_id" : {seq_id}', f'"qsl_idx" : {json.dumps(qsl_idx)}', f'"data" : "{data}"']
    if token_data is not None:
        parts.append(f'"token_data" : "{token_data}"')
    if token_count is not None:
        parts.append(f'"token_count" : {token_count}')
    return "{ " + ", ".join(parts) + " }"


def accuracy_log(entries: Iterable[str]) -> str:
    """A whole accuracy log: ``[``, one entry per line, ``]`` (an empty log is exactly ``[\\n]\\n``)."""
    body = ",\n".join(entries)
    return "[\n" + body + ("\n" if body else "") + "]\n"


#: the accuracy_log_rng_seed of the official audit.config files (TEST01, TEST07)
AUDIT_SEED = 720381539243781796
#: the settings LoadGen reports in effect for gpt-oss-120b's TEST07 run, as its audit.config sets them: the 990
#: samples of the compliance set in one query, each logged once
TEST07_EFFECTIVE: dict[str, Any] = {
    "effective_accuracy_log_rng_seed": AUDIT_SEED,
    "effective_accuracy_log_sampling_target": 990,
    "effective_samples_per_query": 990,
    "effective_min_duration_ms": 0,
    "effective_performance_issue_unique": True,
    "effective_sample_concatenate_permutation": False,
    "qsl_reported_total_count": 990,
}


def test07_entries(samples: Iterable[Any] = range(990), data: str | None = None) -> Iterator[str]:
    """Accuracy entries of a TEST07 run: one per sample, int32 tokens (an answer token and EOS) unless ``data``."""
    for i, q in enumerate(samples):
        yield accuracy_entry(i, q, data if data is not None else hexdata([100 + i % 7, 2]))


def truncate(text: str, head: int = 4096, tail: int = 4096, crlf: bool = False) -> str:
    """What the submission truncation tool leaves: head + '\\n\\n...\\n\\n' + tail; with ``crlf``, what it leaves
    where it writes CRLF line ends (text mode on Windows): every line end, the marker's included, is CRLF.

    A text shorter than head + tail gives overlapping halves, as the tool does with a log of 4 to 8 KiB."""
    cut = text[:head] + "\n\n...\n\n" + text[-tail:]
    return cut.replace("\n", "\r\n") if crlf else cut


#: the TEST01 settings in effect in a compliance run's detail log (resnet: sampling target 4096)
TEST01_EFFECTIVE: dict[str, Any] = {
    "effective_test_mode": "PerformanceOnly",
    "effective_accuracy_log_rng_seed": AUDIT_SEED,
    "effective_accuracy_log_sampling_target": 4096,
}


#: the TEST04 settings in effect in a compliance run's detail log
TEST04_EFFECTIVE: dict[str, Any] = {
    "effective_test_mode": "PerformanceOnly",
    "effective_performance_issue_unique": False,
    "effective_performance_issue_same": True,
    "effective_performance_issue_same_index": 3,
}


def int_entries(outputs: dict[int, list[int]], fmt: str = "<i") -> str:
    """An accuracy log of one entry per (qsl_idx, values), in that order."""
    return accuracy_log(accuracy_entry(i, q, hexdata(v, fmt)) for i, (q, v) in enumerate(outputs.items()))


def runs_tree(
    scenario: str = "Offline",
    ref_score: float = 1000.0,
    comp_score: float = 1010.0,
    *,
    outputs: dict[int, list[int]] | None = None,
    logged: Iterable[int] = (1, 3, 5),
    ref_extra: dict[str, Any] | None = None,
    comp_extra: dict[str, Any] | None = None,
    accuracy_mode: str = "AccuracyOnly",
) -> dict[str, Any]:
    """A submission's runs (``res``: accuracy and performance) and a TEST01 compliance run (``comp``) as a tree
    for ``tests.helpers.paths.write_tree``: ``outputs`` of the accuracy run by qsl_idx (default: 10 samples), the
    ``logged`` samples in the compliance log; extra detail-log records for either performance run."""
    outputs = outputs if outputs is not None else {q: [q, q + 1, 7] for q in range(10)}
    comp_effective = {**TEST01_EFFECTIVE, **(comp_extra or {})}
    return {
        "res": {
            "accuracy": {
                "mlperf_log_accuracy.json": int_entries(outputs),
                "mlperf_log_detail.txt": detail_log(
                    {"effective_scenario": scenario, "effective_test_mode": accuracy_mode}
                ),
            },
            "performance": {
                "run_1": {
                    "mlperf_log_detail.txt": perf_detail(scenario, ref_score, **(ref_extra or {})),
                    "mlperf_log_summary.txt": summary_log(scenario, ref_score),
                }
            },
        },
        "comp": {
            "mlperf_log_accuracy.json": int_entries({q: outputs[q] for q in logged}),
            "mlperf_log_detail.txt": perf_detail(scenario, comp_score, audit=True, **comp_effective),
            "mlperf_log_summary.txt": summary_log(scenario, comp_score),
        },
    }
