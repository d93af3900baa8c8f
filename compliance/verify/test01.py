"""TEST01: outputs of a performance run equal the accuracy run's; performance within tolerance (domain.md 2.1)."""

from __future__ import annotations

from pathlib import Path

from compliance.logs import LogError
from compliance.spectypes import Model, TestSpec
from compliance.verify import accuracy, evidence, inputs, layout, official, performance
from compliance.verify.result import Check, Outcome, Result

CHECK_ACCURACY = "accuracy"
CHECK_FULL_OUTPUT = "accuracy (full output)"
ACCURACY_CHECKS = (inputs.CHECK_LOGS, evidence.CHECK_APPLIED, evidence.CHECK_CLEAN_REFERENCES, CHECK_ACCURACY,
                   CHECK_FULL_OUTPUT)
PERFORMANCE_CHECKS = (inputs.CHECK_LOGS, evidence.CHECK_APPLIED, evidence.CHECK_CLEAN_REFERENCES,
                      performance.CHECK_RUNS, performance.CHECK_SCORE)


def verify(results_dir: str | Path, compliance_dir: str | Path, test: TestSpec, model: Model | None,
           dtype: str, strict: bool) -> Result:
    """Verify a TEST01 compliance run against the submission's accuracy and performance runs.

    Args:
        results_dir: the submission's scenario folder, holding ``accuracy/`` and ``performance/run_1/``.
        compliance_dir: the compliance run's LoadGen output folder.
        test: the TEST01 spec (thresholds, audit settings).
        model: the benchmark, when known: all audit settings are then checked, not only model-independent ones.
        dtype: element type for the first-element comparison.
        strict: fail when outputs differ after their first element.

    Raises:
        InputError: a required file is missing or unreadable.
    """
    results = inputs.submission_folder(results_dir)
    comp_dir = inputs.compliance_folder(compliance_dir)
    paths = {
        **inputs.reference_logs(results, "TEST01"),
        "compliance_detail": inputs.required(comp_dir / layout.DETAIL),
        "compliance_summary": inputs.required(comp_dir / layout.SUMMARY),
        "compliance_accuracy_log": inputs.required(comp_dir / layout.ACCURACY),
    }
    result = Result("TEST01", model=model.name if model else None, inputs=dict(paths))
    result.settings = {"dtype": dtype, "strict": strict, "tolerance": test.thresholds.tolerance,
                       "relaxed_tolerance": test.thresholds.relaxed_tolerance}
    comp = inputs.detail(paths["compliance_detail"], result)
    inputs.summary_complete(paths["compliance_summary"], result)
    ref_perf = inputs.detail(paths["reference_performance_detail"], result)
    acc_detail_path = results / "accuracy" / layout.DETAIL
    ref_acc = inputs.detail(str(acc_detail_path), result) if acc_detail_path.is_file() else None
    if ref_acc is None and not acc_detail_path.is_file():
        result.note("the accuracy run's detail log is missing: its freedom from audit.config was not checked")
    result.scenario = comp.scenario if comp else None
    if comp is not None:
        result.add(evidence.check_applied(comp, test, model))
    references = {label: log for label, log in (("accuracy", ref_acc), ("performance", ref_perf)) if log is not None}
    result.add(evidence.references_clean(references))
    inputs.log_errors(result, {"compliance": comp, "submission performance": ref_perf, "submission accuracy": ref_acc})

    official_accuracy = _accuracy(result, paths, dtype, strict)
    official_performance = official.test01_performance(ref_perf, comp)
    if comp is not None and ref_perf is not None:
        runs = result.add(performance.runs_comparable(ref_perf, comp))
        if runs.passed:
            result.add(performance.within_tolerance(ref_perf, comp, test.thresholds))
    result.official_verdict = "PASS" if official_accuracy[0] == official_performance[0] == "PASS" else "FAIL"
    result.official_notes = [f"accuracy: {official_accuracy[0]} ({official_accuracy[1]})",
                             f"performance: {official_performance[0]} ({official_performance[1]})"]
    return result


def _accuracy(result: Result, paths: dict[str, str], dtype: str, strict: bool) -> tuple[str, str]:
    """Add the accuracy checks and findings; return the official script's accuracy verdict."""
    try:
        cmp = accuracy.compare(paths["reference_accuracy_log"], paths["compliance_accuracy_log"], dtype)
    except LogError as exc:
        result.add(Check(CHECK_ACCURACY, Outcome.FAIL, str(exc)))
        return "FAIL", "json.load or np.frombuffer fails on the logs"
    figures = {k: getattr(cmp, k) for k in ("dtype", "compliance_entries", "reference_entries", "matched", "missing",
                                            "duplicate_keys", "duplicate_mismatches", "first_element_mismatches",
                                            "strict_mismatches", "invalid", "reference_truncated")}
    figures["examples"] = cmp.examples
    problems = []
    if cmp.invalid:
        problems.append(f"{cmp.invalid} entries cannot be compared as {dtype}")
    if cmp.first_element_mismatches:
        problems.append(f"{cmp.first_element_mismatches} of {cmp.matched} entries differ from the accuracy run "
                        f"in their first element ({dtype})")
    if cmp.matched == 0:
        problems.append(f"none of the {cmp.compliance_entries} compliance entries has a counterpart in the accuracy "
                        "run's log" + (" (it is truncated)" if cmp.reference_truncated else ""))
    if problems and cmp.examples:
        problems.append("e.g. " + cmp.examples[0])
    result.add(Check(CHECK_ACCURACY, Outcome.FAIL if problems else Outcome.PASS, "; ".join(problems), figures))
    differ = f"{cmp.strict_mismatches} entries have the same first element but a different output"
    if strict:
        result.add(Check(CHECK_FULL_OUTPUT, Outcome.FAIL if cmp.strict_mismatches else Outcome.PASS,
                         differ if cmp.strict_mismatches else "", {"strict_mismatches": cmp.strict_mismatches}))
    elif cmp.strict_mismatches:
        result.note(differ + " (the official check compares the first element only; --strict makes this fail)",
                    CHECK_ACCURACY)
    if cmp.missing:
        result.note(f"{cmp.missing} compliance entries have a qsl_idx absent from the accuracy run's log", CHECK_ACCURACY)
    if cmp.duplicate_mismatches:
        result.note(f"the accuracy run's log repeats {cmp.duplicate_keys} qsl_idx, {cmp.duplicate_mismatches} of them "
                    "with a different output (among the compared samples)", CHECK_ACCURACY)
    if cmp.reference_truncated:
        result.note("the accuracy run's log is truncated (as the submission tools leave it): only the entries "
                    "before and after the cut were compared", CHECK_ACCURACY)
    return cmp.official
