"""Round data: the shipped rounds say what the checker's tables say (the drift of issue 21 is gone), the official
tables are read without running any code, and ``round-data`` finds a difference in a small fake checkout and none
when there is none. With a real checkout (``MLPERF_INFERENCE_CHECKOUT``) it reports no difference for the specs."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.plan import load_specs
from compliance.specs import loader, official
from tests.helpers.paths import SHIPPED_SPECS, write_tree

CHECKOUT_ENV = "MLPERF_INFERENCE_CHECKOUT"


@pytest.fixture(scope="module")
def shipped():
    return load_specs(SHIPPED_SPECS)


# -- the drift cases of issue 21, each on the shipped round data ---------------------------------------------------


@pytest.mark.parametrize(
    ("round_name", "model_name", "allowed"),
    [
        # bert-99.9 is an edge benchmark: SingleStream and Offline (validate refused SingleStream)
        ("v6.0", "bert-99.9", ("SingleStream", "Offline")),
        ("v6.1", "bert-99.9", ("SingleStream", "Offline")),
        # qwen3.6-27b is SingleStream only (the spec said Server, Offline, Interactive)
        ("v6.1", "qwen3.6-27b", ("SingleStream",)),
        # qwen3-vl-235b-a22b allows Interactive (optional)
        ("v6.0", "qwen3-vl-235b-a22b", ("Server", "Offline", "Interactive")),
        ("v6.1", "qwen3-vl-235b-a22b", ("Server", "Offline", "Interactive")),
        # e2e-rag-qna and e2e-rag-db are Offline only
        ("v6.1", "e2e-rag-qna", ("Offline",)),
        ("v6.1", "e2e-rag-db", ("Offline",)),
        # deepseek-r1 has an edge SingleStream in v5.1 (datacenter,edge), and none later
        ("v5.1", "deepseek-r1", ("SingleStream", "Server", "Offline")),
        ("v6.0", "deepseek-r1", ("Server", "Offline", "Interactive")),
    ],
)
def test_drift_cases_follow_the_checker(shipped, round_name: str, model_name: str, allowed: tuple[str, ...]) -> None:
    assert shipped.rounds[round_name].allowed_scenarios(model_name) == allowed


def test_deepseek_r1_singlestream_is_a_datacenter_edge_scenario_of_v51(shipped) -> None:
    tables = shipped.rounds["v5.1"].scenarios
    assert "SingleStream" in tables["datacenter,edge"]["deepseek-r1"].required
    assert "deepseek-r1" not in tables["edge"]


def test_e2e_rag_qna_test09_renders_no_performance_issue_unique(capsys) -> None:
    """As the official compliance/TEST09/e2e-rag-qna/audit.config; gpt-oss-120b's has it."""
    specs = ["--specs", str(SHIPPED_SPECS)]
    assert main(["audit-config", "TEST09", "--model", "e2e-rag-qna", "--scenario", "Offline", *specs]) == 0
    assert "performance_issue_unique" not in capsys.readouterr().out
    assert main(["audit-config", "TEST09", "--model", "gpt-oss-120b", "--scenario", "Offline", *specs]) == 0
    assert "*.*.performance_issue_unique = 1\n" in capsys.readouterr().out


#: the rounds whose tables this change wrote (v4.1 gets its tables from the lead: see the report of issue 21)
TABLED = ("v5.0", "v5.1", "v6.0", "v6.1")


def test_every_shipped_round_has_seeds_rules_and_tables(shipped) -> None:
    for rnd in (shipped.rounds[name] for name in TABLED):
        assert rnd.seeds is not None and rnd.rules is not None, rnd.name
        assert len(rnd.rules.commit) == 40 and rnd.rules.min_duration_ms == 600000, rnd.name
        for benchmark in rnd.required:
            assert rnd.allowed_scenarios(benchmark), (rnd.name, benchmark)
            assert benchmark in rnd.datasets, (rnd.name, benchmark)
    assert shipped.rounds["v6.1"].rules.min_query_count("qwen3.6-27b", "SingleStream") == 995
    assert shipped.rounds["v6.0"].rules.offline_min_samples_per_query["gpt-oss-120b"] == 6396


def test_model_scenarios_are_the_union_of_the_rounds(shipped) -> None:
    for model in shipped.models.values():
        rounds = [r for r in shipped.rounds.values() if model.name in r.required]
        union = {s for r in rounds for s in r.allowed_scenarios(model.name) or ()}
        assert set(model.scenarios) == union, model.name


# -- reading the checker without running it -------------------------------------------------------------------------


def test_literals_are_evaluated_and_nothing_else(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = textwrap.dedent(
        f"""
        import os
        TARGET = ("acc", 76.46 * 0.99, "F1", -(1 + 2) / 4)
        SEEDS = {{"qsl_rng_seed": 2085463073848966840, "tests": {{"TEST01", "TEST04"}}}}
        SIDE_EFFECT = open({str(marker)!r}, "w")
        COMPUTED = os.getcwd()
        LATER: int = 5
        """
    )
    values = official.literal_assignments(source)
    assert values["TARGET"] == ["acc", pytest.approx(75.6954), "F1", -0.75]
    assert values["SEEDS"] == {"qsl_rng_seed": 2085463073848966840, "tests": ["TEST01", "TEST04"]}
    assert values["LATER"] == 5
    assert "SIDE_EFFECT" not in values and "COMPUTED" not in values
    assert not marker.exists()


# -- a small fake checkout -------------------------------------------------------------------------------------------

CONSTANTS = """\
MODEL_CONFIG = {
    "v9.9": {
        "models": ["resnet", "bert-99"],
        "required-scenarios-datacenter": {"resnet": ["Server", "Offline"]},
        "optional-scenarios-datacenter": {},
        "required-scenarios-edge": {"resnet": ["SingleStream", "Offline"], "bert-99": ["SingleStream", "Offline"]},
        "optional-scenarios-edge": {},
        "required-scenarios-datacenter-edge": {"resnet": ["SingleStream", "Offline", "Server"]},
        "optional-scenarios-datacenter-edge": {},
        "accuracy-target": {"resnet": ("acc", 76.46 * 0.99), "bert-99": ("F1", 90.874 * 0.99)},
        "accuracy-upper-limit": {},
        "accuracy-delta-perc": {},
        "performance-sample-count": {"resnet": 1024, "bert-99": 10833},
        "accuracy-sample-count": {},
        "dataset-size": {"resnet": 50000, "bert-99": 10833},
        "seeds": {"qsl_rng_seed": 11, "sample_index_rng_seed": 22, "schedule_rng_seed": 33},
        "latency-constraint": {"resnet": {"Server": 15000000}},
        "min-queries": {"resnet": {"SingleStream": 1024, "Server": 270336, "Offline": 1}, "bert-99": {"Offline": 1}},
        "models_TEST01": ["resnet", "bert-99"],
        "models_TEST04": ["resnet"],
    },
}
TEST_DURATION_MS = 600000
OFFLINE_MIN_SPQ_SINCE_V4 = {"resnet": 24576, "bert-99": 10833}
ACC_PATTERN = {"acc": r"^accuracy=([\\d.]+)", "F1": r"^f1=([\\d.]+)"}
"""

TEST01_CONFIG = "*.*.mode = 2\n*.*.accuracy_log_rng_seed = 720381539243781796\n*.*.accuracy_log_sampling_target = {}\n"
TEST04_CONFIG = "".join(
    f"*.{s}.mode = 2\n*.{s}.performance_issue_unique = 0\n*.{s}.performance_issue_same = 1\n"
    f"*.{s}.performance_issue_same_index = 3\n"
    for s in ("SingleStream", "Offline", "Server")
)

TEST04_SPEC = """\
name: TEST04
title: No caching
audit:
  - scenarios: [SingleStream, Offline, Server]
    settings: {mode: 2, performance_issue_unique: 0, performance_issue_same: 1, performance_issue_same_index: 3}
"""

ROUND = """\
name: v9.9
test_dir: "{division}/{submitter}/results/{system}/{benchmark}/{scenario}/{test}"
results_dir: "{division}/{submitter}/results/{system}/{benchmark}/{scenario}"
seeds: {qsl: 11, sample_index: 22, schedule: 33}
benchmarks:
  resnet: [TEST01, TEST04]
  bert-99: [TEST01]
scenarios:
  datacenter:
    resnet: {required: [Server, Offline]}
  edge:
    resnet: {required: [SingleStream, Offline]}
    bert-99: {required: [SingleStream, Offline]}
  "datacenter,edge":
    resnet: {required: [SingleStream, Offline, Server]}
datasets:
  resnet: {size: 50000, performance_samples: 1024}
  bert-99: {size: 10833, performance_samples: 10833}
accuracy:
  resnet: {targets: {acc: 75.6954}}
  bert-99: {targets: {F1: 89.96526}}
performance_rules:
  commit: 0123456789abcdef0123456789abcdef01234567
  min_duration_ms: 600000
  min_queries:
    resnet: {SingleStream: 1024, Server: 270336, Offline: 1}
    bert-99: {Offline: 1}
  offline_min_samples_per_query: {resnet: 24576, bert-99: 10833}
  latency_constraints_ns: {resnet: {Server: 15000000}}
"""


def _model(name: str, scenarios: str, metric: str, pattern: str, aliases: str = "") -> str:
    return (
        f"name: {name}\n{aliases}scenarios: {scenarios}\n"
        "audit_params:\n  TEST01: {accuracy_log_sampling_target: 4096}\n"
        f"accuracy_metrics:\n  - {{name: {metric}, regex: '{pattern}', delta_percent: 1}}\n"
    )


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(a fake checkout, a specs folder whose round v9.9 says exactly what its checker says), the specs alone (not
    laid over the packaged rounds, models and tests)."""
    monkeypatch.setattr(loader, "packaged_specs", lambda: None)
    checkout = tmp_path / "inference"
    write_tree(
        checkout,
        {
            "tools": {"submission": {"submission_checker": {"constants.py": CONSTANTS}}},
            "compliance": {
                "TEST01": {
                    "resnet50": {"audit.config": TEST01_CONFIG.format(4096)},
                    "bert": {"audit.config": TEST01_CONFIG.format(4096)},
                    "rnnt": {"audit.config": TEST01_CONFIG.format(4096)},
                },
                "TEST04": {"audit.config": TEST04_CONFIG},
            },
        },
    )
    specs = tmp_path / "specs"
    write_tree(
        specs,
        {
            "rounds": {"v9.9.yaml": ROUND},
            "models": {
                "resnet.yaml": _model(
                    "resnet", "[SingleStream, Server, Offline]", "acc", r"^accuracy=([\d.]+)", "aliases: [resnet50]\n"
                ),
                "bert-99.yaml": _model("bert-99", "[SingleStream, Offline]", "F1", r"^f1=([\d.]+)"),
            },
            "systems": {},
            "tests": {},
        },
    )
    shutil.copy(SHIPPED_SPECS / "tests" / "TEST01.yaml", specs / "tests" / "TEST01.yaml")
    (specs / "tests" / "TEST04.yaml").write_text(TEST04_SPEC)
    return checkout, specs


def _round_data(capsys, checkout: Path, specs: Path, *extra: str) -> tuple[int, str]:
    code = main(["round-data", str(checkout), "--specs", str(specs), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_no_difference(fake, capsys) -> None:
    code, out = _round_data(capsys, *fake)
    assert code == 0, out
    assert out.splitlines()[-1] == "0 differences", out
    assert "note: TEST01/rnnt/audit.config: no model of the specs has that name, not compared" in out


def test_differences_are_found_and_named(fake, capsys) -> None:
    checkout, specs = fake
    constants = checkout / "tools/submission/submission_checker/constants.py"
    text = constants.read_text()
    text = text.replace('"bert-99": ["SingleStream", "Offline"]}', '"bert-99": ["SingleStream"]}')  # edge
    text = text.replace('"models_TEST04": ["resnet"]', '"models_TEST04": ["resnet", "bert-99"]')
    text = text.replace('"dataset-size": {"resnet": 50000', '"dataset-size": {"resnet": 50001')
    text = text.replace('ACC_PATTERN = {"acc": r"^accuracy=', 'ACC_PATTERN = {"acc": r"^acc=')
    text = text.replace('"schedule_rng_seed": 33', '"schedule_rng_seed": 34')
    constants.write_text(text)
    (checkout / "compliance/TEST01/bert/audit.config").write_text(TEST01_CONFIG.format(1024))
    code, out = _round_data(capsys, checkout, specs)
    assert code == 1, out
    for line in (
        "  scenarios.edge.bert-99.required: specs [SingleStream, Offline], checker [SingleStream]",
        "  benchmarks.bert-99: specs [TEST01], checker [TEST01, TEST04]",
        "  datasets.resnet.size: specs 50000, checker 50001",
        "  seeds.schedule: specs 33, checker 34",
        "  models.resnet.acc.regex: specs '^accuracy=([\\d.]+)', checker '^acc=([\\d.]+)'",
        "  TEST01 bert-99 Offline: accuracy_log_sampling_target: specs 4096, TEST01/bert/audit.config 1024",
        "  TEST01 bert-99 SingleStream: accuracy_log_sampling_target: specs 4096, TEST01/bert/audit.config 1024",
    ):
        assert any(out_line.startswith(line) for out_line in out.splitlines()), f"{line!r} not in\n{out}"
    assert out.splitlines()[-1] == "7 differences", out


def test_a_known_difference_is_told_apart(fake, capsys) -> None:
    checkout, specs = fake
    constants = checkout / "tools/submission/submission_checker/constants.py"
    constants.write_text(
        constants.read_text().replace(
            '"latency-constraint": {"resnet": {"Server": 15000000}}',
            '"latency-constraint": {"resnet": {"Server": 12000000}}',
        )
    )
    known = (
        "known_differences:\n  - at: [performance_rules, latency_constraints_ns, resnet, Server]\n"
        "    checker: {}\n    why: fixed after the deadline\n"
    )
    round_file = specs / "rounds/v9.9.yaml"
    round_file.write_text(ROUND + known.format(12000000))
    code, out = _round_data(capsys, checkout, specs)
    assert code == 0, out
    assert (
        "  known: performance_rules.latency_constraints_ns.resnet.Server: specs 15000000, checker 12000000 "
        "(fixed after the deadline)" in out
    )
    assert out.splitlines()[-1] == "0 differences (1 known, listed in the round specs)"
    round_file.write_text(ROUND + known.format(13000000))  # the checker says something else again: a difference
    code, out = _round_data(capsys, checkout, specs)
    assert code == 1
    assert "(listed as known with checker 13000000)" in out


def test_a_known_difference_of_a_model_metric(fake, capsys) -> None:
    """A model's TEST01 regex serves every round: a round whose checker had another one lists it as known."""
    checkout, specs = fake
    constants = checkout / "tools/submission/submission_checker/constants.py"
    constants.write_text(constants.read_text().replace('{"acc": r"^accuracy=', '{"acc": r"^acc='))
    known = "known_differences:\n  - at: [models, resnet, acc, regex]\n    checker: '^acc=([\\d.]+)'\n    why: older\n"
    (specs / "rounds/v9.9.yaml").write_text(ROUND + known)
    code, out = _round_data(capsys, checkout, specs)
    assert code == 0, out
    assert "  known: models.resnet.acc.regex: specs '^accuracy=([\\d.]+)', checker '^acc=([\\d.]+)' (older)" in out


def test_a_new_round_of_the_checker_is_a_difference(fake, capsys) -> None:
    checkout, specs = fake
    constants = checkout / "tools/submission/submission_checker/constants.py"
    constants.write_text(
        constants.read_text().replace("MODEL_CONFIG = {\n", 'MODEL_CONFIG = {\n    "v10.0": {"models": []},\n')
    )
    code, out = _round_data(capsys, checkout, specs)
    assert code == 1
    assert "  v10.0: in the checker, no specs/rounds/v10.0.yaml" in out
    code, out = _round_data(capsys, checkout, specs, "--round", "v9.9")
    assert code == 0, out


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({}, "no submission checker in it"),
        (
            {"tools": {"submission": {"submission_checker.py": "MODEL_CONFIG = make_config()\n"}}},
            "no MODEL_CONFIG literal",
        ),
        ({"tools": {"submission": {"submission_checker.py": "MODEL_CONFIG = {\n"}}}, "cannot be read as Python"),
    ],
)
def test_a_bad_checkout_is_bad_input(tmp_path: Path, capsys, tree: dict, message: str) -> None:
    write_tree(tmp_path / "co", tree)
    (tmp_path / "co").mkdir(exist_ok=True)
    code, out = _round_data(capsys, tmp_path / "co", SHIPPED_SPECS)
    assert code == 2
    assert message in out and "Traceback" not in out


def test_a_round_the_checker_lacks_is_bad_input(fake, capsys) -> None:
    checkout, _ = fake
    code, out = _round_data(capsys, checkout, SHIPPED_SPECS, "--round", "v6.0")
    assert code == 2
    assert "round v6.0 is not in" in out and "(it has v9.9)" in out
    code, out = _round_data(capsys, checkout, SHIPPED_SPECS, "--round", "v6.9")
    assert code == 2 and "unknown round 'v6.9'" in out


# -- the real checkout -----------------------------------------------------------------------------------------------


def test_the_shipped_specs_match_a_real_checkout(capsys) -> None:
    checkout = os.environ.get(CHECKOUT_ENV)
    if not checkout:
        pytest.skip(f"no checkout of mlcommons/inference given: set {CHECKOUT_ENV} to its root (docs/rounds.md)")
    code, out = _round_data(capsys, Path(checkout), SHIPPED_SPECS)
    assert code == 0, out
