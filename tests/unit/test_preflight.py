"""Pre-flight (compliance/review/preflight.py): an upload-ready tree passes whole; each rule pre-flight alone reports
fires on its defect (a case per rule, as test_review_rules.py has review's); the checkers asked for, the round from
the seeds, the command's outputs and exit statuses."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.plan import load_specs
from compliance.report.render import render
from compliance.review import chain, rules
from compliance.review.preflight import Options, Preflight, preflight, report
from compliance.submission import truncation
from tests.helpers import logwriter
from tests.helpers import reviewtree as rt
from tests.helpers.logwriter import accuracy_log, perf_detail, summary_log
from tests.helpers.paths import SHIPPED_SPECS

#: what the v5.1 checker requires of a closed run (specs/rounds/v5.1.yaml performance_rules, datasets)
RULES = {
    "effective_min_duration_ms": 600000,
    "effective_min_query_count": 1,
    "effective_performance_sample_count": 1024,
    "early_stopping_met": True,
}
SPQ = {"resnet": 24576, "llama2-70b-99": 24576}


def _ruled(files: dict[str, str]) -> dict[str, str]:
    """Every detail log with the round's performance settings, and each TEST01 in the tool's upload form."""
    out = dict(files)
    for path, text in files.items():
        if path.endswith("mlperf_log_detail.txt"):
            benchmark = path.split("/")[4]
            out[path] = rt.set_values(text, **{k: v for k, v in RULES.items() if f'"{k}"' in text})
            extra = {**RULES, "effective_samples_per_query": SPQ[benchmark]}
            out[path] = _add(out[path], {k: v for k, v in extra.items() if f'"{k}"' not in out[path]})
        if path.endswith("TEST01/accuracy/mlperf_log_accuracy.json"):
            out[path.replace("mlperf_log_accuracy.json", "accuracy.txt")] = truncation.appended(
                "", hashlib.sha256(text.encode()).hexdigest()
            )
    return out


def _add(text: str, values: dict[str, object], error: bool = False) -> str:
    """A detail log with records added before its last (num_errors)."""
    lines = text.splitlines()
    added = [logwriter._record(k, v, error=error) for k, v in values.items()]
    return "\n".join(lines[:-1] + added + lines[-1:]) + "\n"


def _user_files(files: dict[str, str]) -> dict[str, str]:
    """The submitter's files of the v5.x layout: accuracy.txt, measurements, user.conf, README.md, the code."""
    out = dict(files)
    for path in files:
        if path.endswith("/accuracy/mlperf_log_detail.txt") and "/results/" in path:
            out[path.replace("mlperf_log_detail.txt", "accuracy.txt")] = "accuracy = 99.0\n"
            scenario = path.split("/")[-3]
            measured = os.path.dirname(os.path.dirname(path)).replace("/results/", "/measurements/")
            out[f"{measured}/{rt.SYSTEM}_impl_{scenario}.json"] = "{}\n"
            out[f"{measured}/user.conf"] = "*.Offline.target_qps = 1\n"
            out[f"{measured}/README.md"] = "how\n"
            benchmark = path.split("/")[4]
            out[f"{rt.ORG}/code/{benchmark}/impl/README.md"] = "the code\n"
    return out


def upload_ready() -> dict[str, str]:
    return _user_files(_ruled(rt.honest()))


def _run(tmp_path: Path, files: dict[str, str], **options: object) -> Preflight:
    root = rt.write(tmp_path / "tree", files)
    given = {"round": rt.ROUND, **options}
    return preflight(str(root), load_specs(SHIPPED_SPECS), Options(**given))  # type: ignore[arg-type]


def _found(result: Preflight) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for r in result.records for f in r.findings]


def test_an_upload_ready_tree_passes_whole(tmp_path: Path) -> None:
    """Only the note that preprocess at b66003e cannot take a v5.x tree (C4: use the round's own commit)."""
    result = _run(tmp_path, upload_ready())
    assert [(rule, message[:3]) for rule, message in _found(result)] == [("official-defect", "C4:")]
    statuses = [(r.test, r.status) for r in result.records]
    assert statuses == [("upload", "PASS")] * 3 + [("system", "PASS"), ("tree", "PASS")]
    checks = {c["name"] for r in result.records for c in r.checks}
    assert {"tests", "performance rules (TEST01, modular checker)", "performance rules (TEST04, old checker)"} <= checks


def _resnet(path: str, scenario: str = "Offline", test: str = "TEST01") -> str:
    return f"{rt.COMPLIANCE}/resnet/{scenario}/{test}/{path}"


def _drop(name: str) -> Callable[[dict[str, str]], None]:
    return lambda files: files.pop(name)


def _set(name: str, **values: object) -> Callable[[dict[str, str]], None]:
    def change(files: dict[str, str]) -> None:
        files[name] = rt.set_values(files[name], **values)

    return change


def _put(name: str, text: str) -> Callable[[dict[str, str]], None]:
    def change(files: dict[str, str]) -> None:
        files[name] = text

    return change


DETAIL04 = _resnet("performance/run_1/mlperf_log_detail.txt", test="TEST04")
RESULTS_ACC = f"{rt.RESULTS}/resnet/Offline/accuracy"
#: a defect planted in the upload-ready tree -> (the rule, a word of its message, the cell it is about)
CASES: dict[str, tuple[Callable[[dict[str, str]], None], str, str]] = {
    "test-missing": (
        lambda files: [files.pop(k) for k in list(files) if "/resnet/Server/TEST04/" in k],
        "TEST04 is missing",
        "Server",
    ),
    "test-files-missing": (_drop(_resnet("verify_performance.txt", test="TEST04")), "modular checker", "Offline"),
    "old-checker-files": (_drop(_resnet("accuracy/accuracy.txt")), "must hold exactly", "Offline"),
    "verify-text-no-pass": (
        _put(_resnet("verify_performance.txt", test="TEST04"), "TEST FAIL\n"),
        "does not pass",
        "Offline",
    ),
    "benchmark-to-open": (_drop(_resnet("verify_performance.txt", test="TEST04")), "moves every scenario", "Server"),
    "performance-rule": (_set(DETAIL04, effective_min_duration_ms=60000), "min_duration 60000 ms", "Offline"),
    "loadgen-errors": (
        lambda files: files.__setitem__(DETAIL04, _add(files[DETAIL04], {"error_runtime": "Ending early"}, True)),
        "error_runtime: Ending early",
        "Offline",
    ),
    "fallback-out-of-delta": (
        lambda files: files.update(
            {
                _resnet("verify_accuracy.txt"): rt.verify_accuracy_test01(64, 32, verdict="TEST FAIL"),
                _resnet("accuracy/baseline_accuracy.txt"): "accuracy=76.000%\n",
                _resnet("accuracy/compliance_accuracy.txt"): "accuracy=70.000%\n",
            }
        ),
        "TEST01's fallback",
        "Offline",
    ),
    "accuracy-hash-mismatch": (_put(f"{RESULTS_ACC}/accuracy.txt", f"acc\nhash={'0' * 64}\n"), "records", "Offline"),
    "user-file-missing": (_drop(f"{RESULTS_ACC}/accuracy.txt"), "accuracy.txt", "Offline"),
    "truncation-pending": (
        _put(f"{RESULTS_ACC}/mlperf_log_accuracy.json", accuracy_log(logwriter.test07_entries(range(200)))),
        "is not cut",
        "Offline",
    ),
}


def _record(result: Preflight, scenario: str):  # type: ignore[no-untyped-def]
    return next(r for r in result.records if r.key.benchmark == "resnet" and r.key.scenario_folder == scenario)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_its_defect(rule: str, tmp_path: Path) -> None:
    plant, words, scenario = CASES[rule]
    files = upload_ready()
    plant(files)
    result = _run(tmp_path, files)
    record = _record(result, scenario)
    fired = [f for f in record.findings if f.rule == rule]
    assert fired and words in fired[0].message, _found(result)
    assert fired[0].severity is rules.RULES[rule].severity and fired[0].rests_on
    if rules.RULES[rule].severity.value == "error":
        assert record.status == "FAIL"


def test_every_preflight_rule_has_a_case() -> None:
    """The rules only pre-flight reports: a case here (or below); review's in test_review_rules.py."""
    own = {r.id for r in rules.RULES.values() if rules.PREFLIGHT in r.used_by}
    below = {"file-too-large", "name-refused", "official-defect", "performance-rules-off"}
    assert own == set(CASES) | below


def test_test01s_fallback_passes_with_its_files_within_the_deltas(tmp_path: Path) -> None:
    """Without TEST PASS in verify_accuracy.txt the checkers read the fallback's files: within the deltas, it passes;
    without them, the folder fails (verify-text-no-pass, with the files the checker wants)."""
    files = upload_ready()
    files[_resnet("verify_accuracy.txt")] = rt.verify_accuracy_test01(64, 32, verdict="TEST FAIL")
    files[_resnet("accuracy/baseline_accuracy.txt")] = "accuracy=76.000%\n"
    files[_resnet("accuracy/compliance_accuracy.txt")] = "accuracy=76.100%\n"
    result = _run(tmp_path / "a", files)
    assert _record(result, "Offline").status == "PASS", _found(result)
    files.pop(_resnet("accuracy/baseline_accuracy.txt"))
    result = _run(tmp_path / "b", files)
    message = next(m for r, m in _found(result) if r == "verify-text-no-pass")
    assert "does not pass and the fallback's" in message and "baseline_accuracy.txt" in message


def test_a_withdrawn_test_takes_the_whole_benchmark_to_open(tmp_path: Path) -> None:
    files = upload_ready()
    for name in [k for k in files if "/resnet/Server/TEST04/" in k]:
        files.pop(name)
    result = _run(tmp_path, files)
    for scenario in ("Offline", "Server"):
        message = next(f.message for f in _record(result, scenario).findings if f.rule == "benchmark-to-open")
        assert message == "resnet fails the checkers in Server TEST04: preprocess moves every scenario to open"
    llama = next(r for r in result.records if r.key.benchmark == "llama2-70b-99")
    assert llama.status == "PASS"


def test_sizes_and_names(tmp_path: Path) -> None:
    files = upload_ready()
    files[f"{rt.COMPLIANCE}/resnet/Offline/TEST04/.notes"] = "x"
    files[f"{rt.ORG}/code/resnet/my file.py"] = "x"
    root = rt.write(tmp_path / "tree", files)
    big = root / rt.COMPLIANCE / "llama2-70b-99/Offline/TEST06/accuracy/mlperf_log_accuracy.json"
    os.truncate(big, chain.SIZE_LIMIT + 1)  # sparse: 50 MiB and a byte, never written
    os.symlink("README.md", root / rt.ORG / "code/resnet/link.md")
    result = preflight(str(root), load_specs(SHIPPED_SPECS), Options(rt.ROUND))
    found = _found(result)
    assert ("file-too-large", f"{big.relative_to(root)} is 50.0 MiB") in found
    names = sorted(m for r, m in found if r == "name-refused")
    assert names == [
        f"{rt.ORG}/code/resnet/link.md is a symbolic link",
        f"{rt.ORG}/code/resnet/my file.py is a file name with a space",
        f"{rt.COMPLIANCE}/resnet/Offline/TEST04/.notes is a hidden file (its name starts with '.')",
    ]


def test_a_results_log_over_50_mib_is_the_truncations_once_accuracy_txt_is_there(tmp_path: Path) -> None:
    files = upload_ready()
    files.pop(f"{RESULTS_ACC}/accuracy.txt")
    root = rt.write(tmp_path / "tree", files)
    os.truncate(root / RESULTS_ACC / "mlperf_log_accuracy.json", chain.SIZE_LIMIT + 1)
    result = preflight(str(root), load_specs(SHIPPED_SPECS), Options(rt.ROUND))
    pending = [m for r, m in _found(result) if r == "truncation-pending"]
    assert pending == [
        f"{RESULTS_ACC}/mlperf_log_accuracy.json (50.0 MiB) is over 50 MiB until accuracy.txt is added "
        "and the truncation cuts it"
    ]
    assert "file-too-large" not in {r for r, _ in _found(result)}


def _v6_tree() -> dict[str, str]:
    """A v6.0 tree with gpt-oss-120b's TEST07 and TEST09 and dlrm-v3's TEST08 (the crashes of preprocess)."""
    seeds = {
        "effective_qsl_rng_seed": 2465351861681999779,
        "effective_sample_index_rng_seed": 14276810075590677512,
        "effective_schedule_rng_seed": 3936089224930324775,
    }
    files: dict[str, str] = {}
    for benchmark, tests in (("gpt-oss-120b", ("TEST07", "TEST09")), ("dlrm-v3", ("TEST08",))):
        cell = f"closed/Acme/results/sys1/{benchmark}/Offline"
        for test in tests:
            detail = perf_detail("Offline", 10.0, audit=True, **seeds, effective_min_duration_ms=0)
            files[f"{cell}/{test}/performance/run_1/mlperf_log_detail.txt"] = detail
            files[f"{cell}/{test}/performance/run_1/mlperf_log_summary.txt"] = summary_log("Offline", 10.0)
            files[f"{cell}/{test}/accuracy/mlperf_log_accuracy.json"] = accuracy_log([])
            name = "verify_output_len.txt" if test == "TEST09" else "verify_accuracy.txt"
            files[f"{cell}/{test}/{name}"] = "TEST PASS\n"
        files[f"{cell}/accuracy/mlperf_log_detail.txt"] = perf_detail("Offline", 1.0)
        files[f"{cell}/performance/run_1/mlperf_log_detail.txt"] = perf_detail("Offline", 10.0)
    return files


def test_the_official_chains_known_defects_are_warnings_with_what_to_do(tmp_path: Path) -> None:
    result = _run(tmp_path, _v6_tree(), round="v6.0")
    defects = sorted(
        (f.path.split("/")[-1], f.message[:3])
        for r in result.records
        for f in r.findings
        if f.rule == "official-defect"
    )
    assert defects == [("TEST07", "C1:"), ("TEST07", "C2:"), ("TEST08", "C1:"), ("TEST08", "C2:"), ("TEST09", "C2:")]
    c1 = next(f for r in result.records for f in r.findings if f.message.startswith("C1:"))
    assert "NotImplemented" in c1.message and "do not preprocess the tree with this benchmark" in c1.message
    only_modular = _run(tmp_path / "m", _v6_tree(), round="v6.0", checkers=(chain.MODULAR,))
    assert not [f for r in only_modular.records for f in r.findings if f.rule == "official-defect"]


def test_a_v5_tree_is_told_that_preprocess_at_head_cannot_take_it(tmp_path: Path) -> None:
    files = upload_ready()
    result = _run(tmp_path, files, round="v5.0", checkers=(chain.OLD,))
    c4 = [f.message for r in result.records for f in r.findings if f.rule == "official-defect"]
    assert len(c4) == 1 and c4[0].startswith("C4:") and "c0b60cdb" in c4[0]


def test_performance_rules_off_is_said(tmp_path: Path) -> None:
    files = upload_ready()
    _set(DETAIL04, effective_min_duration_ms=1000)(files)
    result = _run(tmp_path, files, performance_rules=False)
    assert {r for r, _ in _found(result)} == {"performance-rules-off", "official-defect"}  # C4: the tree's
    assert all(r.status == "PASS" for r in result.records)


def test_the_round_is_told_from_the_seeds_or_refused(tmp_path: Path) -> None:
    root = rt.write(tmp_path / "tree", upload_ready())
    found = preflight(str(root), load_specs(SHIPPED_SPECS), Options())
    assert found.round == "v5.1"
    for name in [p for p in root.rglob("mlperf_log_detail.txt") if "TEST" in str(p)]:
        name.write_text(rt.set_values(name.read_text(), effective_qsl_rng_seed=1))
    with pytest.raises(InputError):
        preflight(str(root), load_specs(SHIPPED_SPECS), Options())
    with pytest.raises(InputError, match="--checker nosuch"):
        preflight(str(root), load_specs(SHIPPED_SPECS), Options("v5.1", ("nosuch",)))


def test_every_output_format_renders_the_report(tmp_path: Path) -> None:
    files = upload_ready()
    files.pop(f"{RESULTS_ACC}/accuracy.txt")
    result = _run(tmp_path, files)
    document = json.loads(render(report(result), "json"))
    assert document["meta"]["round"] == "v5.1" and len(document["records"]) == 5
    for fmt in ("table", "markdown", "html", "junit", "github"):
        assert "user-file-missing" in render(report(result), fmt)


def test_the_command_exits_0_clean_1_with_findings_2_on_bad_input(tmp_path: Path) -> None:
    from compliance.cli import main

    root = rt.write(tmp_path / "tree", upload_ready())
    assert main(["preflight", str(root), "--round", rt.ROUND, "--specs", str(SHIPPED_SPECS)]) == 0
    (root / RESULTS_ACC / "accuracy.txt").unlink()
    args = ["preflight", str(root), "--round", rt.ROUND, "--specs", str(SHIPPED_SPECS)]
    assert main(args) == 0  # a warning
    assert main([*args, "--severity", "warning"]) == 1
    assert main([*args, "--round", "v0.0"]) == 2
    out = tmp_path / "report.json"
    assert main([*args, "--format", "json", "-o", str(out)]) == 0 and json.loads(out.read_text())["records"]


# -- the official checker's log, and its task on a copy (a fake checkout: scripts written here) -----------------------

CHECKER_LOG = """\
[2026-12-07 19:05:29,867 performance_check.py:120 ERROR] /x/tree/closed/Acme/results/box/resnet/Offline/performance/run_1/mlperf_log_detail.txt does not have all required scenarios
[2026-12-07 19:05:29,868 compliance_check.py:140 ERROR] Missing TEST04 in compliance dir /x/tree/closed/Acme/compliance/box/resnet/Server
ERROR:main:closed/Acme/results/box/resnet does not have all required scenarios, missing {'SingleStream'}
[2026-12-07 19:05:29,882 main.py:230 INFO] Results /x/tree/closed/Acme/results/box/resnet/Offline/performance/run_1/mlperf_log_detail.txt 1000.0
[2026-12-07 19:05:29,882 main.py:236 ERROR] NoResults /x/tree/closed/Acme/results/box/resnet/Server/performance/run_1/mlperf_log_detail.txt
[2026-12-07 19:05:29,883 main.py:236 ERROR] NoResults /x/tree/closed/Acme/results/box/resnet/ServerX/performance/run_1
"""  # noqa: E501


def test_the_checkers_verdict_per_cell_from_its_log() -> None:
    from compliance.review.checker_log import CellPlace, verdicts

    places = [CellPlace("closed", "Acme", "box", "resnet", s) for s in ("Offline", "Server", "SingleStream")]
    found = verdicts(CHECKER_LOG, places, 1)
    offline, server, single = (found[p] for p in places)
    assert offline.status == "PASS" and len(offline.messages) == 2  # its own, and its benchmark's coverage
    assert server.status == "FAIL" and server.messages[0].startswith("Missing TEST04 in compliance dir")
    assert single.status == "NOT CHECKABLE" and single.why.startswith("no verdict for this cell")


FAKE_TRUNCATE = """\
import argparse, pathlib
a = argparse.ArgumentParser(); a.add_argument("--input"); a.add_argument("--submitter"); a.add_argument("--backup")
args = a.parse_args()
(pathlib.Path(args.input) / "TRUNCATED-HERE").write_text("the copy, not the tree")
print("INFO:main:truncated")
"""
FAKE_CHECKER = """\
import sys
tree = sys.argv[sys.argv.index("--input") + 1]
print(f"[t main.py:1 ERROR] {tree}/closed/Acme/results/box/resnet/Offline/accuracy/accuracy.txt missing")
print(f"[t main.py:2 ERROR] NoResults {tree}/closed/Acme/results/box/resnet/Offline/performance/run_1")
print(f"[t main.py:2 INFO] Results {tree}/closed/Acme/results/box/retinanet/Offline/performance/run_1 12.0")
sys.exit(1)
"""


def test_the_checker_task_runs_the_named_checkout_on_a_copy_and_records_each_cells_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from compliance import records
    from compliance.pipeline import session, upload
    from compliance.specs.types import Upload
    from tests.helpers import officialchain
    from tests.helpers import pipeline as p

    monkeypatch.chdir(tmp_path)
    tools = tmp_path / "inference/tools/submission"
    tools.mkdir(parents=True)
    (tools / "truncate_accuracy_log.py").write_text(FAKE_TRUNCATE)
    (tools / "submission_checker.py").write_text(FAKE_CHECKER)
    checkout = str(tmp_path / "inference")
    system = replace(p.system("box", "v5.0", p.bench("resnet"), p.bench("retinanet")), upload=Upload(True, checkout))
    plan = p.plan(system)
    monkeypatch.setattr(session, "load_plan", lambda: plan)
    monkeypatch.setattr(session, "requested", lambda: {session.OUTCOME})
    [tp] = plan.trees
    assert tp.checkouts == (checkout,)
    rt.write(tmp_path / "submission", {"closed/Acme/results/box/resnet/Offline/accuracy/mlperf_log_detail.txt": "x"})
    before = officialchain.snapshot("submission")
    done = upload.run_checker(tp, checkout)
    assert officialchain.snapshot("submission") == before  # never the tree itself
    assert (Path(tp.files.official(checkout)) / "tree/TRUNCATED-HERE").exists()
    found, bad = records.read_tree_check(tp.files.official_record(checkout))
    assert not bad and found is not None
    rows = {(r.benchmark, r.status): r for r in found.rows}
    assert set(rows) == {("resnet", "FAIL"), ("retinanet", "PASS")}
    assert rows[("resnet", "FAIL")].reason.endswith("resnet/Offline/accuracy/accuracy.txt missing")
    assert done == {"outcome": "FAIL", "reason": "1 row does not pass (doit summary)"}
    (tools / "truncate_accuracy_log.py").unlink()  # not a checkout any more: said, nothing run
    upload.run_checker(tp, checkout)
    found, _ = records.read_tree_check(tp.files.official_record(checkout))
    assert found is not None and found.problem.endswith("(no tools/submission/truncate_accuracy_log.py)")


def test_the_command_takes_round_and_performance_rules_from_the_tree_systems_specs(tmp_path: Path) -> None:
    """A tree of the user's own system (a demo, a dry run: LoadGen's default seeds, runs of seconds): the command
    takes the round of its system spec and the spec's upload.performance_rules, as the pipeline's pre-flight does."""
    from compliance.cli import main
    from tests.helpers.projects import make_project, system_yaml

    files = upload_ready()
    _set(DETAIL04, effective_min_duration_ms=1000)(files)
    root = rt.write(tmp_path / "tree", files)
    for name in [p for p in root.rglob("mlperf_log_detail.txt")]:
        name.write_text(rt.set_values(name.read_text(), effective_qsl_rng_seed=0, effective_sample_index_rng_seed=0))
    args = ["preflight", str(root), "--format", "json", "-o", str(tmp_path / "out.json")]
    bench = {"resnet": {"scenarios": ["Offline"]}}
    strict = make_project(tmp_path / "strict", {rt.SYSTEM: system_yaml(rt.SYSTEM, rt.ROUND, bench)})
    spec = strict / "specs" / "systems" / f"{rt.SYSTEM}.yaml"
    spec.write_text(spec.read_text().replace("upload: {performance_rules: false}", ""), encoding="utf-8")
    assert main([*args, "--specs", str(strict / "specs")]) == 1  # held to the checker's rules: 1 s is too short
    document = json.loads((tmp_path / "out.json").read_text())
    assert document["meta"]["round"] == rt.ROUND and "system spec sys1" in document["meta"]["round_evidence"]
    demo = make_project(tmp_path / "demo", {rt.SYSTEM: system_yaml(rt.SYSTEM, rt.ROUND, bench)})
    assert main([*args, "--specs", str(demo / "specs")]) == 0
    rules_found = {f["rule"] for r in json.loads((tmp_path / "out.json").read_text())["records"] for f in r["findings"]}
    assert "performance-rules-off" in rules_found
    assert main([*args, "--specs", str(SHIPPED_SPECS)]) == 2  # no spec of the tree's system: the round is asked for
