"""The quick start as a user runs it: ``mlperf-compliance`` (doit's default task) in a fresh copy of the project runs
the demo, 17 cells PASS, and both submission trees hold what the checker requires. Then, on that build, in order:
the summary (through plain ``doit summary`` too), a second doit that runs nothing, edits that rerun exactly what
they touch, and doit's own commands (list, info, dumpdb, forget, clean) on our tasks.

The build is made once (a process of its own, as a user starts it); the later doit runs are in this process."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from compliance.verify import registry
from tests.helpers.checker import tree_problems
from tests.helpers.projects import DemoBuild, audit_configs, doit, doit_process, executed, summary_rows

V5, V6 = "build/submission-v5.0/closed/Demo", "build/submission-v6.0/closed/Demo"
TEST01_FILES = [  # the upload form (docs/rules.md §8.2): accuracy.txt with the log's hash, the log cut
    "accuracy/accuracy.txt",
    "accuracy/mlperf_log_accuracy.json",
    "performance/run_1/mlperf_log_detail.txt",
    "performance/run_1/mlperf_log_summary.txt",
    "verify.json",
    "verify_accuracy.txt",
    "verify_performance.txt",
]
TEST04_FILES = [
    "performance/run_1/mlperf_log_detail.txt",
    "performance/run_1/mlperf_log_summary.txt",
    "verify.json",
    "verify_performance.txt",
]
TEST06_FILES = ["accuracy/mlperf_log_accuracy.json", "verify.json", "verify_accuracy.txt"]


@pytest.fixture(scope="module")
def demo(demo_build: DemoBuild) -> Path:
    counted = "17 PASS; submission runs in the tree: 24 PASS; review: 2 PASS; pre-flight: 15 PASS"
    table = f"compliance table ({counted}): doit summary"
    assert table in demo_build.stdout
    return demo_build.project


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_demo_passes_and_each_tree_holds_what_the_checker_requires(demo: Path) -> None:
    v5 = sorted((demo / V5 / "compliance/demo").rglob("verify.json"))  # v5.x: TEST folders under compliance/
    v6 = sorted((demo / V6 / "results/demo-v6").rglob("verify.json"))  # v6.x: under results/
    assert len(v5) == 7 and len(v6) == 10
    assert all(json.loads(p.read_text())["verdict"] == "PASS" for p in v5 + v6)
    for tree, system, round_, cells in ((V5, "demo", "v5.0", 7), (V6, "demo-v6", "v6.0", 10)):
        count, problems = tree_problems(demo / tree.rsplit("/closed", 1)[0], "closed", "Demo", system, round_)
        assert count == cells and problems == []
    # each TEST folder holds exactly its test's files
    expected = {"TEST01": TEST01_FILES, "TEST04": TEST04_FILES, "TEST06": TEST06_FILES}
    for verdict in v5 + v6:
        folder = verdict.parent
        test = folder.name
        truncated = ["accuracy/accuracy.txt"] if test in ("TEST07", "TEST09") else []  # the hash line's
        wanted = expected.get(test) or sorted([*registry.get(test).files_in(folder), *truncated])
        assert _files(folder) == wanted, folder
        if test == "TEST01":
            assert "TEST PASS" in (folder / "verify_accuracy.txt").read_text().splitlines()
        if test == "TEST06":
            assert "EOS check pass: True" in (folder / "verify_accuracy.txt").read_text()
    # honest runs on real LoadGen: the official scripts agree, every sampled output matches, nothing to report
    for scenario in ("Offline", "SingleStream"):
        for test in ("TEST01", "TEST04"):
            data = json.loads((demo / V5 / f"compliance/demo/resnet/{scenario}/{test}/verify.json").read_text())
            assert data["official_verdict"] == "PASS" and data["findings"] == [], data
            if test == "TEST01":
                accuracy = next(c for c in data["checks"] if c["name"] == "accuracy")["figures"]
                assert accuracy["matched"] == accuracy["compliance_entries"] > 0
    # TEST07 scores the compliance run with the demo's accuracy script, on its 990-question set
    test07 = demo / V6 / "results/demo-v6/gpt-oss-120b/Offline/TEST07"
    checks = {c["name"]: c for c in json.loads((test07 / "verify.json").read_text())["checks"]}
    assert checks["compliance dataset covered"]["figures"]["samples"] == 990
    assert checks["audit config in effect"]["outcome"] == "PASS"
    assert 60.698 <= checks["accuracy score"]["figures"]["score"] < 75
    assert (test07 / "verify_accuracy.txt").read_text().rstrip().endswith("TEST PASS")
    assert (test07 / "accuracy/accuracy_output.txt").read_text().startswith("Total samples evaluated: 990")
    assert audit_configs(demo / "build") == [] and not list((demo / "build/work").rglob("audit.conf*"))
    assert (demo / "build" / ".doit.db").exists()


def test_the_summary_shows_every_cell_passing_with_its_figures(demo: Path) -> None:
    plain = doit_process(demo, "summary", "--format", "markdown")  # plain doit finds our command (entry point)
    assert plain.returncode == 0 and "| demo | resnet |" in plain.stdout
    assert (
        "17 cells: 17 PASS; submission runs in the tree: 24 PASS; review: 2 PASS; pre-flight: 15 PASS" in plain.stdout
    )
    rows = {(r["system"], r["benchmark"], r["scenario"], r["test"]): r for r in summary_rows(demo)}
    assert len(rows) == 17 + 24 + 2 and all(r["status"] == "PASS" for r in rows.values())
    # the review of each system's part of the tree: clean; what the upload form leaves cannot all be re-verified
    # (NOT CHECKABLE): TEST06's folders keep no detail log, TEST01's accuracy logs are truncated (3 folders); the
    # demo's runs apply no mlperf.conf, so their seeds are no round's (info)
    review = rows[("demo", "-", "-", "review")]
    assert review["figures"] == "17 folders reviewed: 12 PASS, 5 NOT CHECKABLE" and review["reason"] == ""
    assert {f["severity"] for r in ("demo", "demo-v6") for f in rows[(r, "-", "-", "review")]["findings"]} == {"info"}
    checks = summary_rows(demo, trees=True)  # and the pre-flight of each tree: 15 rows
    assert len(checks) == 17 + 24 + 2 + 15 and all(r["status"] == "PASS" for r in checks)
    figures = {key[3]: rows[key]["figures"] for key in rows if key[0] == "demo-v6"}
    assert figures["TEST07"] == "exact_match 69.596 >= 60.698; 990/990 samples"
    assert figures["TEST08"] == "NE mismatches 0/2200 matched (min 1100), 0 unmatched"
    assert figures["TEST09"] == "mean length 1277.93 in [1150.38, 1406.02], 6396/6396 samples"
    assert "100/100 samples" in rows[("demo", "llama2-70b-99", "Offline", "TEST06")]["figures"]


def test_a_second_doit_runs_nothing(demo: Path) -> None:
    again = doit(demo)
    assert again.returncode == 0 and executed(again) == set()
    assert re.search(r"^(\d+) tasks: 0 ran \(0 ok, 0 failed\), \1 up to date", again.stdout, re.M)


def test_edits_rerun_exactly_what_they_touch(demo: Path) -> None:
    perf_log = demo / "build/demo/resnet/Offline/reference/performance/run_1/mlperf_log_detail.txt"
    later = time.time() + 5
    os.utime(perf_log, (later, later))  # a new submission run: its cells re-verify, nothing runs
    assert executed(doit(demo)) == {
        "verify:demo/resnet/Offline/TEST01",
        "verify:demo/resnet/Offline/TEST04",
        "publish:demo/resnet/Offline/TEST01",
        "publish:demo/resnet/Offline/TEST04",
        "publish:demo/resnet/Offline/performance",  # its copy in the tree is of the log as it was
        "review:demo",  # the system's part of the tree changed
    }

    spec = demo / "specs/systems/demo-v6.yaml"
    text = spec.read_text()
    head, unet = text.split("  3d-unet-99:\n")
    spec.write_text(head + "  3d-unet-99:\n" + unet.replace('command: "{python}', 'command: "DEMO_FAULT= {python}', 1))
    edited = doit(demo)
    assert edited.returncode == 0 and "run:demo-v6/3d-unet-99/Offline/TEST01" in executed(edited)
    assert all(t.split(":", 1)[1].startswith("demo-v6/3d-unet-99/") or t == "review:demo-v6" for t in executed(edited))

    test04 = demo / "specs/tests/TEST04.yaml"
    test04.write_text(test04.read_text().replace("  tolerance: 0.10\n", "  tolerance: 0.12\n"))
    threshold = doit(demo)
    assert {t.split(":")[0] for t in executed(threshold)} == {"verify", "publish", "review"}
    assert {t.split(":", 1)[1] for t in executed(threshold)} == {
        f"{system}/resnet/{scenario}/TEST04"
        for system in ("demo", "demo-v6")
        for scenario in ("Offline", "SingleStream")
    } | {"demo", "demo-v6"}

    removed = demo / V6 / "results/demo-v6/resnet/Offline/TEST01/verify_accuracy.txt"
    removed.unlink()
    recopied = doit(demo)
    # the copy is the file as it was (its stamp too): the tree is as the review saw it, so it is not reviewed again
    assert executed(recopied) == {"publish:demo-v6/resnet/Offline/TEST01"} and removed.exists()


def test_doits_own_commands_work_on_our_tasks(demo: Path) -> None:
    listed = doit(demo, "list", "--all")
    for step in ("reference", "run", "verify", "publish"):
        assert f"{step}:demo/resnet/Offline/" in listed.stdout
    assert "review:demo " in listed.stdout and "review:demo-v6 " in listed.stdout
    for old in ("stage", "unstage", "audit"):  # the ids of release 0.1 still work
        assert f"{old}:demo/resnet/Offline/TEST01" in listed.stdout
    info = doit(demo, "info", "run:demo/resnet/Offline/TEST01")
    assert info.returncode == 0 and "status     : up-to-date" in info.stdout
    dumped = doit(demo, "dumpdb")  # read-only, on our SQLite database
    assert dumped.returncode == 0 and "run:demo/resnet/Offline/TEST01: " in dumped.stdout

    (demo / "build/demo/llama2-70b-99/Offline/TEST06/logs/.run.signature").unlink()
    info = doit(demo, "info", "run:demo/llama2-70b-99/Offline/TEST06")
    assert info.returncode == 1 and "the last run did not finish (interrupted)" in info.stdout  # says why
    cell = "demo/llama2-70b-99/Offline/TEST06"
    assert executed(doit(demo)) == {f"{step}:{cell}" for step in ("run", "verify", "publish")} | {"review:demo"}

    assert doit(demo, "forget", "run:demo-v6/llama2-70b-99/Server/TEST06").returncode == 0
    assert "run:demo-v6/llama2-70b-99/Server/TEST06" in executed(doit(demo))

    assert doit(demo, "clean", "verify:demo/llama2-70b-99/Server/TEST06").returncode == 0
    assert not (demo / "build/demo/llama2-70b-99/Server/TEST06/verify/TEST06/verify.json").exists()
    assert executed(doit(demo)) == {
        "verify:demo/llama2-70b-99/Server/TEST06",
        "publish:demo/llama2-70b-99/Server/TEST06",
        "review:demo",
    }
