"""Deterministic synthetic outputs of the demo benchmarks, and the faults that corrupt them.

Each benchmark produces outputs in its real format: a classifier's int32 class (with three more int32 fields) for
``resnet``, a large float32 mask for ``3d-unet-99``, and int32 token streams ending in one EOS for the LLMs.
No numpy here: the outputs are built with :mod:`array`, so this module is cheap to import.
"""

from __future__ import annotations

import array
from dataclasses import dataclass
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


PROFILES = {
    "resnet": Profile(1024, 256, "classifier", 0.0005),
    # a slow device, as for the real model: 220 samples of 16 KiB per Offline run (a 7 MB TEST01 accuracy log)
    "3d-unet-99": Profile(43, 43, "segmentation", 0.005),
    "3d-unet-99.9": Profile(43, 43, "segmentation", 0.005),
    "llama2-70b-99": Profile(1024, 256, "llm", 0.0005),
    "llama2-70b-99.9": Profile(1024, 256, "llm", 0.0005),
    "mixtral-8x7b": Profile(1024, 256, "llm", 0.0005),
    "llama3.1-8b": Profile(1024, 256, "llm", 0.0005, eos=128009),
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
