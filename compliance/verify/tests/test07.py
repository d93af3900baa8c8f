"""TEST07: accuracy in performance mode over the whole compliance dataset reaches the threshold (docs/rules.md §2.4).

What is checked, beyond the official run_verification.py (its defects 7.1-7.18 in docs/rules.md §2.4): the audit
settings were in effect (detail log); the accuracy log holds every sample of the compliance dataset exactly once
and nothing else (the count from the model spec: 990 for gpt-oss-120b); the benchmark's accuracy command ran on it
and exited 0; its score, the last line matching the model's first metric, is at least the threshold of the model's
audit_params (60.698 for gpt-oss-120b; no option lowers it). The command's output goes to
``accuracy/accuracy_output.txt`` (not ``accuracy.txt``: the official truncation writes that file anew in TEST07,
docs/rules.md §8.1), never into ``verify_accuracy.txt``, and whatever of it is quoted there is neutralised, so it
cannot forge the ``TEST PASS`` the submission checker looks for.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from collections.abc import Mapping
from typing import Any

from compliance import layout
from compliance.errors import InputError
from compliance.logs import LogError
from compliance.logs.accuracy import AccuracyLog, HexField
from compliance.report.measure import Measure
from compliance.specs.types import Model, TestSpec
from compliance.verify import official, render, scoring
from compliance.verify.base import Option, Request, Verifier
from compliance.verify.checks import evidence, fallback, inputs, tokens
from compliance.verify.result import Cause, Check, Outcome, Result

CHECK_SAMPLES = "compliance dataset covered"
CHECK_SCORE = "accuracy score"
CHECKS = (inputs.CHECK_LOGS, inputs.CHECK_AGREE, evidence.CHECK_APPLIED, CHECK_SAMPLES, CHECK_SCORE)
OUTPUT_TEXT = "accuracy/accuracy_output.txt"  # accuracy.txt is the truncation's (docs/rules.md §8.1)
THRESHOLD_KEY = "test07_accuracy_threshold"
SEPARATOR = "=" * 80


def resolve(test: TestSpec, model: Model | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """The accuracy command (with its environment and timeout) as given; the threshold and the sample count from
    the model spec (never from an option: defect 7.4)."""
    params = model.audit_params.get(test.name, {}) if model else {}
    return {
        "accuracy_command": given.get("accuracy_command") or None,
        "accuracy_env": dict(given.get("accuracy_env") or {}),
        "accuracy_timeout_s": given.get("accuracy_timeout_s") or scoring.DEFAULT_TIMEOUT_S,
        "threshold": params.get(THRESHOLD_KEY),
        "samples": model.test07_samples if model else None,
    }


def verify(request: Request) -> Result:
    """Verify a TEST07 compliance run (options: ``accuracy_command``; ``threshold`` and ``samples`` resolved).

    Raises:
        InputError: a required file is missing or unreadable, or no model (its threshold and dataset size) is given.
    """
    test, model, options = request.test, request.model, request.options
    threshold, samples = options.get("threshold"), options.get("samples")
    if model is None or threshold is None or samples is None or not model.metrics:
        name = f"the model spec of {model.name}" if model else "TEST07"
        raise InputError(
            f"{name}: TEST07 needs the model's threshold (audit_params.TEST07.{THRESHOLD_KEY}), its compliance "
            "dataset size (test07.samples) and its accuracy metric (accuracy_metrics); give --model"
        )
    comp_dir = inputs.compliance_folder(request.compliance_dir)
    # all three are required: the official script copies the summary and detail logs only if present (7.9); from
    # LoadGen's output folder or where a published TEST folder keeps them (performance/run_1/, accuracy/)
    paths = inputs.compliance_logs(comp_dir)
    result = Result("TEST07", model=model.name, inputs=dict(paths))
    metric = model.metrics[0]
    result.settings = {"threshold": threshold, "samples": samples, "metric": metric.name, "pattern": metric.pattern}
    detail = inputs.detail(paths["compliance_detail"], result)
    inputs.summary_complete(paths["compliance_summary"], result, detail)
    result.scenario = detail.scenario if detail else None
    if detail is not None:
        result.add(evidence.check_applied(detail, test, model))
        inputs.log_errors(result, {"compliance": detail})
    # eval_mlperf_accuracy.py decodes int32 tokens (docs/rules.md §2.4), unless the model spec says otherwise
    token_bytes = tokens.token_bytes(model.tokens.dtype if model.tokens else tokens.OFFICIAL_DTYPE)
    coverage = _coverage(paths["compliance_accuracy_log"], samples, token_bytes, detail)
    result.add(coverage)
    if coverage.cause == Cause.TRUNCATED_LOG:  # a score of what survives would be no score of the run
        result.add(Check(CHECK_SCORE, Outcome.NOT_CHECKABLE, coverage.reason, cause=Cause.TRUNCATED_LOG))
        result.attachments[OUTPUT_TEXT] = f"(no accuracy command was run: {coverage.reason})\n"
        result.official_verdict = "FAIL"
        result.official_notes = ["not run: the official script would give the accuracy script a log that is no JSON"]
        return result
    cmd = fallback.command(options, "TEST07", model, result.scenario, request.runner)
    if cmd is None:
        result.add(
            Check(
                CHECK_SCORE,
                Outcome.FAIL,
                "no accuracy command: give --accuracy-command (or accuracy_command in the system spec's benchmark)",
            )
        )
        result.official_verdict = "FAIL"
        result.official_notes = ["run_verification.py requires --accuracy-script"]
        return result
    with scoring.scratch(request.scratch_dir or tempfile.gettempdir()) as folder:
        scored = scoring.score(cmd, paths["compliance_accuracy_log"], (metric,), folder)
    result.attachments[OUTPUT_TEXT] = scored.output
    value = scored.values.get(metric.name)
    figures = {**scored.to_dict(), "score": value, "threshold": threshold, "metric": metric.name}
    problems = [scoring.neutralised(p) for p in scored.problems]
    if value is not None and not math.isfinite(value):  # 400 digits read as inf, and inf >= any threshold
        problems.append(f"the score of {metric.name} is not a finite number ({value})")
    elif value is not None and value < threshold:
        problems.append(f"the score {value:g} ({metric.name}) is below the threshold {threshold:g}")
    if scored.cut:
        result.note("the accuracy command printed more than 4 MB: the middle of its output is not kept", CHECK_SCORE)
    result.add(Check(CHECK_SCORE, Outcome.FAIL if problems else Outcome.PASS, "; ".join(problems), figures))
    result.official_verdict, note = official.test07_accuracy(scored.output, scored.returncode, threshold)
    result.official_notes = [note]
    return result


def _coverage(path: str, samples: int, token_bytes: int, detail: Any) -> Check:
    """Every sample of the compliance dataset logged exactly once, each with a usable output."""
    counts: Counter[int] = Counter()  # at most ``samples`` keys: memory stays bounded whatever the log holds
    out_of_range: list[Any] = []  # the first one (and a count)
    bad: list[str] = []
    n_out_of_range = n_bad = 0
    log = AccuracyLog(path, check_all_hex=True)
    try:
        for entry in log:
            qsl, data = entry.qsl_idx, entry.fields.get("data")
            if isinstance(qsl, bool) or not isinstance(qsl, int) or not 0 <= qsl < samples:
                n_out_of_range += 1
                if not out_of_range:
                    out_of_range.append(qsl)
                continue
            counts[qsl] += 1
            if not isinstance(data, HexField) or data.problem or data.n_bytes == 0 or data.n_bytes % token_bytes:
                why = (
                    "no 'data' string"
                    if not isinstance(data, HexField)
                    else data.problem or f"{data.n_bytes} bytes, not a non-empty whole number of tokens"
                )
                n_bad += 1
                if not bad:
                    bad.append(f"qsl_idx {qsl}: {why}")
    except LogError as exc:
        return Check(CHECK_SAMPLES, Outcome.FAIL, str(exc))
    repeated = sorted(q for q, n in counts.items() if n > 1)
    missing = samples - len(counts)
    figures: dict[str, Any] = {
        "entries": log.entries,
        "samples": len(counts),
        "expected": samples,
        "repeated": len(repeated),
        "out_of_range": n_out_of_range,
        "bad_outputs": n_bad,
    }
    problems = []
    if missing and not log.truncated:  # a truncated log shows only what survives of its first and last 4 KiB
        first = next(q for q in range(samples) if q not in counts)
        problems.append(f"{missing} of the {samples} compliance samples are not logged (e.g. qsl_idx {first})")
    if repeated:
        many = len(repeated) > 1
        problems.append(
            f"{len(repeated)} sample{'s are' if many else ' is'} logged more than once (e.g. qsl_idx {repeated[0]})"
        )
    if out_of_range:
        problems.append(f"{n_out_of_range} entries have a qsl_idx outside 0..{samples - 1} (e.g. {out_of_range[0]!r})")
    if bad:
        problems.append(f"{n_bad} outputs are unusable (e.g. {bad[0]})")
    reported = detail.get("qsl_reported_total_count") if detail is not None else None
    if isinstance(reported, int) and reported != samples:
        problems.append(f"the harness's QSL reports {reported} samples, not the compliance dataset's {samples}")
    if problems:
        return Check(CHECK_SAMPLES, Outcome.FAIL, "; ".join(problems), figures)
    if log.truncated:  # a published folder after the mandatory truncation (docs/rules.md §8.1)
        why = (
            f"{path} is truncated (the submission tools keep its first and last 4 KiB): {len(counts)} of the "
            f"{samples} compliance samples survive in it; the coverage and the score need it whole"
        )
        return Check(CHECK_SAMPLES, Outcome.NOT_CHECKABLE, why, figures, cause=Cause.TRUNCATED_LOG)
    return Check(CHECK_SAMPLES, Outcome.PASS, "", figures)


# -- rendering -----------------------------------------------------------------------------------------------------


def _text(result: Result) -> str:
    """verify_accuracy.txt: the summary, quoting nothing the command printed; ``TEST PASS`` only on a pass."""
    score = result.check(CHECK_SCORE)
    cover = result.check(CHECK_SAMPLES)
    f = score.figures if score else {}
    c = cover.figures if cover else {}
    lines = [SEPARATOR, "TEST07 Verification Summary (mlperf-compliance)", SEPARATOR]
    if "command" in f:
        lines += [
            f"Accuracy command: {scoring.neutralised(str(f['command']))}",
            f"Accuracy command exit status: {f['returncode']}",
            f"Accuracy command output: {OUTPUT_TEXT}",
        ]
    if "entries" in c:
        lines.append(
            f"Accuracy log: {c['entries']} entries, {c['samples']} of {c['expected']} samples, "
            f"{c['repeated']} repeated, {c['out_of_range']} out of range"
        )
    lines += [
        f"Accuracy score: {f.get('score')}",
        f"Accuracy threshold: {result.settings.get('threshold')}",
        f"Accuracy check pass: {result.verdict == 'PASS'}",
    ]
    verdict = render.verdict_lines(result, CHECKS)
    if verdict[0] == "TEST PASS":
        return "\n".join(lines + ["TEST PASS"]) + "\n"
    reasons = [f"reason: {scoring.neutralised(line.removeprefix('TEST FAIL: ').strip())}" for line in verdict]
    return "\n".join(lines + ["TEST FAIL", *reasons]) + "\n"


def _render(result: Result) -> dict[str, str]:
    return {layout.VERIFY_ACCURACY: _text(result)}


def _measures(data: Mapping[str, Any]) -> tuple[Measure, ...]:
    checks = {c["name"]: c for c in data.get("checks", [])}
    score = checks.get(CHECK_SCORE, {}).get("figures", {})
    if not isinstance(score.get("score"), (int, float)) or not isinstance(score.get("threshold"), (int, float)):
        return ()
    # the bound alone (the check may fail for another of its problems); no finite number meets it
    passed = math.isfinite(score["score"]) and score["score"] >= score["threshold"]
    return (Measure(score["metric"], score["score"], passed, low=score["threshold"], digits=None, bound_digits=None),)


def _figures(data: Mapping[str, Any]) -> str:
    checks = {c["name"]: c for c in data.get("checks", [])}
    parts = [m.text() for m in _measures(data)]
    cover = checks.get(CHECK_SAMPLES, {}).get("figures", {})
    if "samples" in cover:
        parts.append(f"{cover['samples']}/{cover['expected']} samples")
    return "; ".join(parts)


def _check_detail(check: Check) -> str:
    f = check.figures
    if check.name == CHECK_SCORE and f.get("score") is not None:
        return f"{f['metric']} {f['score']:g} >= {f['threshold']:g} (exit status {f['returncode']})"
    if check.name == CHECK_SAMPLES and "samples" in f:
        return f"{f['samples']} of {f['expected']} samples, each once"
    return ""


VERIFIER = Verifier(
    name="TEST07",
    summary="accuracy in performance mode over the whole compliance dataset reaches the model's threshold",
    reference_runs=(),
    needs_scenario=False,
    text_files=(layout.VERIFY_ACCURACY,),
    copies=inputs.RUN_COPIES,
    options=(
        Option(
            "accuracy_command",
            "--accuracy-command",
            "the benchmark's accuracy script as a shell command (placeholders {accuracy_log}, {output_file}, "
            "{python}); its exit status and last score line decide",
            type=scoring.check_template,
        ),
    ),
    resolve=resolve,
    verify=verify,
    render=_render,
    figures=_figures,
    measures=_measures,
    check_detail=_check_detail,
    optional_files=(OUTPUT_TEXT,),
)
