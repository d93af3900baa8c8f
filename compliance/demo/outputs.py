"""Deterministic synthetic outputs of the demo benchmarks, and the faults that corrupt them.

Each benchmark produces outputs in its real format: a classifier's int32 class (with three more int32 fields) for
``resnet``, a large float32 mask for ``3d-unet-99``, int32 token streams ending in one EOS for the LLMs, long
reasoning-length token streams for ``gpt-oss-120b`` (see :func:`gpt_oss_tokens`), and float32 candidate predictions
for ``dlrm-v3`` (see :func:`dlrm_output`). No numpy here: the outputs are built with :mod:`array`, so this module is
cheap to import.
"""

from __future__ import annotations

import array
import hashlib
import math
from dataclasses import dataclass, replace
from functools import cache

EOS = 2


@dataclass(frozen=True)
class Profile:
    """What the demo plays for one benchmark: dataset size, output kind and the device time of one Offline sample
    (the other scenarios' device times are per query, the same for every benchmark: see the harness)."""

    total_samples: int
    performance_samples: int
    kind: str  # "classifier", "segmentation" or "llm"
    offline_sample_s: float
    eos: int = EOS
    #: dataset size per compliance test whose harness is given another dataset (TEST07's compliance set)
    datasets: tuple[tuple[str, int], ...] = ()
    server_qps: int = 600  # Server target_qps of performance runs

    def for_test(self, test: str) -> Profile:
        """The profile of a run for compliance test ``test`` ("" for a submission run): its dataset's size."""
        size = dict(self.datasets).get(test)
        # the QSL reports the dataset's size as both counts, as the reference gpt-oss harness does: a performance
        # sample count above the QSL size would crash LoadGen's Offline run with performance_issue_unique (TEST07)
        return self if size is None else replace(self, total_samples=size, performance_samples=size)


GPT_OSS_EOS = 200002  # <|return|>, the token that ends a gpt-oss (harmony) reply
GPT_OSS_SAMPLES = 6396  # the gpt-oss-120b performance dataset (TEST09 logs every sample)
GPT_OSS_COMPLIANCE_SAMPLES = 990  # acc_eval_compliance_gpqa.parquet, which the harness is given for TEST07

PROFILES = {
    "resnet": Profile(1024, 256, "classifier", 0.0005),
    # a slow device, as for the real model: 220 samples of 16 KiB per Offline run (a 7 MB TEST01 accuracy log)
    "3d-unet-99": Profile(43, 43, "segmentation", 0.005),
    "3d-unet-99.9": Profile(43, 43, "segmentation", 0.005),
    "llama2-70b-99": Profile(1024, 256, "llm", 0.0005),
    "llama2-70b-99.9": Profile(1024, 256, "llm", 0.0005),
    "mixtral-8x7b": Profile(1024, 256, "llm", 0.0005),
    "llama3.1-8b": Profile(1024, 256, "llm", 0.0005, eos=128009),
    # a fast device: the TEST09 run issues all 6396 samples once (0.6 s); its accuracy log is 65 MB
    "gpt-oss-120b": Profile(
        GPT_OSS_SAMPLES,
        GPT_OSS_SAMPLES,
        "gpt-oss",
        0.0001,
        eos=GPT_OSS_EOS,
        datasets=(("TEST07", GPT_OSS_COMPLIANCE_SAMPLES),),
        server_qps=4000,  # the Server TEST09 run issues 6396 queries: 1.6 s
    ),
    "dlrm-v3": Profile(2048, 2048, "dlrm", 0.0005),
}
SEGMENTATION_VALUES = 4096  # float32 values per 3d-unet output: 32 KiB of hex per accuracy-log entry


def _mix(index: int) -> int:
    return (index * 2654435761) % 1000


@cache
def _tokens(index: int, eos: int) -> array.array:
    length = 3 + index % 32
    out = array.array("i", (100 + (index * 31 + i * 7) % 900 for i in range(length)))
    out.append(eos)
    return out


def tokens(index: int, eos: int = EOS) -> array.array:
    """The honest token stream of sample ``index``: 4 to 35 tokens, exactly one trailing EOS (a fresh copy)."""
    return array.array("i", _tokens(index, eos))


@cache
def output(kind: str, index: int) -> array.array:
    """The honest output of sample ``index`` for a benchmark of ``kind`` (cached, like samples a QSL has loaded:
    building it takes longer than the simulated compute, and would make the timings noisy). Do not modify it."""
    if kind == "classifier":
        return array.array("i", [_mix(index), index, (index * 7) % 13, 7])
    if kind == "segmentation":
        base = (index % 17) / 17.0
        return array.array("f", (base + (i % 64) / 64.0 for i in range(SEGMENTATION_VALUES)))
    return tokens(index)


#: permille of classifier samples the honest demo classifies right (as ResNet-50's 76.46% top-1)
RIGHT_PERMILLE = 765


def classifier_correct(index: int) -> bool:
    """Whether the honest classifier output of sample ``index`` is its label."""
    return (index * 7919) % 1000 < RIGHT_PERMILLE


def classifier_label(index: int) -> int:
    """The ground-truth class of classifier sample ``index`` (the honest output's first element when right)."""
    return _mix(index) if classifier_correct(index) else (_mix(index) + 1) % 1000


def corrupt(values: array.array, fault: str | None, performance_mode: bool) -> array.array:
    """Apply an output fault. Faults that cheat in performance mode leave accuracy runs honest."""
    if not performance_mode or fault is None:
        return values
    values = array.array(values.typecode, values)
    if fault == "acc_differs":  # the first element differs in performance mode
        values[0] = values[0] + 1
    elif fault == "acc_differs_hi":  # first element += 256: its first byte is unchanged
        values[0] = values[0] + 256 if values.typecode == "i" else values[0] * 2 + 1
    elif fault == "acc_differs_tail":  # only a later element differs
        values[-1] = values[-1] + 1
    elif fault in ("nondeterministic", "degraded") and values.typecode == "i" and len(values) == 4:
        index = values[1]  # the classifier output carries its sample index
        if fault == "nondeterministic" and not classifier_correct(index) and index % 2 == 0:
            values[0] = (values[0] + 2) % 1000  # another wrong class: (label is _mix + 1), never the label
        elif fault == "degraded" and classifier_correct(index) and index % 5 == 0:
            values[0] = (values[0] + 3) % 1000
    return values


def token_output(index: int, fault: str | None, eos: int = EOS) -> tuple[array.array, array.array, int]:
    """(tokens, first-token response, n_tokens) of an LLM sample under ``fault``."""
    toks = tokens(index, eos)
    if fault == "eos2":
        toks.append(eos)
    elif fault == "eos_only" and index % 4 == 0:
        toks = array.array("i", [eos, eos])
    first = array.array("i", toks[:1])
    if fault == "firsttok":
        first[0] += 1
    elif fault == "firsttok_empty":
        first = array.array("i")
    count = len(toks) + (1 if fault == "badcount" else 0)
    return toks, first, count


# -- gpt-oss-120b ---------------------------------------------------------------------------------------------------

#: The four answer tokens of the multiple-choice (GPQA-like) questions: the ids of "A", "B", "C", "D"
ANSWER_TOKENS = (32, 33, 34, 35)
GPT_OSS_MIN_TOKENS = 1000  # lengths are 1000 + 0..556 tokens: mean 1278, the centre of TEST09's bounds
GPT_OSS_LENGTH_SPREAD = 557
HONEST_SHARE = 70  # percent of questions an honest run answers correctly
LOW_SCORE_SHARE = 50  # ... and a run with the low_score fault
_BODY = array.array("i", (10000 + (i * 7919) % 50000 for i in range(GPT_OSS_MIN_TOKENS + GPT_OSS_LENGTH_SPREAD + 1024)))


def _gpt_oss_hash(qsl_idx: int, test: str) -> int:
    # the datasets differ: sample 5 of TEST07's compliance set is another question than sample 5 of the main set
    # (a CRC would not do: its low bits for two keys with the same suffix differ by a constant)
    return int.from_bytes(hashlib.blake2b(f"{test or 'main'}/{qsl_idx}".encode(), digest_size=8).digest(), "little")


def gpt_oss_answer(qsl_idx: int, test: str) -> int:
    """The correct answer token of question ``qsl_idx`` of the dataset the harness is given for ``test`` ("" for
    submission runs, "TEST07" for TEST07's 990-question compliance set): one of :data:`ANSWER_TOKENS`. Pure."""
    return ANSWER_TOKENS[_gpt_oss_hash(qsl_idx, test) % len(ANSWER_TOKENS)]


def gpt_oss_correct(qsl_idx: int, test: str, share: int = HONEST_SHARE) -> bool:
    """Whether the demo answers question ``qsl_idx`` correctly when it gets ``share`` percent right (deterministic:
    the same questions every run: with the honest share 689 of TEST07's 990 questions (69.6%) and 70.3% of the
    6396; with the low_score share 50.6% of the 990)."""
    return (_gpt_oss_hash(qsl_idx, test) >> 8) % 100 < share


def gpt_oss_length(qsl_idx: int) -> int:
    """Tokens in the honest output of sample ``qsl_idx``, its answer and EOS included (1000 to 1556)."""
    return GPT_OSS_MIN_TOKENS + (qsl_idx * 7919) % GPT_OSS_LENGTH_SPREAD


@cache
def gpt_oss_tokens(qsl_idx: int, test: str, fault: str | None = None) -> array.array:
    """The output of sample ``qsl_idx`` under ``fault`` (cached, as a loaded sample: do not modify it).

    An output is int32 reasoning tokens (ids 10000 to 59999), then the **answer token** (one of
    :data:`ANSWER_TOKENS`), then one :data:`GPT_OSS_EOS`: the answer is always the last token before the EOS.
    It is :func:`gpt_oss_answer` for the questions :func:`gpt_oss_correct` picks (70%; 50% with the ``low_score``
    fault), else the next answer token. ``truncated`` keeps the first half of the reasoning tokens.
    """
    length = gpt_oss_length(qsl_idx)
    start = qsl_idx % 1024
    body = _BODY[start : start + length - 2]
    if fault == "truncated":
        body = body[: len(body) // 2]
    answer = gpt_oss_answer(qsl_idx, test)
    if not gpt_oss_correct(qsl_idx, test, LOW_SCORE_SHARE if fault == "low_score" else HONEST_SHARE):
        answer = ANSWER_TOKENS[(ANSWER_TOKENS.index(answer) + 1) % len(ANSWER_TOKENS)]
    body.extend((answer, GPT_OSS_EOS))
    return body


def gpt_oss_output(
    qsl_idx: int, test: str, fault: str | None, first_token: bool
) -> tuple[array.array, array.array, int]:
    """(data, first-token response, n_tokens) as the reference gpt-oss harness reports them: with a first token
    (Server, Interactive), ``data`` is the rest of the output and n_tokens counts both; in Offline ``data`` is
    the whole output."""
    toks = gpt_oss_tokens(qsl_idx, test, fault)
    if not first_token:
        return toks, array.array("i"), len(toks)
    return toks[1:], toks[:1], len(toks)


# -- dlrm-v3 --------------------------------------------------------------------------------------------------------

DLRM_QUERIES_PER_TS = 64  # sample i is query i % 64 of timestamp i // 64
ZERO_WEIGHT_EVERY = 97  # every 97th sample has weight 0 on all its candidates (the official script skips those)
PERTURBED_EVERY = 8  # the perturbed and nan faults change every 8th sample in performance mode


def dlrm_candidates(qsl_idx: int) -> int:
    """Candidates ranked for sample ``qsl_idx``: 8 to 32."""
    return 8 + qsl_idx % 25


@cache
def dlrm_output(qsl_idx: int, accuracy: bool) -> array.array:
    """The honest float32 output of sample ``qsl_idx`` (cached: do not modify it).

    Accuracy mode: ``[ts_idx, query_idx, predictions(n), labels(n), weights(n), n]``; performance mode:
    ``[ts_idx, query_idx, predictions(n)]``, the layouts of the reference dlrm-v3 harness.
    """
    n = dlrm_candidates(qsl_idx)
    out = array.array("f", (qsl_idx // DLRM_QUERIES_PER_TS, qsl_idx % DLRM_QUERIES_PER_TS))
    out.extend(0.02 + 0.96 * ((qsl_idx * 131 + j * 71) % 997) / 997 for j in range(n))
    if accuracy:
        out.extend(1.0 if (qsl_idx * 17 + j * 29) % 7 < 2 else 0.0 for j in range(n))
        weight = 0.0 if qsl_idx % ZERO_WEIGHT_EVERY == 0 else 1.0
        out.extend(weight for _ in range(n))
        out.append(n)
    return out


def dlrm_corrupt(values: array.array, qsl_idx: int, fault: str | None, performance_mode: bool) -> array.array:
    """``perturbed``: predictions shifted by 0.05 (NE moves by far more than 0.1%); ``nan``: predictions NaN; both
    on every 8th sample (zero-weight ones included) and in performance mode only."""
    if not performance_mode or fault not in ("perturbed", "nan") or qsl_idx % PERTURBED_EVERY:
        return values
    values = array.array("f", values)
    for i in range(2, len(values)):
        values[i] = math.nan if fault == "nan" else min(values[i] + 0.05, 0.999)
    return values
