"""Harness facts in the system spec: TEST01's comparison type and TEST06's tokens flow into the verifiers' options;
validate warns when a declared output type and the comparison disagree."""

from __future__ import annotations

from pathlib import Path

from compliance.cli import main
from compliance.plan import build_plan, load_specs
from compliance.verify.base import Request
from tests.helpers import logwriter as w
from tests.helpers.paths import write_tree

SEED = 720381539243781796
TEST01_EFFECTIVE = {
    "effective_accuracy_log_rng_seed": SEED,
    "effective_accuracy_log_sampling_target": 4096,
    "effective_test_mode": "PerformanceOnly",
}


def _system(specs: Path, facts: str) -> None:
    (specs / "systems" / "box.yaml").write_text(
        "name: box\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: sub\nbenchmarks:\n"
        "  resnet:\n    scenarios: [Offline]\n    workdir: work\n    command: ./run.sh {mode}\n    reference: {}\n"
        + "".join(f"    {line}\n" for line in facts.splitlines())
        + "  llama2-70b-99:\n    scenarios: [Offline]\n    workdir: work\n    command: ./run.sh {mode}\n"
        "    output_dtype: int64\n    tokens: {dtype: int64, eos_token_id: 128009}\n",
        encoding="utf-8",
    )


def _cell(specs: Path, test: str):
    plan = build_plan(load_specs(specs))
    return next(cp for cp in plan.cells if cp.cell.test == test)


def _float_classes(root: Path, wrong: bool) -> tuple[Path, Path]:
    """Submission runs and a TEST01 run of a float32 classifier; with ``wrong``, one logged class differs (3 -> 5)."""
    classes = {q: float(q % 10) for q in range(16)}
    acc = (w.accuracy_entry(i, q, w.hexdata([c], "<f")) for i, (q, c) in enumerate(classes.items()))
    res, comp = root / "res", root / "comp"
    write_tree(
        res,
        {
            "accuracy": {"mlperf_log_accuracy.json": w.accuracy_log(acc)},
            "performance": {
                "run_1": {
                    "mlperf_log_detail.txt": w.perf_detail("Offline", 1000.0),
                    "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
                }
            },
        },
    )
    logged = [3, 7, 12]
    perf = (
        w.accuracy_entry(i, q, w.hexdata([5.0 if wrong and q == 3 else classes[q]], "<f")) for i, q in enumerate(logged)
    )
    write_tree(
        comp,
        {
            "mlperf_log_detail.txt": w.perf_detail("Offline", 1000.0, audit=True, **TEST01_EFFECTIVE),
            "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
            "mlperf_log_accuracy.json": w.accuracy_log(perf),
        },
    )
    return res, comp


def _verify(cp, res: Path, comp: Path):
    return cp.verifier.verify(Request(cp.test, cp.model, comp, res, cp.cell.scenario, cp.options))


def test_a_float32_harness_comparing_bytes_gets_a_warning(specs_copy: Path, capsys) -> None:
    _system(specs_copy, "output_dtype: float32")
    assert main(["validate", "--specs", str(specs_copy)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "box.yaml:" in err[0] and "$.benchmarks.resnet.output_dtype: warning:" in err[0]
    assert "TEST01 compares their first byte" in err[0] and "set 'test01: {dtype: float32}'" in err[0]

    _system(specs_copy, "output_dtype: float32\ntest01: {dtype: float32}")
    assert main(["validate", "--specs", str(specs_copy)]) == 0
    assert capsys.readouterr().err == ""


def test_a_wrong_class_in_the_first_element_fails_test01_with_the_comparison_type_set(
    specs_copy: Path, tmp_path: Path
) -> None:
    res, comp = _float_classes(tmp_path, wrong=True)

    _system(specs_copy, "output_dtype: float32")
    byte = _cell(specs_copy, "TEST01")
    assert byte.options["dtype"] == "byte"
    official = _verify(byte, res, comp)
    # 3.0 and 5.0 have the same first byte (0): the official criterion passes; only our whole-output comparison sees it
    assert official.official_verdict == "PASS"

    _system(specs_copy, "output_dtype: float32\ntest01: {dtype: float32}")
    typed = _cell(specs_copy, "TEST01")
    assert typed.options["dtype"] == "float32"
    assert typed.verify_parts("x")["verifier options"] != byte.verify_parts("x")["verifier options"]  # re-verifies
    result = _verify(typed, res, comp)
    accuracy = next(c for c in result.checks if c.name == "accuracy")
    assert result.verdict == "FAIL" and not accuracy.passed
    assert accuracy.figures["first_element_mismatches"] == 1

    res_ok, comp_ok = _float_classes(tmp_path / "ok", wrong=False)
    assert _verify(typed, res_ok, comp_ok).verdict == "PASS"


def test_test06_takes_the_harness_tokens(specs_copy: Path) -> None:
    _system(specs_copy, "")
    cp = _cell(specs_copy, "TEST06")
    assert cp.options["dtype"] == "int64" and cp.options["eos_token_id"] == 128009
    assert cp.model.tokens is not None and cp.model.tokens.dtype == "int32"  # the model's defaults are unchanged
