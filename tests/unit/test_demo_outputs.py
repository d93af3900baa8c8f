"""The demo's gpt-oss-120b and dlrm-v3 outputs: the interface TEST07's scoring relies on, and the faults' effects."""

from __future__ import annotations

import math
import statistics

from compliance.demo import outputs
from compliance.demo.outputs import (
    ANSWER_TOKENS,
    GPT_OSS_EOS,
    PROFILES,
    dlrm_candidates,
    dlrm_corrupt,
    dlrm_output,
    gpt_oss_answer,
    gpt_oss_output,
    gpt_oss_tokens,
)


def _answered(qsl_idx: int, test: str, fault: str | None = None) -> int:
    toks = gpt_oss_tokens(qsl_idx, test, fault)
    assert toks[-1] == GPT_OSS_EOS and GPT_OSS_EOS not in toks[:-1]
    return toks[-2]  # the answer token: the last one before EOS


def test_gpt_oss_datasets_per_test() -> None:
    profile = PROFILES["gpt-oss-120b"]
    assert (profile.total_samples, profile.performance_samples) == (6396, 6396)
    assert profile.for_test("") == profile and profile.for_test("TEST09") == profile
    compliance = profile.for_test("TEST07")
    assert (compliance.total_samples, compliance.performance_samples) == (990, 990)


def test_gpt_oss_answers_about_70_percent_correct_and_low_score_about_50() -> None:
    for test, size in (("", 6396), ("TEST07", 990)):
        honest = sum(_answered(i, test) == gpt_oss_answer(i, test) for i in range(size)) / size
        low = sum(_answered(i, test, "low_score") == gpt_oss_answer(i, test) for i in range(size)) / size
        assert 0.67 < honest < 0.73 and 0.47 < low < 0.53, (test, honest, low)
    answers = {gpt_oss_answer(i, "TEST07") for i in range(990)}
    assert answers == set(ANSWER_TOKENS)
    assert all(t not in ANSWER_TOKENS for t in gpt_oss_tokens(5, "TEST07")[:-2])  # no answer-like token before


def test_gpt_oss_answer_is_pure_and_depends_on_the_dataset() -> None:
    assert [gpt_oss_answer(i, "TEST07") for i in range(50)] == [gpt_oss_answer(i, "TEST07") for i in range(50)]
    assert [gpt_oss_answer(i, "TEST07") for i in range(50)] != [gpt_oss_answer(i, "") for i in range(50)]


def test_gpt_oss_lengths_centre_on_test09_bounds_and_truncated_halves_them() -> None:
    honest = statistics.mean(len(gpt_oss_tokens(i, "")) for i in range(6396))
    truncated = statistics.mean(len(gpt_oss_tokens(i, "", "truncated")) for i in range(6396))
    assert 1150.38 + 100 < honest < 1406.02 - 100
    assert truncated < 700


def test_gpt_oss_first_token_is_split_off_in_server() -> None:
    data, first, count = gpt_oss_output(7, "", None, first_token=True)
    assert list(first) + list(data) == list(gpt_oss_tokens(7, "")) and count == len(data) + 1
    data, first, count = gpt_oss_output(7, "", None, first_token=False)
    assert len(first) == 0 and count == len(data) == outputs.gpt_oss_length(7)


def test_dlrm_layouts_and_faults() -> None:
    n = dlrm_candidates(100)
    acc, perf = dlrm_output(100, True), dlrm_output(100, False)
    assert len(acc) == 2 + 3 * n + 1 and acc[-1] == n and len(perf) == 2 + n
    assert list(acc[: 2 + n]) == list(perf) and (perf[0], perf[1]) == (1.0, 36.0)
    assert all(w == 0.0 for w in dlrm_output(97, True)[2 + 2 * dlrm_candidates(97) : -1])
    assert dlrm_corrupt(perf, 100, "perturbed", performance_mode=False) is perf
    assert dlrm_corrupt(perf, 101, "nan", performance_mode=True) is perf  # only every 8th sample
    changed = dlrm_corrupt(dlrm_output(104, False), 104, "nan", performance_mode=True)
    assert changed[:2] == dlrm_output(104, False)[:2] and all(math.isnan(v) for v in changed[2:])
    shifted = dlrm_corrupt(dlrm_output(104, False), 104, "perturbed", performance_mode=True)
    assert all(abs(a - b) > 0.001 for a, b in zip(shifted[2:], dlrm_output(104, False)[2:], strict=True))
