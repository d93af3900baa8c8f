"""TEST01: outputs of a performance run equal the accuracy run's; performance within tolerance (docs/rules.md §2.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compliance import layout
from compliance.errors import PathPart
from compliance.logs import LogError
from compliance.report.measure import Measure
from compliance.specs import schemacheck
from compliance.specs.facts import DTYPE_SIZES
from compliance.specs.types import BenchmarkRun, Model, TestSpec
from compliance.verify import official, render, scoring
from compliance.verify.base import Option, Request, Verifier
from compliance.verify.checks import compare, evidence, fallback, inputs, performance, runs
from compliance.verify.result import Cause, Check, Outcome, Result

CHECK_ACCURACY = "accuracy"
CHECK_FULL_OUTPUT = "accuracy (full output)"
ACCURACY_CHECKS = (
    inputs.CHECK_LOGS,
    evidence.CHECK_APPLIED,
    evidence.CHECK_CLEAN_REFERENCES,
    runs.CHECK_MODES,
    runs.CHECK_SCENARIO,
    CHECK_ACCURACY,
    CHECK_FULL_OUTPUT,
    fallback.CHECK_FALLBACK,
)
PERFORMANCE_CHECKS = (
    inputs.CHECK_LOGS,
    inputs.CHECK_AGREE,
    evidence.CHECK_APPLIED,
    evidence.CHECK_CLEAN_REFERENCES,
    runs.CHECK_MODES,
    runs.CHECK_SCENARIO,
    performance.CHECK_RUNS,
    performance.CHECK_SCORE,
)
#: what a lower Server target QPS does to TEST01's performance comparison (review.md §2)
LOWER_TARGET = (
    "a compliance run at a lower target completes fewer samples per second than its target allows, and the "
    "±10% window on throughput holds by construction (the comparison says little)"
)


REFERENCE_RUNS = ("accuracy", "performance")


def harness_options(run: BenchmarkRun) -> dict[str, Any]:
    """The comparison type a benchmark's spec gives (``test01: {dtype: ...}``), over the model's."""
    return {"dtype": run.test01_dtype} if run.test01_dtype is not None else {}


def harness_check(run: BenchmarkRun, model: Model) -> tuple[list[PathPart], str] | None:
    """A warning where the harness writes multi-byte outputs and TEST01 compares their first byte: its official
    criterion compares the first element under its dtype, so ``byte`` on a multi-byte output compares the first byte
    only (0 for every small float32 class id: docs/rules.md §3, item 1)."""
    output = run.output_dtype
    compare = run.test01_dtype or model.dtype
    if output is None or compare != "byte" or DTYPE_SIZES[output] <= 1:
        return None
    what = (
        # little-endian: byte 0 is the low byte of the mantissa, 0 for whole numbers below 65536 (float32)
        "that byte is 0 for every whole number below 65536 (a class id, say), so a wrong first value passes"
        if output.startswith("float")
        else "a first value that differs above its lowest byte passes"
    )
    source = "the model's default" if run.test01_dtype is None else "this benchmark's test01.dtype"
    return (
        ["test01", "dtype"] if run.test01_dtype else ["output_dtype"],
        f"warning: the harness writes {output} outputs, but TEST01 compares their first byte ({source}, byte): "
        f"{what}; set 'test01: {{dtype: {output}}}' on this benchmark",
    )


def resolve(test: TestSpec, model: Model | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """dtype: given, else the model's, else the model schema's default (the official script's ``byte``);
    strict: given (command line, system spec), else the test spec's threshold; the accuracy command (and its
    environment and timeout: the benchmark's) as given (command line, system spec), else none: no fallback."""
    dtype = given.get("dtype") or (model.dtype if model else schemacheck.default("model", "test01", "dtype"))
    strict = given.get("strict")
    return {
        "dtype": dtype,
        "strict": test.thresholds.strict_accuracy if strict is None else bool(strict),
        "accuracy_command": given.get("accuracy_command") or None,
        "accuracy_env": dict(given.get("accuracy_env") or {}),
        "accuracy_timeout_s": given.get("accuracy_timeout_s") or scoring.DEFAULT_TIMEOUT_S,
    }


def verify(request: Request) -> Result:
    """Verify a TEST01 compliance run against the submission's accuracy and performance runs.

    ``request.results_dir`` is the submission's scenario folder (``accuracy/`` and ``performance/run_1/``); with a
    model every audit setting is checked, not only the model-independent ones. Options: ``dtype`` (element type of
    the first-element comparison), ``strict`` (fail when outputs differ after their first element),
    ``accuracy_command`` (with ``accuracy_env``, ``accuracy_timeout_s``): when the first elements differ, the
    non-deterministic fallback (:mod:`compliance.verify.checks.fallback`) decides the accuracy part; without a
    command, a published fallback's texts beside the compliance log are checked (:func:`fallback.from_texts`).

    Truncated accuracy logs (as every published one is) are compared as far as their whole entries go: a mismatch
    among them fails, else the comparison is NOT CHECKABLE; performance, evidence and cleanliness are checked.

    Raises:
        InputError: a required file is missing or unreadable.
    """
    test, model, dtype, strict = request.test, request.model, request.options["dtype"], request.options["strict"]
    results, paths = inputs.compared_logs(request, REFERENCE_RUNS)
    result = Result("TEST01", model=model.name if model else None, inputs=dict(paths))
    result.settings = {
        "dtype": dtype,
        "strict": strict,
        "tolerance": test.thresholds.tolerance,
        "relaxed_tolerance": test.thresholds.relaxed_tolerance,
    }
    comp = inputs.detail(paths["compliance_detail"], result)
    inputs.summary_complete(paths["compliance_summary"], result, comp)
    ref_perf = inputs.detail(paths["reference_performance_detail"], result)
    ref_acc = inputs.accuracy_run_detail(results, result)
    result.scenario = comp.scenario if comp else None
    if comp is not None:
        result.add(evidence.check_applied(comp, test, model))
    references = {label: log for label, log in (("accuracy", ref_acc), ("performance", ref_perf)) if log is not None}
    result.add(evidence.references_clean(references))
    logs = {"compliance": comp, "submission performance": ref_perf, "submission accuracy": ref_acc}
    inputs.log_errors(result, logs)

    official_accuracy = _accuracy(result, paths, dtype, strict)
    official_accuracy = _fallback(request, result, paths) or official_accuracy
    official_performance = official.test01_performance(ref_perf, comp)
    if comp is not None and ref_perf is not None:
        comparable = result.add(performance.runs_comparable(ref_perf, comp))
        if comparable.passed:
            result.add(performance.within_tolerance(ref_perf, comp, test.thresholds))
        runs.note_target_qps(result, ref_perf, comp, LOWER_TARGET, performance.CHECK_SCORE)
    runs.add_run_checks(result, request.scenario, references, logs)
    result.official_verdict = "PASS" if official_accuracy[0] == official_performance[0] == "PASS" else "FAIL"
    result.official_notes = [
        f"accuracy: {official_accuracy[0]} ({official_accuracy[1]})",
        f"performance: {official_performance[0]} ({official_performance[1]})",
    ]
    return result


def _fallback(request: Request, result: Result, paths: dict[str, str]) -> tuple[str, str] | None:
    """TEST01 Part III when the outputs differ (or cannot all be compared): by the accuracy command when one is
    given, else from a published fallback's texts when the TEST folder has them; the official procedure's accuracy
    verdict when it was made, else None."""
    accuracy = result.check(CHECK_ACCURACY)
    if accuracy is None:
        return None
    cmd = fallback.command(request.options, "TEST01", request.model, result.scenario, request.runner)
    if cmd is not None:
        if not _only_first_elements_differ(accuracy):
            return None
        passed, official_part3 = fallback.run(
            result,
            request.model,
            cmd,
            paths["reference_accuracy_log"],
            paths["compliance_accuracy_log"],
            request.scratch_dir,
        )
    else:
        texts = fallback.published_texts(paths["compliance_accuracy_log"])
        if texts is None:
            return None
        if accuracy.outcome is Outcome.PASS:
            result.note(
                f"{texts[0].parent} holds a fallback's accuracy texts though the outputs compared equal: the checker "
                "reads them only when the comparison fails",
                fallback.CHECK_FALLBACK,
            )
            return None
        if not (_only_first_elements_differ(accuracy) or accuracy.outcome is Outcome.NOT_CHECKABLE):
            return None
        passed = fallback.from_texts(result, request.model, request.model_name, texts)
        official_part3 = ("PASS" if passed else "FAIL", "Part III: the checker reads the published accuracy texts")
    # Part III decides (docs/rules.md §2.1): when the accuracy command ran, a failing fallback gives the reason
    if (passed is not False or cmd is not None) and accuracy.outcome is Outcome.FAIL:
        accuracy.outcome = Outcome.SKIPPED
        accuracy.reason += " (outputs differ: the non-deterministic fallback decides)"
    return official_part3


def _only_first_elements_differ(check: Check) -> bool:
    """The first-element comparison failed only because outputs differ (TEST01 Part III's case)."""
    f = check.figures
    return check.outcome is Outcome.FAIL and f.get("first_element_mismatches", 0) > 0 and not f.get("invalid", 1)


def _accuracy(result: Result, paths: dict[str, str], dtype: str, strict: bool) -> tuple[str, str]:
    """Add the accuracy checks and findings; return the official script's accuracy verdict."""
    try:
        cmp = compare.compare(paths["reference_accuracy_log"], paths["compliance_accuracy_log"], dtype)
    except LogError as exc:
        result.add(Check(CHECK_ACCURACY, Outcome.FAIL, str(exc)))
        return "FAIL", "json.load or np.frombuffer fails on the logs"
    figures = {
        k: getattr(cmp, k)
        for k in (
            "dtype",
            "compliance_entries",
            "reference_entries",
            "matched",
            "missing",
            "duplicate_keys",
            "duplicate_mismatches",
            "first_element_mismatches",
            "strict_mismatches",
            "invalid",
            "reference_truncated",
        )
    }
    figures["examples"] = cmp.examples
    figures["compliance_truncated"] = cmp.compliance_truncated
    problems = []
    if cmp.invalid:
        problems.append(f"{cmp.invalid} entries cannot be compared as {dtype}")
    if cmp.first_element_mismatches:
        problems.append(
            f"{cmp.first_element_mismatches} of {cmp.matched} entries differ from the accuracy run "
            f"in their first element ({dtype})"
        )
    if cmp.matched == 0 and cmp.complete:
        problems.append(
            f"none of the {cmp.compliance_entries} compliance entries has a counterpart in the accuracy run's log"
        )
    if problems and cmp.truncated:
        problems.append(f"among the whole entries that survive truncation ({_truncated_logs(cmp)})")
    if problems and cmp.examples:
        problems.append("e.g. " + cmp.examples[0])
    result.add(_outcome(CHECK_ACCURACY, problems, cmp, figures, "equal in their first element"))
    differ = f"{cmp.strict_mismatches} entries have the same first element but a different output"
    if strict:
        strict_problems = [differ] if cmp.strict_mismatches else []
        result.add(
            _outcome(CHECK_FULL_OUTPUT, strict_problems, cmp, {"strict_mismatches": cmp.strict_mismatches}, "equal")
        )
    elif cmp.strict_mismatches:
        result.note(
            differ + " (the official check compares the first element only; --strict makes this fail)", CHECK_ACCURACY
        )
    if cmp.missing and not cmp.reference_truncated:
        result.note(
            f"{cmp.missing} compliance entries have a qsl_idx absent from the accuracy run's log", CHECK_ACCURACY
        )
    if cmp.duplicate_mismatches:
        result.note(
            f"the accuracy run's log repeats {cmp.duplicate_keys} qsl_idx, {cmp.duplicate_mismatches} of them "
            "with a different output (among the compared samples)",
            CHECK_ACCURACY,
        )
    if cmp.truncated and cmp.complete:
        result.note(
            f"{_truncated_logs(cmp)}, yet every compliance entry survives in it whole and was compared", CHECK_ACCURACY
        )
    return cmp.official


def _truncated_logs(cmp: compare.Comparison) -> str:
    which = [
        label
        for label, cut in (
            ("the compliance run's", cmp.compliance_truncated),
            ("the accuracy run's", cmp.reference_truncated),
        )
        if cut
    ]
    return f"{' and '.join(which)} accuracy log{'s are' if len(which) > 1 else ' is'} truncated"


def _outcome(name: str, problems: list[str], cmp: compare.Comparison, figures: dict[str, Any], same: str) -> Check:
    """FAIL with the problems; NOT CHECKABLE when entries could not be compared (a truncated log); else PASS."""
    if problems:
        return Check(name, Outcome.FAIL, "; ".join(problems), figures)
    if cmp.complete:
        return Check(name, Outcome.PASS, "", figures)
    survive = (
        f"{cmp.compliance_entries} whole compliance entries survive"
        if cmp.compliance_truncated
        else f"of the compliance run's {cmp.compliance_entries} entries"
    )
    compared = (
        f"{cmp.matched} could be compared ({same}); the others cannot be checked from these logs"
        if cmp.matched
        else "none can be compared from these logs"
    )
    reason = f"{_truncated_logs(cmp)} (the submission tools keep the first and last 4 KiB): {survive}, {compared}"
    return Check(name, Outcome.NOT_CHECKABLE, reason, figures, cause=Cause.TRUNCATED_LOG)


# -- rendering -----------------------------------------------------------------------------------------------------


def _accuracy_text(result: Result) -> str:
    """verify_accuracy.txt: the official script's lines; ``TEST PASS`` only when the accuracy checks pass."""
    check = result.check(CHECK_ACCURACY)
    f = check.figures if check else {}
    lines = [
        "Verifying accuracy. This might take a while...",
        "Reading accuracy mode results...",
        "Reading performance mode results...",
    ]
    if "matched" in f:
        strict = result.check(CHECK_FULL_OUTPUT)
        mismatches = f["first_element_mismatches"] + f["invalid"] + (f["strict_mismatches"] if strict else 0)
        lines += [
            f"num_acc_log_entries = {f['reference_entries']}",
            f"num_acc_log_duplicate_keys = {f['duplicate_keys']}",
            f"num_acc_log_data_mismatch = {f['duplicate_mismatches']}",
            f"num_perf_log_entries = {f['compliance_entries']}",
            f"num_perf_log_qsl_idx_match = {f['matched']}",
            f"num_perf_log_data_mismatch = {mismatches}",
            f"num_missing_qsl_idxs = {f['missing']}",
        ]
    part3 = result.check(fallback.CHECK_FALLBACK)
    verdict = render.verdict_lines(result, ACCURACY_CHECKS)
    if verdict[0] == "TEST PASS" and part3 is None:
        return "\n".join(lines + ["TEST PASS", ""]) + "\n"
    # With the fallback the outputs differ: Part II fails (the checker then reads TEST01/accuracy/, and would
    # skip it on a 'TEST PASS' line: docs/rules.md §2.1), and the fallback's verdict follows. Part II of truncated
    # logs is not checkable: neither line is one the checker accepts.
    unknown = check is not None and check.outcome is Outcome.NOT_CHECKABLE
    lines.append("TEST NOT CHECKABLE" if unknown or (part3 is None and "NOT CHECKABLE" in verdict[0]) else "TEST FAIL")
    if part3 is not None:
        word = {Outcome.PASS: "PASS (fallback)", Outcome.NOT_CHECKABLE: "NOT CHECKABLE"}.get(part3.outcome, "FAIL")
        lines += ["", f"Non-deterministic fallback (TEST01 Part III): {word}"]
        for name, m in part3.figures.get("metrics", {}).items():
            delta = f", delta {m['delta_percent']:.4f}%" if "delta_percent" in m else ""
            values = f"baseline {m['baseline']}, compliance {m['compliance']}"
            lines.append(f"  {name}: {values}{delta} (allowed {m['allowed']:g}%)")
    if verdict[0] == "TEST PASS":
        return "\n".join(lines) + "\n"
    reasons = [
        f"reason: {scoring.neutralised(line.removeprefix('TEST FAIL: ').removeprefix('TEST NOT CHECKABLE: ').strip())}"
        for line in verdict
    ]
    return "\n".join(lines + ["", *reasons]) + "\n"


def _render(result: Result) -> dict[str, str]:
    return {
        layout.VERIFY_ACCURACY: _accuracy_text(result),
        layout.VERIFY_PERFORMANCE: render.performance_text(result, PERFORMANCE_CHECKS, upper_case=True),
    }


def _figures(data: Mapping[str, Any]) -> str:
    checks = {c["name"]: c for c in data.get("checks", [])}
    parts = []
    accuracy = checks.get(CHECK_ACCURACY, {}).get("figures", {})
    if "matched" in accuracy:
        bad = accuracy["first_element_mismatches"] + accuracy["invalid"]
        parts.append(f"{bad}/{accuracy['matched']} mismatched")
    part3 = checks.get(fallback.CHECK_FALLBACK)
    if part3 is not None:
        word = "PASS (fallback)" if part3["outcome"] != Outcome.FAIL.value else "fallback FAIL"
        parts.append(f"{word}: {fallback.summary(part3.get('figures', {}))}".rstrip(": "))
    parts.append(performance.figures(checks))
    return "; ".join(p for p in parts if p)


def _measures(data: Mapping[str, Any]) -> tuple[Measure, ...]:
    checks = {c["name"]: c for c in data.get("checks", [])}
    part3 = checks.get(fallback.CHECK_FALLBACK, {})
    return fallback.measures(part3.get("figures", {})) + performance.measures(checks)


def _check_detail(check: Check) -> str:
    f = check.figures
    if check.name == CHECK_ACCURACY and "matched" in f:
        return (
            f"{f['compliance_entries']} entries, {f['matched']} matched, "
            f"{f['first_element_mismatches']} first-element mismatches ({f['dtype']})"
        )
    if check.name == fallback.CHECK_FALLBACK:
        return "PASS (fallback): " + fallback.summary(f)
    return performance.check_detail(check)


VERIFIER = Verifier(
    name="TEST01",
    summary="outputs in performance mode equal the accuracy run's; performance within 10%",
    reference_runs=REFERENCE_RUNS,
    needs_scenario=False,
    text_files=(layout.VERIFY_ACCURACY, layout.VERIFY_PERFORMANCE),
    copies=inputs.RUN_COPIES,
    options=(
        Option(
            "dtype",
            "--dtype",
            "output element type (default: the model's, else byte)",
            choices=tuple(sorted(compare.DTYPES)),
        ),
        Option("strict", "--strict", "fail when outputs differ after their first element", switch=True),
        Option(
            "accuracy_command",
            "--accuracy-command",
            "when outputs differ, score both logs with this command (placeholders {accuracy_log}, {output_file}, "
            "{python}; needs --model) and pass within the model's accuracy delta (TEST01 Part III)",
            type=scoring.check_template,
        ),
    ),
    resolve=resolve,
    verify=verify,
    render=_render,
    figures=_figures,
    measures=_measures,
    check_detail=_check_detail,
    optional_files=fallback.FILES,
    harness_options=harness_options,
    harness_check=harness_check,
)
