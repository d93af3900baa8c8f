"""The verifier registry and the launcher table: adding a test or a launcher is its module and one line.

A throwaway verifier registers itself and is then used by the specs check, the verify command, the plan and the
summary figures without any other change; an unknown test is an error, never another verifier.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from compliance import layout
from compliance.cli import main
from compliance.errors import UnknownName
from compliance.pipeline import launch
from compliance.plan import build_plan, load_specs
from compliance.specs import schemacheck
from compliance.specs.types import Model, TestSpec
from compliance.verify import registry
from compliance.verify.base import Check, Option, Request, Verifier
from compliance.verify.result import Outcome, Result

TEST99_SPEC = """name: TEST99
title: A throwaway test
audit:
  - settings:
      mode: 2
"""


def _verify(request: Request) -> Result:
    result = Result(
        "TEST99", scenario=request.scenario, inputs={"compliance_detail": str(request.compliance_dir / layout.DETAIL)}
    )
    ok = request.options["answer"] == 42
    result.add(
        Check(
            "answer",
            Outcome.PASS if ok else Outcome.FAIL,
            "" if ok else "not 42",
            {"answer": request.options["answer"]},
        )
    )
    result.official_verdict = result.verdict
    return result


def _resolve(test: TestSpec, model: Model | None, given: Mapping[str, Any]) -> dict[str, Any]:
    return {"answer": given.get("answer") if given.get("answer") is not None else 42}


TEST99 = Verifier(
    name="TEST99",
    summary="answers 42 (100% of the time)",
    reference_runs=(),
    needs_scenario=True,
    text_files=("verify_answer.txt",),
    copies={"performance/run_1/mlperf_log_detail.txt": "compliance_detail"},
    options=(Option("answer", "--answer", "the answer", type=int),),
    resolve=_resolve,
    verify=_verify,
    render=lambda r: {"verify_answer.txt": "TEST PASS\n" if r.verdict == "PASS" else "TEST FAIL\n"},
    figures=lambda d: f"answer {d['checks'][0]['figures']['answer']}",
    check_detail=lambda c: "",
)


def test_unknown_test_is_an_error_never_another_verifier() -> None:
    with pytest.raises(
        UnknownName, match="no verifier for .TEST10.*it verifies TEST01, TEST04, TEST05, TEST06, TEST07"
    ):
        registry.get("TEST10")


def test_a_throwaway_verifier_is_used_everywhere_once_registered(specs_copy: Path, tmp_path: Path, capsys) -> None:
    (specs_copy / "tests" / "TEST99.yaml").write_text(TEST99_SPEC)
    with pytest.raises(Exception, match="no verifier for TEST99"):  # the specs check reads the registry
        load_specs(specs_copy)
    comp = tmp_path / "comp"
    comp.mkdir()
    (comp / layout.DETAIL).write_text(":::MLLOG {}\n")
    with registry.registered(TEST99):
        specs = load_specs(specs_copy)  # now valid
        assert "TEST99" in specs.tests
        args = [
            "verify",
            "TEST99",
            "-c",
            str(comp),
            "-o",
            str(tmp_path / "out"),
            "-s",
            "Offline",
            "--specs",
            str(specs_copy),
        ]
        assert main(args) == 0
        folder = tmp_path / "out" / "TEST99"
        assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
            "performance/run_1/mlperf_log_detail.txt",
            "verify.json",
            "verify_answer.txt",
        ]
        assert main([*args, "--answer", "41"]) == 1  # its own option, from the command line
        assert json.loads((folder / "verify.json").read_text())["checks"][0]["reason"] == "not 42"
        assert main(["verify", "--help"]) == 0 and "answers 42 (100% of the time)" in capsys.readouterr().out
        assert TEST99.figures(json.loads((folder / "verify.json").read_text())) == "answer 41"
    assert "TEST99" not in registry.names()


def test_a_round_requiring_a_registered_test_gets_cells(specs_copy: Path) -> None:
    (specs_copy / "tests" / "TEST99.yaml").write_text(TEST99_SPEC)
    rnd = specs_copy / "rounds" / "v5.0.yaml"
    rnd.write_text(rnd.read_text().replace("  gptj-99: []", "  gptj-99: [TEST99]"))
    (specs_copy / "systems" / "box.yaml").write_text(
        "name: box\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: sub\nbenchmarks:\n"
        "  gptj-99:\n    scenarios: [Offline]\n    workdir: w\n    command: run {mode}\n    reference: {}\n"
    )
    with registry.registered(TEST99):
        plan = build_plan(load_specs(specs_copy))
    [cell] = plan.cells
    assert cell.cell.id == "box/gptj-99/Offline/TEST99" and cell.options == {"answer": 42}
    assert plan.references == []  # TEST99 compares with no submission run
    assert [Path(f).name for f in cell.tree_files] == ["verify_answer.txt", "verify.json", "mlperf_log_detail.txt"]


def test_launcher_kinds_of_the_schema_are_the_table() -> None:
    schema = schemacheck.schema("system")
    assert sorted(schema["$defs"]["launcher"]["properties"]["kind"]["enum"]) == sorted(launch.LAUNCHERS)
    assert schemacheck.default("system", "launcher") == {"kind": "local"}
    with pytest.raises(UnknownName, match="unknown launcher 'lokal' \\(did you mean 'local'\\?\\)"):
        launch.get("lokal")
