"""The parts of review: the tree's layouts and scope, the round from the seeds, a benchmark folder's model, and the
facts read from each log (digest, records, truncation) in bounded memory."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from compliance.errors import InputError
from compliance.logs import memo
from compliance.plan import load_specs
from compliance.review import facts, models, seeds
from compliance.review.engine import Options, review
from compliance.review.tree import find_root, in_scope, walk
from compliance.verify.models import resolve
from tests.helpers import reviewtree as rt
from tests.helpers.logwriter import accuracy_entry, accuracy_log, detail_log, truncate
from tests.helpers.paths import SHIPPED_SPECS, write_tree

SPECS = load_specs(str(SHIPPED_SPECS))


# -- the tree ---------------------------------------------------------------------------------------------------


def test_root_is_found_from_any_folder_inside(tmp_path: Path) -> None:
    root = rt.write(tmp_path / "t", rt.honest())
    deep = root / rt.COMPLIANCE / "resnet" / "Offline" / "TEST01" / "performance"
    assert find_root(str(deep)) == str(root) and find_root(str(root)) == str(root)
    assert find_root(str(root / "closed")) == str(root)
    with pytest.raises(InputError, match="not inside a submission tree"):
        find_root(str(tmp_path))
    with pytest.raises(InputError, match="no such file or folder"):
        find_root(str(tmp_path / "nowhere"))


def test_both_layouts_lower_case_scenarios_and_the_other_division(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "closed": {
                "A": {
                    "compliance": {"s": {"resnet50": {"offline": {"TEST01": {"verify_accuracy.txt": ""}}}}},
                    "results": {
                        "s": {"resnet50": {"offline": {"performance": {"run_1": {}}}}},
                        "v6": {"resnet": {"Server": {"TEST04": {}, "accuracy": {}}}},
                    },
                },
                "B": {"compliance": {"s": {"bert-99": {"Offline": {"TEST01": {}}, "notes": {"TEST01": {}}}}}},
            },
            "open": {"B": {"results": {"s": {"bert-99": {"Offline": {"accuracy": {}}}}}}},
        },
    )
    cells = {c.key.label(): c for c in walk(str(tmp_path)).values()}
    v5 = cells["closed/A/s/resnet50/offline"]
    assert v5.key.scenario == "Offline" and set(v5.tests) == {"TEST01"} and v5.results_division is None
    assert v5.compliance_dir and v5.compliance_dir.endswith("compliance/s/resnet50/offline")
    v6 = cells["closed/A/v6/resnet/Server"]
    assert v6.compliance_dir == v6.results_dir and set(v6.tests) == {"TEST04"} and set(v6.runs) == {"accuracy"}
    moved = cells["closed/B/s/bert-99/Offline"]
    assert moved.results_division == "open" and moved.results_dir and "/open/B/results/" in moved.results_dir
    assert "closed/B/s/bert-99/notes" not in cells  # not a scenario: not a cell


def test_scope_is_a_folder_and_what_is_inside_it(tmp_path: Path) -> None:
    root = rt.write(tmp_path / "t", rt.honest())
    test01 = root / rt.COMPLIANCE / "resnet" / "Offline" / "TEST01"
    result = review(str(test01), SPECS, Options(jobs=1))
    assert [(r.test, r.kind) for r in result.records] == [("TEST01", "test")]
    result = review(str(root / rt.RESULTS / "resnet"), SPECS, Options(jobs=1))
    assert {r.key.scenario for r in result.records} == {"Offline", "Server"} and len(result.records) == 8
    cells = walk(str(root))
    assert sum(in_scope(c, str(root / "closed" / "Acme")) for c in cells.values()) == 3


def test_a_folder_with_nothing_to_review_is_said_so(tmp_path: Path) -> None:
    root = rt.write(tmp_path / "t", rt.honest())
    (root / "closed" / "Acme" / "systems").mkdir(exist_ok=True)
    with pytest.raises(InputError, match="systems: no TEST folder and no submission run to review there"):
        review(str(root / "closed" / "Acme" / "systems"), SPECS, Options(jobs=1))


def test_parallel_and_serial_reviews_agree(tmp_path: Path) -> None:
    root = rt.write(tmp_path / "t", rt.honest())
    one, two = (review(str(root), SPECS, Options(jobs=j)) for j in (1, 2))
    assert [(r.path, r.status, r.checks) for r in one.records] == [(r.path, r.status, r.checks) for r in two.records]


# -- the round ---------------------------------------------------------------------------------------------------

V51 = seeds.KNOWN["v5.1"]
V50 = seeds.KNOWN["v5.0"]


def test_the_round_is_told_by_the_seeds_and_says_so() -> None:
    decision = seeds.decide(None, [V51] * 40 + [(0, 0, 0)], seeds.KNOWN, ["v5.0", "v5.1"])
    assert decision.round == "v5.1" and decision.evidence == (
        "the seeds of v5.1 in 40 of 41 detail logs; 1 carry no known round's seeds"
    )
    assert seeds.decide(None, [V51] * 99 + [V50], seeds.KNOWN, ["v5.0", "v5.1"]).round == "v5.1"


@pytest.mark.parametrize(
    "seen, message",
    [
        ([(0, 0, 0)] * 3, "none of the 3 detail logs carries the seeds of a known round"),
        ([V51] * 10 + [V50] * 5, r"several rounds \(v5.1: 10, v5.0: 5\); say which with --round"),
        ([seeds.KNOWN["v6.1"]], "round v6.1 .* which has no round spec here"),
    ],
)
def test_the_round_is_refused_when_the_logs_do_not_tell(seen: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        seeds.decide(None, seen, seeds.KNOWN, ["v5.0", "v5.1"])


def test_a_tree_of_no_rounds_seeds_takes_the_round_of_its_system_specs() -> None:
    # the demo's runs carry LoadGen's default seeds: the round of the specs that made the tree decides, and says so
    specs = {"demo": SimpleNamespace(round="v5.0"), "other": SimpleNamespace(round="v5.1")}  # system specs
    fallback = seeds.of_specs(["demo", "unknown"], specs)
    assert fallback is not None and fallback.round == "v5.0"
    decision = seeds.decide(None, [(0, 0, 0)] * 3, seeds.KNOWN, ["v5.0", "v5.1"], fallback)
    assert decision.evidence == "the round of the system spec demo: no detail log carries a known round's seeds"
    assert seeds.decide(None, [V51] * 3, seeds.KNOWN, ["v5.0", "v5.1"], fallback).round == "v5.1"  # seeds first
    assert seeds.of_specs(["demo", "other"], specs) is None  # specs of two rounds decide nothing
    assert seeds.of_specs(["unknown"], specs) is None
    with pytest.raises(InputError, match="say which with --round"):
        seeds.decide(None, [(0, 0, 0)], seeds.KNOWN, ["v5.0", "v5.1"], seeds.of_specs(["demo", "other"], specs))


def test_round_given_wins_and_must_exist() -> None:
    assert seeds.decide("v5.0", [V51], seeds.KNOWN, ["v5.0"]).evidence == "given with --round"
    with pytest.raises(InputError, match="--round v9.9: no round spec"):
        seeds.decide("v9.9", [], seeds.KNOWN, ["v5.0"])


def test_seeds_of_the_round_spec_win_over_the_checker_table() -> None:
    class WithSeeds:
        seeds = {"qsl": 1, "sample_index": 2, "schedule": 3}

    table = seeds.table({"v5.1": WithSeeds()})  # type: ignore[dict-item]
    assert table["v5.1"] == (1, 2, 3) and table["v5.0"] == V50
    assert seeds.round_of(seeds.TEST05["v4.1"], table) == ("v4.1", True)


# -- a benchmark folder's model ------------------------------------------------------------------------------------


def test_the_tree_s_model_mapping_says_which(tmp_path: Path) -> None:
    write_tree(tmp_path, {"open": {"Org": {"model_mapping.json": '{"my-llm": "mixtral-8x7b"}'}}})
    mapping, path = models.read_mapping(str(tmp_path), "open", "Org")
    assert path == str(tmp_path / "open" / "Org" / "model_mapping.json")
    found = resolve(SPECS.models, "my-llm", (mapping["my-llm"],))
    assert (
        found.model is not None and found.model.name == "mixtral-8x7b" and "as the tree's 'mixtral-8x7b'" in found.note
    )
    assert models.read_mapping(str(tmp_path), "closed", "Org") == ({}, "")


# -- facts of each log ---------------------------------------------------------------------------------------------


def test_detail_facts_skip_long_lines_and_keep_what_review_compares(tmp_path: Path) -> None:
    text = detail_log(
        {"loaded_qsl_set": list(range(300_000)), "effective_scenario": "Offline", **rt.SEEDS},
        audit=True,
        errors=[("error_invalid_config", "Multiple conf files are used")],
    ).replace("\n", "\r\n")
    path = tmp_path / "mlperf_log_detail.txt"
    path.write_text(text, encoding="utf-8", newline="")
    got = facts.read_detail(str(path))
    assert got.skipped_long_lines == 1 and "loaded_qsl_set" not in got.values and not got.problem
    assert got.scenario == "Offline" and got.seeds == tuple(rt.SEEDS.values()) and got.audit_warning
    assert got.errors == ["error_invalid_config: Multiple conf files are used"]
    assert got.digest == "" and got.size == path.stat().st_size  # hashed only when asked
    assert facts.digest(got) == hashlib.sha256(path.read_bytes()).hexdigest() == got.digest


def test_detail_facts_name_a_file_that_is_no_detail_log(tmp_path: Path) -> None:
    for name, text, problem in (
        ("a", "", "empty file"),
        ("b", "hello\n:::MLLOG {}\n", "line 1 is not a ':::MLLOG {...}' record"),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert facts.read_detail(str(path)).problem.startswith(problem)


@pytest.mark.parametrize("crlf", [False, True])
def test_accuracy_facts_count_entries_and_see_truncation(tmp_path: Path, crlf: bool) -> None:
    whole = accuracy_log(accuracy_entry(i, i, "AB" * 40) for i in range(400))
    path = tmp_path / "mlperf_log_accuracy.json"
    path.write_text(whole, encoding="utf-8")
    got = facts.read_accuracy(str(path))
    assert (got.entries, got.truncated) == (400, False)
    path.write_text(truncate(whole, crlf=crlf), encoding="utf-8", newline="")
    assert facts.read_accuracy(str(path)).truncated


def test_the_cache_reads_a_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mlperf_log_summary.txt"
    path.write_text("Scenario : Offline\nResult is : VALID\n", encoding="utf-8")
    cache, calls = facts.FactCache(), []
    real = facts.READERS["mlperf_log_summary.txt"]
    monkeypatch.setitem(facts.READERS, "mlperf_log_summary.txt", lambda p: calls.append(p) or real(p))
    first, second = cache.get(str(path)), cache.get(str(path))
    assert first is second and len(calls) == 1 and first is not None and first.scenario == "Offline"
    assert cache.get(str(tmp_path / "mlperf_log_detail.txt")) is None  # not there


def test_a_memoized_reader_reads_a_file_once_within_a_scope(tmp_path: Path) -> None:
    calls: list[str] = []

    def reader(path: str | Path) -> list[str]:
        calls.append(str(path))
        return Path(path).read_text(encoding="utf-8").split()

    read = memo.memoized(reader)
    path = tmp_path / "log"
    path.write_text("a b\n", encoding="utf-8")
    assert read(path) is not read(path) and len(calls) == 2  # outside a scope nothing is kept
    with memo.scope():
        first = read(path)
        assert read(str(path)) is first and len(calls) == 3
        path.write_text("a b c d\n", encoding="utf-8")  # changed (size): read again
        assert read(path) == ["a", "b", "c", "d"] and len(calls) == 4
    with memo.scope():
        read(path)
    assert len(calls) == 5  # a new scope starts empty


def test_review_parses_each_log_once(tmp_path: Path) -> None:
    """Every detail log is opened twice at most (its digest, and the one parse that review's checks and every
    verification of its cell share), though TEST01 and TEST04 both read the submission's performance run."""
    root = rt.write(tmp_path / "t", rt.honest())
    opened: list[str] = []
    listening = [True]  # an audit hook cannot be removed: it stops listening after the review

    def hook(event: str, args: tuple) -> None:
        if listening[0] and event == "open" and str(args[0]).endswith("mlperf_log_detail.txt"):
            opened.append(str(args[0]))

    sys.addaudithook(hook)
    try:
        review(str(root), SPECS, Options(jobs=1))
    finally:
        listening[0] = False
    counts = {path: opened.count(path) for path in set(opened)}
    assert len(counts) == 11 and max(counts.values()) == 2
