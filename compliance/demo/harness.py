"""The demo harness: a synthetic system under test driven by real LoadGen (``mlperf_loadgen``).

It plays one benchmark in one scenario and mode, with run settings that take about a second
(LoadGen settings for runs of about a second). Queries complete synchronously inside the issue callback with a
busy-wait "compute", which keeps latencies stable enough for the 10% performance checks. Like a real harness it
leaves audit.config to LoadGen: LoadGen looks for it in the working directory when the test starts.

Faults (``--fault`` or the ``DEMO_FAULT`` environment variable) break one rule each:
``cache`` (an LRU result cache for repeated samples), ``acc_differs`` / ``acc_differs_hi`` / ``acc_differs_tail``
(other outputs in performance mode: first element, first element's high bytes, a later element), ``slow_audit``
(twice slower while an audit.config is present), ``ignore_audit`` (tells LoadGen another config file name),
``leave_audit`` (writes its own audit.config into its working directory, as a harness that stages one itself),
``eos2``, ``eos_only``, ``badcount``, ``firsttok``, ``firsttok_empty`` (LLM token faults).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence

from compliance.demo.outputs import PROFILES, corrupt, output, token_output

FAULTS = ("cache", "acc_differs", "acc_differs_hi", "acc_differs_tail", "slow_audit", "ignore_audit", "leave_audit",
          "eos2", "eos_only", "badcount", "firsttok", "firsttok_empty")
SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline", "Interactive")


def _busy_wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _settings(lg, scenario: str, accuracy: bool, llm: bool):
    s = lg.TestSettings()
    s.scenario = getattr(lg.TestScenario, scenario)
    s.mode = lg.TestMode.AccuracyOnly if accuracy else lg.TestMode.PerformanceOnly
    s.min_duration_ms = 1000
    if scenario == "Offline":
        s.offline_expected_qps = 2000
        s.min_query_count = 1
    elif scenario == "SingleStream":
        s.single_stream_expected_latency_ns = 500_000
        s.single_stream_target_latency_percentile = 0.9
        s.min_query_count = 100
    elif scenario == "MultiStream":
        s.multi_stream_expected_latency_ns = 4_000_000
        s.multi_stream_samples_per_query = 8
        s.multi_stream_target_latency_percentile = 0.99
        s.min_query_count = 1400  # with 662 the p99 is the single slowest query: too noisy for 10% checks
    else:  # Server; accuracy runs are paced at target_qps, so they get a higher rate
        s.server_target_qps = 5000 if accuracy else 600
        s.server_target_latency_ns = 50_000_000
        s.server_target_latency_percentile = 0.99
        s.min_query_count = 100
    if llm:
        s.use_token_latencies = True
        if scenario == "Server":
            s.ttft_latency = 50_000_000
            s.tpot_latency = 50_000_000
    return s


class DemoSUT:
    """Answers queries for one benchmark, honestly or with a fault."""

    def __init__(self, lg, benchmark: str, scenario: str, accuracy: bool, fault: str | None):
        self.lg = lg
        self.profile = PROFILES[benchmark]
        self.first_token = scenario != "Offline"
        self.performance_mode = not accuracy
        self.fault = fault
        self.compute_s = self.profile.compute_s / (5 if accuracy and scenario == "Server" else 1)
        self.cache: OrderedDict[int, object] = OrderedDict()

    def _compute(self) -> None:
        slow = self.fault == "slow_audit" and os.path.exists("audit.config")
        _busy_wait(self.compute_s * (2 if slow else 1))

    def issue(self, query_samples) -> None:
        for q in query_samples:
            if self.fault == "cache" and q.index in self.cache:
                self.cache.move_to_end(q.index)
                values = self.cache[q.index]
            else:
                self._compute()
                values = self._respond(q.index)
                if self.fault == "cache":
                    self.cache[q.index] = values
                    if len(self.cache) > 16:
                        self.cache.popitem(last=False)
            self._complete(q.id, values)

    def _respond(self, index: int):
        if self.profile.kind == "llm":
            return token_output(index, self.fault, self.profile.eos)
        return corrupt(output(self.profile.kind, index), self.fault, self.performance_mode)

    def _complete(self, query_id: int, values) -> None:
        lg = self.lg
        if self.profile.kind == "llm":
            toks, first, count = values
            if self.first_token:
                address, _ = first.buffer_info()
                lg.FirstTokenComplete([lg.QuerySampleResponse(query_id, address, len(first) * first.itemsize)])
            address, length = toks.buffer_info()
            lg.QuerySamplesComplete([lg.QuerySampleResponse(query_id, address, length * toks.itemsize, count)])
        else:
            address, length = values.buffer_info()
            lg.QuerySamplesComplete([lg.QuerySampleResponse(query_id, address, length * values.itemsize)])


def run(benchmark: str, scenario: str, mode: str, log_dir: str, fault: str | None) -> int:
    """Run one LoadGen test and return 0 (LoadGen reports problems in its logs, not in an exit status)."""
    import mlperf_loadgen as lg

    lg_scenario = "Server" if scenario == "Interactive" else scenario
    accuracy = mode == "accuracy"
    profile = PROFILES[benchmark]
    sut_impl = DemoSUT(lg, benchmark, lg_scenario, accuracy, fault)
    os.makedirs(log_dir, exist_ok=True)  # LoadGen aborts at exit when its output folder is missing
    log = lg.LogSettings()
    log.log_output.outdir = log_dir
    log.log_output.prefix = "mlperf_log_"
    log.log_output.suffix = ""
    log.log_output.prefix_with_datetime = False
    log.log_output.copy_summary_to_stdout = False
    log.enable_trace = False
    settings = _settings(lg, lg_scenario, accuracy, profile.kind == "llm")
    sut = lg.ConstructSUT(sut_impl.issue, lambda: None)
    qsl = lg.ConstructQSL(profile.total_samples, profile.performance_samples, lambda s: None, lambda s: None)
    audit_name = "audit.config.ignored-by-this-harness" if fault == "ignore_audit" else "audit.config"
    start = time.perf_counter()
    gc.disable()  # a collection pause inside a timed query would distort the percentiles the tests compare
    lg.StartTestWithLogSettings(sut, qsl, settings, log, audit_name)
    gc.enable()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    if fault == "leave_audit":
        with open("audit.config", "w", encoding="utf-8") as f:
            f.write("# audit.config kept by the harness for its next run\n*.*.mode = 2\n")
    print(f"demo: {benchmark} {scenario} {mode}{' fault=' + fault if fault else ''}: "
          f"{time.perf_counter() - start:.2f} s, logs in {log_dir}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the demo harness (``python -m compliance.demo``)."""
    parser = argparse.ArgumentParser(prog="python -m compliance.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", required=True, choices=sorted(PROFILES))
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--mode", required=True, choices=("accuracy", "performance"))
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--fault", choices=FAULTS, default=os.environ.get("DEMO_FAULT") or None)
    args = parser.parse_args(argv)
    try:
        import mlperf_loadgen  # noqa: F401
    except ImportError:
        print("error: the demo needs LoadGen: pip install -e '.[demo]'", file=sys.stderr)
        return 2
    return run(args.benchmark, args.scenario, args.mode, args.log_dir, args.fault)
