"""The demo harness: a synthetic system under test driven by real LoadGen (``mlperf_loadgen``).

It plays one benchmark in one scenario and mode, with run settings that take about a second (MultiStream about
2.6 s; LoadGen's rules for short runs: docs/rules.md §4). The system behaves like an accelerator: each query, or Offline
batch, costs a fixed device time that the harness waits for rather than computes (:mod:`compliance.demo.device`),
and its outputs are prepared before that wait. So the metric LoadGen reports depends on the device times, not on
the CPU the harness gets, and a compliance run lands within a few percent of the submission run even on a busy
machine (``bench/demo_noise.py``). Accuracy runs use a device ACCURACY_SPEEDUP times faster. Like a real harness
it leaves audit.config to LoadGen: LoadGen looks for it in the working directory when the test starts.

Faults (``--fault`` or the ``DEMO_FAULT`` environment variable) break one rule each:
``cache`` (an LRU result cache: repeated samples are answered without device time), ``acc_differs`` /
``acc_differs_hi`` / ``acc_differs_tail`` (other outputs in performance mode: first element, first element's high
bytes, a later element), ``nondeterministic`` (in performance mode some wrong answers come out otherwise wrong:
the first elements differ, the accuracy does not: TEST01's fallback passes), ``degraded`` (in performance mode a
fifth of the right answers come out wrong: the fallback fails too), ``slow_audit`` (twice the device time while
an audit.config is present), ``slow_once``
(the same, but only in the first such run of a log folder: it leaves a marker file ``.demo-slow-once`` there, so a
retry of the cell passes; a performance failure that a second attempt does not repeat), ``ignore_audit``
(tells LoadGen another config file name),
``leave_audit`` (writes its own audit.config into its working directory, as a harness that stages one itself),
``eos2``, ``eos_only``, ``badcount``, ``firsttok``, ``firsttok_empty`` (LLM token faults),
``truncated`` (gpt-oss-120b: outputs cut to about half their length, so TEST09's mean length falls below its bounds),
``low_score`` (gpt-oss-120b: about 50% of the answer tokens correct instead of 70%, below TEST07's threshold),
``perturbed`` and ``nan`` (dlrm-v3, performance mode only: every 8th sample's predictions shifted by 0.05, or NaN,
so that TEST08's normalized entropies differ; NaN is what the official TEST08 script lets pass).

``--test`` names the compliance test of the run ("" for submission runs). The harness of ``gpt-oss-120b`` is
given TEST07's 990-question compliance set for TEST07 and its 6396-sample dataset otherwise
(:meth:`compliance.demo.outputs.Profile.for_test`); each output's answer is its last token before EOS
(:func:`compliance.demo.outputs.gpt_oss_tokens`, :func:`compliance.demo.outputs.gpt_oss_answer`).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from compliance.demo.device import Device, latency_refusal, refusal
from compliance.demo.outputs import (
    PROFILES,
    corrupt,
    dlrm_corrupt,
    dlrm_output,
    gpt_oss_output,
    output,
    token_output,
)

FAULTS = (
    "cache",
    "nondeterministic",
    "degraded",
    "acc_differs",
    "acc_differs_hi",
    "acc_differs_tail",
    "slow_audit",
    "slow_once",
    "ignore_audit",
    "leave_audit",
    "eos2",
    "eos_only",
    "badcount",
    "firsttok",
    "firsttok_empty",
    "truncated",
    "low_score",
    "perturbed",
    "nan",
)
SLOW_ONCE_MARKER = ".demo-slow-once"  # slow_once: this log folder had its slow run
SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline", "Interactive")

MIN_DURATION_MS = 1000
# SingleStream runs longer: its metric is an early-stopping p90 estimate, which a burst of late wake-ups (a virtual
# machine whose host is busy stalls its CPUs for milliseconds, a few times in a second) moves when it covers a few
# percent of the queries; in 2.5 s (~490 queries) a burst is a smaller part of the run, and the estimate is closer
# to the p90, so it takes more late queries to move it.
SINGLESTREAM_MIN_DURATION_MS = 2500
# Device time of one query. SingleStream: 5 ms: a wake-up that is a few hundred us late moves its early-stopping
# p90 estimate by a few percent at most (1.4% spread under two busy loops, where 2 ms gave 4.6%:
# bench/demo_noise.py). MultiStream: its p99 estimate needs many queries before early stopping lets it
# discard the few a busy machine delays by milliseconds (with 662 queries it is the slowest one), so many short
# queries (~2.6 s); at <= 1.6 ms the compliance tests also allow 20% instead of 10%. Server: paced by target_qps.
QUERY_DEVICE_S = {"SingleStream": 0.005, "MultiStream": 0.0005, "Server": 0.001}
MULTISTREAM_QUERIES = 4000
OFFLINE_BATCH = 16  # Offline samples per device batch (one QuerySamplesComplete each)
ISSUE_DELAY_S = 0.0001  # SingleStream/MultiStream: from a completion to LoadGen's next query, typically
ACCURACY_SPEEDUP = 20  # accuracy runs are never timed against anything: their device is faster
LLM_KINDS = ("llm", "gpt-oss")  # outputs reported as tokens, with token latencies


def _settings(lg, scenario: str, accuracy: bool, llm: bool, timing: Timing, server_qps: int = 600):
    s = lg.TestSettings()
    s.scenario = getattr(lg.TestScenario, scenario)
    s.mode = lg.TestMode.AccuracyOnly if accuracy else lg.TestMode.PerformanceOnly
    s.min_duration_ms = MIN_DURATION_MS
    if scenario == "Offline":
        # exactly the device's throughput: the one query of 1.1 * qps * min_duration samples takes 1.1 min_duration
        s.offline_expected_qps = 1 / timing.sample_s
        s.min_query_count = 1
    elif scenario == "SingleStream":
        s.single_stream_expected_latency_ns = round(timing.query_s * 1e9)
        s.single_stream_target_latency_percentile = 0.9
        s.min_query_count = 100
        s.min_duration_ms = SINGLESTREAM_MIN_DURATION_MS
    elif scenario == "MultiStream":
        s.multi_stream_expected_latency_ns = round(timing.query_s * 1e9)
        s.multi_stream_samples_per_query = 8
        s.multi_stream_target_latency_percentile = 0.99
        s.min_query_count = MULTISTREAM_QUERIES
    else:  # Server; accuracy runs are paced at target_qps, so they get a higher rate
        s.server_target_qps = max(5000, server_qps) if accuracy else server_qps
        s.server_target_latency_ns = 50_000_000
        s.server_target_latency_percentile = 0.99
        s.min_query_count = 100
    if llm:
        s.use_token_latencies = True
        if scenario == "Server":
            s.ttft_latency = 50_000_000
            s.tpot_latency = 50_000_000
    return s


@dataclass(frozen=True)
class Timing:
    """Device times of one run: per query (SingleStream, MultiStream, Server) and per sample (Offline)."""

    query_s: float
    sample_s: float

    @classmethod
    def of(cls, profile, scenario: str, accuracy: bool) -> Timing:
        scale = 1 / ACCURACY_SPEEDUP if accuracy else 1.0
        query_s = QUERY_DEVICE_S.get(scenario, 0.0)
        if scenario == "Server":  # a device that keeps up with the profile's rate, at half load
            query_s = min(query_s, 0.5 / profile.server_qps)
        return cls(query_s * scale, profile.offline_sample_s * scale)


class DemoSUT:
    """Answers queries for one benchmark, honestly or with a fault, on a simulated device (:mod:`.device`).

    Outputs and LoadGen responses are prepared before the wait, so the Python work of a query is small beside
    its device time and happens while the device "runs"."""

    def __init__(self, lg, benchmark: str, scenario: str, accuracy: bool, fault: str | None, test: str = ""):
        self.lg = lg
        self.profile = PROFILES[benchmark].for_test(test)
        self.test = test
        self.offline = scenario == "Offline"
        self.first_token = not self.offline
        self.performance_mode = not accuracy
        self.fault = fault
        self.timing = Timing.of(self.profile, scenario, accuracy)
        self.device = Device(real_time=True)  # its waiter threads run during the test (``with sut_impl.device``)
        self.back_to_back = scenario in ("SingleStream", "MultiStream")  # LoadGen issues on each completion
        self.last_done: float | None = None  # when the last query was reported done (perf_counter)
        self.cache: OrderedDict[int, object] = OrderedDict()

    def _slowdown(self) -> float:
        return 2.0 if self.fault == "slow_audit" and os.path.exists("audit.config") else 1.0

    def issue(self, query_samples) -> None:
        arrival = time.perf_counter()
        if self.back_to_back and self.last_done is not None:
            # LoadGen timestamps this query as soon as the previous one is reported done, but reaches this
            # callback only after taking the GIL, which a device waiter may hold: on a busy machine that can be
            # milliseconds later. The device starts at the usual issue delay after that report (or now if sooner).
            arrival = min(arrival, self.last_done + ISSUE_DELAY_S)
        slowdown = self._slowdown()
        if self.offline:  # batches on the device timeline: the throughput is samples / total device time
            for start in range(0, len(query_samples), OFFLINE_BATCH):
                batch = query_samples[start : start + OFFLINE_BATCH]
                values, computed = self._answers(batch)
                self.device.submit(computed * self.timing.sample_s * slowdown, arrival, self._completion(batch, values))
        else:  # one query (1 sample, or MultiStream's 8) at a time
            values, computed = self._answers(query_samples)
            cost = self.timing.query_s * slowdown * computed / len(query_samples)
            if self.back_to_back:  # LoadGen's thread waits here: it reports the query itself (see .device)
                self.device.run(cost, arrival, self._completion(query_samples, values))
            else:  # Server: return at once, so that LoadGen keeps its schedule
                self.device.submit(cost, arrival, self._completion(query_samples, values))

    def _answers(self, query_samples) -> tuple[list, int]:
        """The outputs of the samples, and how many of them the device has to compute (not cached)."""
        values, computed = [], 0
        for q in query_samples:
            if self.fault == "cache" and q.index in self.cache:
                self.cache.move_to_end(q.index)
                values.append(self.cache[q.index])
                continue
            computed += 1
            value = self._respond(q.index)
            values.append(value)
            if self.fault == "cache":
                self.cache[q.index] = value
                if len(self.cache) > 16:
                    self.cache.popitem(last=False)
        return values, computed

    def _respond(self, index: int):
        kind = self.profile.kind
        if kind == "llm":
            return token_output(index, self.fault, self.profile.eos)
        if kind == "gpt-oss":
            return gpt_oss_output(index, self.test, self.fault, self.first_token)
        if kind == "dlrm":
            return dlrm_corrupt(dlrm_output(index, not self.performance_mode), index, self.fault, self.performance_mode)
        return corrupt(output(self.profile.kind, index), self.fault, self.performance_mode)

    def _completion(self, query_samples, values: list):
        """The LoadGen calls that report these samples done, prepared now, to be made when the device is done."""
        lg = self.lg
        response = lg.QuerySampleResponse
        firsts, responses = [], []
        if self.profile.kind in LLM_KINDS:
            for q, (toks, first, count) in zip(query_samples, values, strict=True):
                if self.first_token:
                    address, _ = first.buffer_info()
                    firsts.append(response(q.id, address, len(first) * first.itemsize))
                address, length = toks.buffer_info()
                responses.append(response(q.id, address, length * toks.itemsize, count))
        else:
            for q, v in zip(query_samples, values, strict=True):
                address, length = v.buffer_info()
                responses.append(response(q.id, address, length * v.itemsize))

        def complete(values=values) -> None:  # ``values`` keeps the buffers alive: LoadGen copies what it logs
            if firsts:
                lg.FirstTokenComplete(firsts)
            self.last_done = time.perf_counter()
            lg.QuerySamplesComplete(responses)

        return complete


def run(benchmark: str, scenario: str, mode: str, log_dir: str, fault: str | None, test: str = "") -> int:
    """Run one LoadGen test and return 0 (LoadGen reports problems in its logs, not in an exit status)."""
    import mlperf_loadgen as lg

    lg_scenario = "Server" if scenario == "Interactive" else scenario
    accuracy = mode == "accuracy"
    profile = PROFILES[benchmark].for_test(test)
    os.makedirs(log_dir, exist_ok=True)  # LoadGen aborts at exit when its output folder is missing
    if fault == "slow_once":
        marker = os.path.join(log_dir, SLOW_ONCE_MARKER)
        first = os.path.exists("audit.config") and not os.path.exists(marker)
        if first:
            open(marker, "w").close()
        fault = "slow_audit" if first else None
    sut_impl = DemoSUT(lg, benchmark, lg_scenario, accuracy, fault, test)
    log = lg.LogSettings()
    log.log_output.outdir = log_dir
    log.log_output.prefix = "mlperf_log_"
    log.log_output.suffix = ""
    log.log_output.prefix_with_datetime = False
    log.log_output.copy_summary_to_stdout = False
    log.enable_trace = False
    settings = _settings(lg, lg_scenario, accuracy, profile.kind in LLM_KINDS, sut_impl.timing, profile.server_qps)
    sut = lg.ConstructSUT(sut_impl.issue, lambda: None)
    qsl = lg.ConstructQSL(profile.total_samples, profile.performance_samples, lambda s: None, lambda s: None)
    audit_name = "audit.config.ignored-by-this-harness" if fault == "ignore_audit" else "audit.config"
    start = time.perf_counter()
    gc.disable()  # a collection pause inside a timed query would distort the percentiles the tests compare
    os.sync()  # what earlier runs wrote is written back now, not during the timed part
    with sut_impl.device:
        lg.StartTestWithLogSettings(sut, qsl, settings, log, audit_name)
    gc.enable()
    if (why := refusal()) is not None and not accuracy:
        print(
            f"demo: warning: the device's threads ran at normal priority ({why}): a busy machine can move its timing",
            file=sys.stderr,
        )
    if (why := latency_refusal()) is not None and not accuracy:
        print(
            f"demo: warning: idle CPUs were free to halt ({why}): on a virtual machine wake-ups can be late",
            file=sys.stderr,
        )
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    if fault == "leave_audit":
        with open("audit.config", "w", encoding="utf-8") as f:
            f.write("# audit.config kept by the harness for its next run\n*.*.mode = 2\n")
    print(
        f"demo: {benchmark} {scenario} {mode}{' ' + test if test else ''}{' fault=' + fault if fault else ''}: "
        f"{time.perf_counter() - start:.2f} s, logs in {log_dir}"
    )
    return 0


def command(
    benchmark: str, scenario: str, mode: str, log_dir: str, fault: str | None = None, test: str = ""
) -> list[str]:
    """The command line of one harness run, as scripts and tests start it (the specs write theirs out)."""
    argv = [sys.executable, "-m", "compliance.demo", "--benchmark", benchmark, "--scenario", scenario]
    argv += ["--mode", mode, "--log-dir", log_dir] + (["--test", test] if test else [])
    return argv + (["--fault", fault] if fault else [])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the demo harness (``python -m compliance.demo``)."""
    parser = argparse.ArgumentParser(prog="python -m compliance.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", required=True, choices=sorted(PROFILES))
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--mode", required=True, choices=("accuracy", "performance"))
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--fault", choices=FAULTS, default=os.environ.get("DEMO_FAULT") or None)
    parser.add_argument("--test", default="", help="the compliance test of this run (empty for submission runs)")
    args = parser.parse_args(argv)
    try:
        import mlperf_loadgen  # noqa: F401
    except ImportError:
        print("error: the demo needs LoadGen: pip install -e '.[demo]'", file=sys.stderr)
        return 2
    return run(args.benchmark, args.scenario, args.mode, args.log_dir, args.fault, args.test)
