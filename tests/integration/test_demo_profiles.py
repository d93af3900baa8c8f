"""The demo's gpt-oss-120b and dlrm-v3 profiles on real LoadGen: the datasets, layouts and counts the tests need."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from compliance.demo.outputs import GPT_OSS_EOS, dlrm_candidates, gpt_oss_answer, gpt_oss_correct


def _log(folder: Path) -> list[dict]:
    return json.loads((folder / "mlperf_log_accuracy.json").read_text(encoding="utf-8"))


def test_gpt_oss_test07_offline_logs_the_990_question_set_without_crashing(demo_runs) -> None:
    """performance_issue_unique with a performance sample count above the QSL size crashes LoadGen in Offline: the
    harness reports the compliance set's size as both counts."""
    entries = _log(demo_runs.compliance("TEST07", "gpt-oss-120b", "Offline"))
    assert sorted(e["qsl_idx"] for e in entries) == list(range(990))
    right = 0
    for e in entries:
        tokens = struct.unpack(f"<{len(e['data']) // 8}i", bytes.fromhex(e["data"]))
        assert tokens[-1] == GPT_OSS_EOS and e["token_count"] == len(tokens)
        right += tokens[-2] == gpt_oss_answer(e["qsl_idx"], "TEST07")
    assert right == sum(gpt_oss_correct(i, "TEST07") for i in range(990))


def test_gpt_oss_test09_server_logs_every_sample_with_its_first_token_apart(demo_runs) -> None:
    entries = _log(demo_runs.compliance("TEST09", "gpt-oss-120b", "Server"))
    assert sorted(e["qsl_idx"] for e in entries) == list(range(6396))
    assert all(e["token_count"] == len(e["data"]) // 8 + len(e["token_data"]) // 8 for e in entries)


def test_dlrm_layouts_in_accuracy_and_performance_mode(demo_runs) -> None:
    accuracy = _log(demo_runs.run("acc", "dlrm-v3", "Offline", "accuracy"))
    assert sorted(e["qsl_idx"] for e in accuracy) == list(range(2048))
    for e in accuracy[:50]:
        values = struct.unpack(f"<{len(e['data']) // 8}f", bytes.fromhex(e["data"]))
        n = dlrm_candidates(e["qsl_idx"])
        assert len(values) == 3 + 3 * n and values[-1] == n
    perf = _log(demo_runs.compliance("TEST08", "dlrm-v3", "Offline"))
    assert len(perf) > 2048  # every response of the run is logged (sampling target 4096)
    for e in perf[:50]:
        assert len(e["data"]) // 8 == 2 + dlrm_candidates(e["qsl_idx"])
