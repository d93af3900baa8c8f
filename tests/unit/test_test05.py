"""TEST05 (round v4.1): LoadGen's other seeds in effect, the run not slower, on written logs and on real folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.verify.tests import test05
from tests.helpers import logwriter as w
from tests.helpers.paths import PUBLISHED, SHIPPED_SPECS, write_tree

V41 = dict(zip(test05.SEED_KEYS, test05.ROUND_SEEDS["v4.1"]["seeds"], strict=True))
V41_TEST05 = dict(zip(test05.SEED_KEYS, test05.ROUND_SEEDS["v4.1"]["test05"], strict=True))
FLAG = "Test05 flag detected Overriding random seeds"


def _tree(root: Path, scenario: str, ref: float, comp: float, *, flag: bool = True, seeds: dict | None = None) -> None:
    pct = {"SingleStream": "90th", "MultiStream": "99th"}.get(scenario)
    write_tree(
        root,
        {
            "res": {
                "performance": {
                    "run_1": {
                        "mlperf_log_detail.txt": w.perf_detail(scenario, ref, **V41),
                        "mlperf_log_summary.txt": w.summary_log(scenario, ref, early_stopping=pct),
                    }
                }
            },
            "comp": {
                "mlperf_log_detail.txt": w.perf_detail(
                    scenario,
                    comp,
                    audit=True,
                    warnings=[FLAG] if flag else [],
                    **(V41_TEST05 if seeds is None else seeds),
                ),
                "mlperf_log_summary.txt": w.summary_log(scenario, comp, early_stopping=pct),
            },
        },
    )


def _verify(capsys, root: Path, *extra: str) -> tuple[int, dict, str]:
    argv = ["verify", "TEST05", "-r", str(root / "res"), "-c", str(root / "comp"), "-o", str(root / "out")]
    code = main([*argv, "--specs", str(SHIPPED_SPECS), *extra])
    out = capsys.readouterr().out
    path = root / "out" / "TEST05" / "verify.json"
    return code, (json.loads(path.read_text()) if path.exists() else {}), out


def _checks(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["checks"]}


@pytest.mark.parametrize(
    ("scenario", "ref", "comp", "passed"),
    [
        ("Offline", 1000.0, 960.0, True),  # 4% slower: within 5%
        ("Offline", 1000.0, 940.0, False),  # 6% slower
        ("Offline", 1000.0, 2000.0, True),  # faster is never a TEST05 failure (one-sided)
        ("Server", 1000.0, 951.0, True),
        ("SingleStream", 1_000_000, 1_049_000, True),  # latency 4.9% longer
        ("SingleStream", 1_000_000, 1_051_000, False),
        ("SingleStream", 150_000, 179_000, True),  # 200 us or less: 20%
        ("SingleStream", 150_000, 181_000, False),
        ("MultiStream", 1_500_000, 1_790_000, True),  # 1.6 ms or less: 20%
        ("MultiStream", 2_000_000, 2_110_000, False),
    ],
)
def test_performance_within_five_percent_one_sided(
    tmp_path: Path, capsys, scenario: str, ref: float, comp: float, passed: bool
) -> None:
    _tree(tmp_path, scenario, ref, comp)
    code, data, out = _verify(capsys, tmp_path)
    assert (code, data["verdict"]) == ((0, "PASS") if passed else (1, "FAIL")), out
    assert data["official_verdict"] == data["verdict"]  # the official script agrees on honest logs
    score = _checks(data)["performance"]
    assert score["outcome"] == ("PASS" if passed else "FAIL")
    if not passed:
        assert "slower" in score["reason"] and score.get("noise") is True  # another run may pass
    text = (tmp_path / "out" / "TEST05" / "verify_performance.txt").read_text()
    assert ("TEST PASS" in text) == passed and text.startswith("Verifying performance.\nreference score = ")


def test_the_seeds_must_be_the_rounds_test05_seeds(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, "Offline", 1000.0, 1000.0)
    code, data, _ = _verify(capsys, tmp_path)
    assert code == 0 and _checks(data)["other seeds in effect"]["figures"]["round"] == "v4.1"
    _tree(tmp_path / "noflag", "Offline", 1000.0, 1000.0, flag=False, seeds=V41)  # LoadGen 5.x ignored test05
    code, data, _ = _verify(capsys, tmp_path / "noflag")
    seeds = _checks(data)["other seeds in effect"]
    assert code == 1 and "did not log 'Test05 flag detected'" in seeds["reason"]
    assert (
        "qsl_rng_seed, sample_index_rng_seed, schedule_rng_seed of the compliance run are the submission run's"
        in (seeds["reason"])
    )
    v40 = dict(zip(test05.SEED_KEYS, test05.ROUND_SEEDS["v4.0"]["test05"], strict=True))
    _tree(tmp_path / "v40", "Offline", 1000.0, 1000.0, seeds=v40)  # another round's TEST05 seeds
    code, data, _ = _verify(capsys, tmp_path / "v40")
    assert code == 1 and "not round v4.1's TEST05 seeds" in _checks(data)["other seeds in effect"]["reason"]


def test_a_scenario_other_than_the_folders_fails(tmp_path: Path, capsys) -> None:
    _tree(tmp_path, "SingleStream", 1_000_000, 1_000_000)
    code, data, _ = _verify(capsys, tmp_path, "-s", "MultiStream")
    assert (
        code == 1
        and "the compliance run was made in SingleStream, not MultiStream" in _checks(data)["scenario"]["reason"]
    )


def test_the_audit_config_renders_the_test05_key() -> None:
    from compliance.auditconfig import render
    from compliance.plan import load_specs

    specs = load_specs(SHIPPED_SPECS)
    assert render(specs.tests["TEST05"], specs.models["resnet"], "Offline").splitlines()[-1] == "*.*.test05 = 1"
    assert specs.rounds["v4.1"].required["resnet"] == ("TEST01", "TEST04", "TEST05")


PUBLISHED_TEST05 = sorted(PUBLISHED.glob("v4.1/*/*/compliance/*/*/*/TEST05")) if PUBLISHED.is_dir() else []


@pytest.mark.skipif(not PUBLISHED_TEST05, reason="../shared/fixtures/published is not here")
@pytest.mark.parametrize("folder", PUBLISHED_TEST05, ids=lambda p: "/".join(p.parts[-5:-1]))
def test_published_test05_folders_pass_as_published(folder: Path, tmp_path: Path, capsys) -> None:
    system, bench, scenario = folder.parts[-4:-1]
    results = folder.parents[4] / "results" / system / bench / scenario
    assert "TEST PASS" in (folder / "verify_performance.txt").read_text()
    argv = ["verify", "TEST05", "-r", str(results), "-c", str(folder), "-o", str(tmp_path), "--model", bench]
    code = main([*argv, "--specs", str(SHIPPED_SPECS)])
    out = capsys.readouterr().out
    data = json.loads((tmp_path / "TEST05" / "verify.json").read_text())
    assert (code, data["verdict"], data["official_verdict"]) == (0, "PASS", "PASS"), out
    assert _checks(data)["other seeds in effect"]["figures"]["round"] == "v4.1"
    assert _checks(data)["scenario"]["outcome"] == "PASS"  # the folder's scenario (lower case or not) was compared
