"""TEST01 Part III, the non-deterministic fallback: when outputs differ from the accuracy run's, the accuracy of the
compliance run's logged samples must equal the accuracy run's on the same samples, within the model's delta.

Procedure (docs/rules.md §2.1 Part III, without the defects P.1-P.9 of the official one): the baseline log holds the
accuracy run's entries of the compliance log's samples, the same multiset (:mod:`compliance.verify.checks.baseline`);
the benchmark's accuracy command (:mod:`compliance.verify.scoring`) scores both logs and must exit 0 on both; for
each of the model's metrics both values are non-zero and ``|1 - baseline/compliance| * 100`` is at most the metric's
delta (also when the compliance run scores better, as the checker rules). ``TEST01/accuracy/`` then holds exactly
what the checker requires: the compliance log, ``accuracy.txt``, ``baseline_accuracy.txt`` and
``compliance_accuracy.txt`` (the two outputs, verbatim: the checker reads its metrics from them).

A published TEST folder that went through the fallback keeps those two texts beside its (truncated) accuracy log:
:func:`from_texts` checks their metrics against the model's deltas, as the checker does, without the logs (which the
submission tools truncated, so no baseline can be made again). A value that is not a finite number fails (a
metric of 400 digits reads as infinity, and ``inf`` against ``inf`` is no agreement).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compliance import layout
from compliance.errors import InputError
from compliance.logs import LogError
from compliance.report.measure import Measure
from compliance.specs.types import Metric, Model
from compliance.verify import official, scoring
from compliance.verify.checks import baseline, inputs
from compliance.verify.result import Cause, Check, Outcome, Result

CHECK_FALLBACK = "accuracy (fallback)"
BASELINE_TEXT = "accuracy/baseline_accuracy.txt"
COMPLIANCE_TEXT = "accuracy/compliance_accuracy.txt"
ACCURACY_TEXT = "accuracy/accuracy.txt"
FILES = (ACCURACY_TEXT, BASELINE_TEXT, COMPLIANCE_TEXT)


def command(
    options: Mapping[str, Any],
    test: str,
    model: Model | None,
    scenario: str | None,
    runner: scoring.Runner | None = None,
) -> scoring.Command | None:
    """The accuracy command of a verification's options (None when none was given), run by ``runner`` (the
    request's: the pipeline's process runner)."""
    template = options.get("accuracy_command")
    if not template:
        return None
    values = {"benchmark": model.name if model else "", "scenario": scenario or "", "test": test}
    return scoring.Command(
        template,
        dict(options.get("accuracy_env") or {}),
        float(options.get("accuracy_timeout_s") or 3600),
        values,
        runner,
    )


def run(
    result: Result,
    model: Model | None,
    cmd: scoring.Command,
    reference_log: str,
    compliance_log: str,
    scratch_parent: Path | None,
) -> tuple[bool | None, tuple[str, str]]:
    """Add the fallback check (and its files as attachments); (passed, the official procedure's verdict); passed
    is None when a log is truncated (the check is NOT CHECKABLE: the baseline needs both logs whole)."""
    metrics = tuple(m for m in (model.metrics if model else ()) if m.delta_percent is not None)
    if not metrics:
        why = (
            "the fallback needs the model (--model): its accuracy metrics and deltas come from its spec"
            if model is None
            else f"the model spec of {model.name} defines no accuracy metric with a delta (accuracy_metrics)"
        )
        result.add(Check(CHECK_FALLBACK, Outcome.FAIL, why))
        return False, ("FAIL", "Part III cannot be done without the metric's regex and delta")
    try:
        wanted = baseline.compliance_samples(compliance_log)
    except baseline.Truncated as exc:
        result.add(Check(CHECK_FALLBACK, Outcome.NOT_CHECKABLE, str(exc), cause=Cause.TRUNCATED_LOG))
        return None, ("FAIL", "no baseline of a truncated log")
    except LogError as exc:
        result.add(Check(CHECK_FALLBACK, Outcome.FAIL, str(exc)))
        return False, ("FAIL", "no baseline of a truncated or malformed log")
    repeated = sum(1 for n in wanted.values() if n > 1)
    with scoring.scratch(scratch_parent or tempfile.gettempdir()) as folder:
        try:
            made = baseline.write(reference_log, wanted, folder / "baseline-log" / layout.ACCURACY)
        except LogError as exc:
            result.add(Check(CHECK_FALLBACK, Outcome.FAIL, f"no baseline: {exc}"))
            return False, ("FAIL", "create_accuracy_baseline.sh gives an empty or partial baseline (P.1, P.2)")
        except OSError as exc:
            raise InputError(f"{folder}: cannot write the baseline log ({exc.strerror or exc})") from None
        if made.truncated:
            result.add(
                Check(CHECK_FALLBACK, Outcome.NOT_CHECKABLE, f"no baseline: {made.problem}", cause=Cause.TRUNCATED_LOG)
            )
            return None, ("FAIL", "create_accuracy_baseline.sh gives a 2-entry baseline of a truncated log (P.2)")
        if made.problem:
            result.add(Check(CHECK_FALLBACK, Outcome.FAIL, f"no baseline: {made.problem}"))
            return False, ("FAIL", "create_accuracy_baseline.sh gives a partial baseline here, silently (P.2)")
        runs = {}
        for side, log in (("baseline", made.path), ("compliance", compliance_log)):
            (folder / side).mkdir()
            runs[side] = scoring.score(cmd, log, metrics, folder / side)
    base, comp = runs["baseline"], runs["compliance"]
    result.attachments.update({BASELINE_TEXT: base.output, COMPLIANCE_TEXT: comp.output, ACCURACY_TEXT: comp.output})
    figures: dict[str, Any] = {
        "baseline_entries": made.entries,
        "baseline_samples": made.samples,
        "repeated_samples": repeated,
        "runs": {"baseline": base.to_dict(), "compliance": comp.to_dict()},
        "metrics": {},
    }
    problems = [f"on the baseline log: {p}" for p in base.problems]
    problems += [f"on the compliance log: {p}" for p in comp.problems]
    problems += _deltas(metrics, base.values, comp.values, figures["metrics"])
    official_values = {m.name: (base.stdout_values.get(m.name), comp.stdout_values.get(m.name)) for m in metrics}
    if base.cut or comp.cut:
        result.note("an accuracy command printed more than 4 MB: the middle of its output is not kept", CHECK_FALLBACK)
    if repeated:
        result.note(
            f"the compliance log repeats {repeated} samples; the baseline repeats them too (the official script "
            "collapses them, P.3)",
            CHECK_FALLBACK,
        )
    reason = "; ".join(scoring.neutralised(p) for p in problems)
    result.add(Check(CHECK_FALLBACK, Outcome.FAIL if problems else Outcome.PASS, reason, figures))
    allowed = {name: m["allowed"] for name, m in figures["metrics"].items()}
    return not problems, official.test01_part3(official_values, allowed, repeated)


def _deltas(
    metrics: tuple[Metric, ...],
    base: Mapping[str, float | None],
    comp: Mapping[str, float | None],
    out: dict[str, Any],
) -> list[str]:
    """Compare each metric's two values within its delta (``out``: the figures per metric); the problems."""
    problems = []
    for metric in metrics:
        b, c = base.get(metric.name), comp.get(metric.name)
        assert metric.delta_percent is not None
        entry: dict[str, Any] = {"baseline": b, "compliance": c, "allowed": metric.delta_percent}
        out[metric.name] = entry
        if b is None or c is None:
            continue  # the run's problem says why
        infinite = [side for side, v in (("baseline", b), ("compliance", c)) if not math.isfinite(v)]
        if infinite:
            problems.append(f"{metric.name} is not a finite number in the {' and '.join(infinite)} output ({b} vs {c})")
            continue
        if b == 0 or c == 0:
            problems.append(f"{metric.name} is 0 in the {'baseline' if b == 0 else 'compliance'} output")
            continue
        entry["delta_percent"] = delta = official.delta_percent(b, c)
        if not math.isfinite(delta):
            problems.append(f"{metric.name}: the delta of {c:g} (compliance) and {b:g} (baseline) is not finite")
        elif delta > metric.delta_percent:
            problems.append(
                f"{metric.name} {c:g} (compliance) vs {b:g} (baseline): {delta:.3f}% "
                f"> the allowed {metric.delta_percent:g}%"
            )
    return problems


def published_texts(compliance_log: str) -> tuple[Path, Path] | None:
    """The baseline and compliance accuracy texts of a published fallback, beside the compliance run's accuracy
    log (``TEST01/accuracy/``), when both are there."""
    folder = Path(compliance_log).parent
    texts = folder / os.path.basename(BASELINE_TEXT), folder / os.path.basename(COMPLIANCE_TEXT)
    return texts if all(os.path.lexists(t) for t in texts) else None


def from_texts(result: Result, model: Model | None, model_name: str | None, texts: tuple[Path, Path]) -> bool | None:
    """Add the fallback check of a published TEST folder: the metrics of its baseline and compliance accuracy texts
    within the model's deltas (the checker's Part III); whether it passed (None: not checkable, the model unknown).

    Raises:
        InputError: a text is not a readable file.
    """
    paths = [Path(inputs.required(t)) for t in texts]
    metrics = tuple(m for m in (model.metrics if model else ()) if m.delta_percent is not None)
    if not metrics:
        name = model.name if model else model_name
        why = (
            f"the model spec of {name} defines no accuracy metric with a delta (accuracy_metrics)"
            if model is not None
            else f"no model spec is known for {name}: its accuracy metrics and deltas are needed"
            if name
            else "the fallback's metrics and deltas come from the model spec: give --model"
        )
        result.add(Check(CHECK_FALLBACK, Outcome.NOT_CHECKABLE, why, cause=Cause.MODEL_UNKNOWN))
        return None
    read = [scoring.read_metrics([p], metrics) for p in paths]
    figures: dict[str, Any] = {"source": "published texts", "texts": [str(p) for p in paths], "metrics": {}}
    problems = [f"in {p.name}: {problem}" for p, (_, found, _, _) in zip(paths, read, strict=True) for problem in found]
    problems += _deltas(metrics, read[0][0], read[1][0], figures["metrics"])
    reason = "; ".join(scoring.neutralised(p) for p in problems)
    result.add(Check(CHECK_FALLBACK, Outcome.FAIL if problems else Outcome.PASS, reason, figures))
    result.attachments.update({BASELINE_TEXT: read[0][2], COMPLIANCE_TEXT: read[1][2]})
    accuracy_txt = paths[0].with_name(os.path.basename(ACCURACY_TEXT))
    if os.path.lexists(accuracy_txt):
        result.attachments[ACCURACY_TEXT] = scoring.read_metrics([Path(inputs.required(accuracy_txt))], ())[2]
    return not problems


def measures(figures: Mapping[str, Any]) -> tuple[Measure, ...]:
    """Each metric's delta (in % of the baseline) against the model's allowed delta."""
    return tuple(
        Measure(
            f"{name} delta",
            m["delta_percent"],
            m["delta_percent"] <= m["allowed"],
            high=m["allowed"],
            digits=2,
            bound_digits=None,
            unit="%",
        )
        for name, m in figures.get("metrics", {}).items()
        if isinstance(m.get("delta_percent"), (int, float)) and isinstance(m.get("allowed"), (int, float))
    )


def summary(figures: Mapping[str, Any]) -> str:
    """The metrics in a few words: ``acc 75.9 vs 76 (0.13% <= 1%)``."""
    parts = []
    for name, m in figures.get("metrics", {}).items():
        if m.get("baseline") is None or m.get("compliance") is None:
            parts.append(f"{name} not read")
        elif "delta_percent" in m:
            parts.append(
                f"{name} {m['compliance']:g} vs {m['baseline']:g} ({m['delta_percent']:.2f}% <= {m['allowed']:g}%)"
                if m["delta_percent"] <= m["allowed"]
                else f"{name} {m['compliance']:g} vs {m['baseline']:g} ({m['delta_percent']:.2f}% > {m['allowed']:g}%)"
            )
        else:
            parts.append(f"{name} {m['compliance']:g} vs {m['baseline']:g}")
    return ", ".join(parts)
