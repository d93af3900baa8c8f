"""Audit evidence: the audit config was in effect in the compliance run and absent from the submission's runs.

Neither the official verifiers nor the submission checker look for this (docs/rules.md §3, item 11). LoadGen logs a
"Found Audit Config file" warning when it finds audit.config, an ``error_invalid_config`` when it rejects it (then
nothing is applied), and the settings in force as ``effective_*`` records (docs/rules.md §1.3).
"""

from __future__ import annotations

from typing import Any

from compliance.auditconfig import RenderError, resolve
from compliance.logs.detail import DetailLog
from compliance.specs.types import Model, ModelParam, Number, TestSpec, loadgen_scenario
from compliance.verify.result import Check, Outcome

CHECK_APPLIED = "audit config in effect"
CHECK_CLEAN_REFERENCES = "submission runs without audit config"

_MODES = {0: "SubmissionRun", 1: "AccuracyOnly", 2: "PerformanceOnly", 3: "FindPeakPerformance"}
#: audit.config key -> detail-log record showing its effect
_EFFECTIVE = {
    "mode": "effective_test_mode",
    "accuracy_log_rng_seed": "effective_accuracy_log_rng_seed",
    "accuracy_log_sampling_target": "effective_accuracy_log_sampling_target",
    "performance_issue_unique": "effective_performance_issue_unique",
    "performance_issue_same": "effective_performance_issue_same",
    "performance_issue_same_index": "effective_performance_issue_same_index",
    "min_query_count": "effective_min_query_count",
    "min_duration": "effective_min_duration_ms",
    "sample_concatenate_permutation": "effective_sample_concatenate_permutation",
}


def expected_settings(test: TestSpec, model: Model | None, scenario: str) -> dict[str, Number]:
    """The settings the rendered audit.config applies; without a model, only the model-independent ones."""
    if model is not None:
        if scenario not in model.scenarios and scenario == "Server" and "Interactive" in model.scenarios:
            scenario = "Interactive"
        try:
            return {line.key: line.value for line in resolve(test, model, scenario)}
        except RenderError:
            pass  # the model does not run this scenario: fall back to what holds for every model
    lg = loadgen_scenario(scenario)
    out: dict[str, Number] = {}
    for layer in test.audit:
        if layer.models is None and (layer.scenarios is None or lg in layer.scenarios):
            out.update({k: v for k, v in layer.settings if not isinstance(v, ModelParam)})
    return out


def _effective_matches(key: str, value: Number, log: DetailLog, scenario: str) -> tuple[bool, Any] | None:
    """(matches, logged value) for one setting, or None when the detail log cannot show it."""
    if key == "min_query_count" and loadgen_scenario(scenario) == "Offline":
        # Offline turns min_query_count into samples_per_query and logs min_query_count 1 (docs/rules.md §1.4)
        logged = log.get("effective_samples_per_query")
        return (isinstance(logged, int) and logged >= value), logged
    record = _EFFECTIVE.get(key)
    if record is None or record not in log.values:
        return None
    logged = log.get(record)
    if key == "mode":
        return logged == _MODES.get(int(value)), logged
    if isinstance(logged, bool):
        return logged == bool(value), logged
    return (isinstance(logged, (int, float)) and logged == value), logged


def audit_applied(log: DetailLog, expected: dict[str, Number], scenario: str) -> Check:
    """The compliance run found the audit.config, accepted it, and runs with its settings."""
    figures: dict[str, Any] = {"found": log.audit_config_found, "expected": expected}
    if not log.audit_config_found:
        return Check(
            CHECK_APPLIED,
            Outcome.FAIL,
            "LoadGen did not find an audit.config in the compliance run (no 'Found Audit Config file' "
            "warning): it ran in another directory or was given another file name, so this was a plain "
            "performance run",
            figures,
        )
    wrong, unseen = [], []
    for key, value in expected.items():
        outcome = _effective_matches(key, value, log, scenario)
        if outcome is None:
            unseen.append(key)
        elif not outcome[0]:
            wrong.append(f"{key} = {value} but the log shows {outcome[1]!r}")
    figures["not_in_log"] = unseen
    rejected = log.error_messages("error_invalid_config")
    if rejected:
        figures["errors"] = rejected
        # LoadGen logs error_invalid_config for a rejected audit.config, but also for a harness that calls
        # FromConfig twice ("Multiple conf files are used..."): the effective settings tell which (docs/rules.md §1.2)
        applied = not wrong and len(unseen) < len(expected)
        if not applied:
            return Check(
                CHECK_APPLIED,
                Outcome.FAIL,
                f"LoadGen found the audit.config but rejected it ({rejected[0]}), so none of its settings were applied",
                figures,
            )
    if wrong:
        return Check(
            CHECK_APPLIED, Outcome.FAIL, "the run did not use the audit settings: " + "; ".join(wrong), figures
        )
    return Check(CHECK_APPLIED, Outcome.PASS, "", figures)


def check_applied(log: DetailLog, test: TestSpec, model: Model | None, scenario: str | None = None) -> Check:
    """:func:`audit_applied` with the settings ``test`` renders for ``model`` in the run's scenario (the log's
    ``effective_scenario``, else ``scenario``)."""
    scenario = log.scenario or scenario or "Offline"
    return audit_applied(log, expected_settings(test, model, scenario), scenario)


def references_clean(references: dict[str, DetailLog]) -> Check:
    """No submission run (accuracy, performance) was made with an audit.config in place."""
    contaminated = [label for label, log in references.items() if log.audit_config_found]
    figures = {"checked": sorted(references)}
    if contaminated:
        return Check(
            CHECK_CLEAN_REFERENCES,
            Outcome.FAIL,
            f"the submission's {' and '.join(contaminated)} run{'s were' if len(contaminated) > 1 else ' was'} "
            "made with an audit.config in its working directory (LoadGen logged 'Found Audit Config file'); "
            "rerun it without one",
            figures,
        )
    return Check(CHECK_CLEAN_REFERENCES, Outcome.PASS, "", figures)
