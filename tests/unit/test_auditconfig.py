"""audit.config rendering: the settings LoadGen applies equal what the official audit.config intends.

The expected values below are written from docs/rules.md §2.1-2.3 (the official files), independently of the specs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.auditconfig import RenderError, format_value, parse, render, with_overrides
from compliance.plan import load_specs
from compliance.specs.types import AuditDeviation, loadgen_scenario
from tests.helpers.paths import SHIPPED_SPECS

SEED = 720381539243781796

#: v5.0 required tests (compliance/README.md of the round, as given in the foundation issue).
V50_TABLE = {
    "resnet": ("TEST01", "TEST04"),
    "retinanet": ("TEST01",),
    "bert-99": ("TEST01",),
    "bert-99.9": ("TEST01",),
    "dlrm-v2-99": ("TEST01",),
    "dlrm-v2-99.9": ("TEST01",),
    "3d-unet-99": ("TEST01",),
    "3d-unet-99.9": ("TEST01",),
    "gptj-99": (),
    "gptj-99.9": (),
    "stable-diffusion-xl": ("TEST01", "TEST04"),
    "llama2-70b-99": ("TEST06",),
    "llama2-70b-99.9": ("TEST06",),
    "llama2-70b-interactive-99": ("TEST06",),
    "llama2-70b-interactive-99.9": ("TEST06",),
    "llama3.1-405b": ("TEST06",),
    "mixtral-8x7b": ("TEST06",),
    "rgat": ("TEST01",),
    "pointpainting": ("TEST01", "TEST04"),
}
#: accuracy_log_sampling_target of compliance/TEST01/<model>/audit.config.
TEST01_TARGET = {
    "resnet": 4096,
    "retinanet": 256,
    "bert-99": 4096,
    "bert-99.9": 4096,
    "dlrm-v2-99": 4096,
    "dlrm-v2-99.9": 4096,
    "3d-unet-99": 64,
    "3d-unet-99.9": 64,
    "stable-diffusion-xl": 128,
    "rgat": 4096,
    "pointpainting": 256,
    "whisper": 4096,
    "yolo-95": 64,
    "yolo-99": 64,
}
#: compliance/TEST09/<model>/audit.config (docs/rules.md §2.6): dataset size and bounds; only gpt-oss-120b's sets
#: performance_issue_unique.
TEST09 = {"gpt-oss-120b": (6396, 1150.38, 1406.02, True), "e2e-rag-qna": (824, 246.43, 301.19, False)}


def official_settings(test: str, model: str, scenario: str) -> dict[str, int]:
    """What the official audit.config of ``test`` intends for ``model`` in ``scenario``."""
    if test == "TEST01":
        return {"mode": 2, "accuracy_log_rng_seed": SEED, "accuracy_log_sampling_target": TEST01_TARGET[model]}
    if test == "TEST04":
        intended = {
            "mode": 2,
            "performance_issue_unique": 0,
            "performance_issue_same": 1,
            "performance_issue_same_index": 3,
        }
        if model == "stable-diffusion-xl" and scenario == "Offline":
            intended["min_query_count"] = 500  # a model-specific line in the official file, ignored by LoadGen
        if model == "wan-2.2-t2v-a14b":
            intended["min_query_count"] = 20  # Offline and SingleStream, model-specific lines too
        return intended
    if test == "TEST07":  # gpt-oss-120b, docs/rules.md §2.4
        return {
            "mode": 2,
            "accuracy_log_rng_seed": SEED,
            "accuracy_log_sampling_target": 990,
            "min_query_count": 990,
            "min_duration": 0,
            "performance_issue_unique": 1,
            "sample_concatenate_permutation": 0,
            "test07_accuracy_threshold": 60.698,
        }
    if test == "TEST08":  # dlrm-v3, docs/rules.md §2.5
        return {"mode": 2, "accuracy_log_rng_seed": SEED, "accuracy_log_sampling_target": 4096}
    if test == "TEST09":
        size, low, high, unique = TEST09[model]
        return {
            "mode": 2,
            "accuracy_log_rng_seed": SEED,
            "accuracy_log_sampling_target": 10000,
            "min_query_count": size,
            "min_duration": 0,
            **({"performance_issue_unique": 1} if unique else {}),
            "sample_concatenate_permutation": 0,
            "test09_min_output_tokens": low,
            "test09_max_output_tokens": high,
        }
    assert test == "TEST06"
    return {
        "mode": 2,
        "accuracy_log_rng_seed": SEED,
        "accuracy_log_sampling_target": 100,
        "min_query_count": 100,
        "min_duration": 0,
        "sample_concatenate_permutation": 0,
    }


SPECS = load_specs(SHIPPED_SPECS)
CASES = [
    (test, model, scenario)
    for model, tests in V50_TABLE.items()
    for test in tests
    for scenario in SPECS.models[model].scenarios
]


#: every test the v6.x rounds require, in every scenario those rounds allow the benchmark
V6_CASES = sorted(
    {
        (test, model, scenario)
        for name in ("v6.0", "v6.1")
        for model, tests in SPECS.rounds[name].required.items()
        for test in tests
        for scenario in SPECS.rounds[name].allowed_scenarios(model) or ()
    }
)


def test_v6_cases_cover_the_new_tests() -> None:
    assert {t for t, _, _ in V6_CASES} == {"TEST01", "TEST04", "TEST06", "TEST07", "TEST08", "TEST09"}
    assert ("TEST09", "e2e-rag-qna", "Offline") in V6_CASES and (
        "TEST04",
        "wan-2.2-t2v-a14b",
        "SingleStream",
    ) in V6_CASES


def test_the_v50_round_spec_matches_the_table() -> None:
    assert SPECS.rounds["v5.0"].required == V50_TABLE


def test_cases_cover_every_required_test_of_v50() -> None:
    assert {(t, m) for t, m, _ in CASES} == {(t, m) for m, ts in V50_TABLE.items() for t in ts}
    assert len(CASES) > 40


@pytest.mark.parametrize(("test", "model", "scenario"), CASES + V6_CASES)
def test_rendered_settings_equal_the_official_intent(test: str, model: str, scenario: str) -> None:
    text = render(SPECS.tests[test], SPECS.models[model], scenario)
    parsed = parse(text)
    assert parsed.errors == []
    assert parsed.settings(scenario) == official_settings(test, model, scenario)
    for line in text.splitlines():
        assert line.startswith("# ") or line.startswith(("*.*.", f"*.{loadgen_scenario(scenario)}.")), line
        if not line.startswith("#"):
            assert len(line.split()) == 3 and line.split()[1] == "="
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert render(SPECS.tests[test], SPECS.models[model], scenario) == text  # deterministic


# Real LoadGen: TestSettings.FromConfig(path, '*', scenario, 2) is exactly the call StartTest makes
# (docs/rules.md §1.2).
@pytest.fixture
def lg():
    """The LoadGen module (installed by the test extra); tests that need it skip without it."""
    return pytest.importorskip("mlperf_loadgen")


_ATTRIBUTE = {"min_duration": "min_duration_ms"}


def _contrasting_settings(lg) -> object:
    """TestSettings whose values all differ from what any audit.config sets, so that every change is visible."""
    s = lg.TestSettings()
    s.mode = lg.TestMode.AccuracyOnly
    s.min_query_count = 7
    s.min_duration_ms = 12345
    s.performance_issue_unique = True
    s.performance_issue_same = False
    s.performance_issue_same_index = 0
    s.sample_concatenate_permutation = True
    s.accuracy_log_rng_seed = 1
    s.accuracy_log_sampling_target = 1
    return s


#: keys only the official scripts read (LoadGen ignores them: docs/rules.md §1.4)
SCRIPT_ONLY = ("test07_accuracy_threshold", "test09_min_output_tokens", "test09_max_output_tokens")


def _applied(lg, path: Path, scenario: str) -> object:
    settings = _contrasting_settings(lg)
    assert settings.FromConfig(str(path), "*", loadgen_scenario(scenario), 2) == 0
    return settings


@pytest.mark.parametrize(("test", "model", "scenario"), CASES + V6_CASES)
def test_real_loadgen_applies_the_official_settings(lg, tmp_path: Path, test: str, model: str, scenario: str) -> None:
    path = tmp_path / "audit.config"
    path.write_text(render(SPECS.tests[test], SPECS.models[model], scenario), encoding="utf-8")
    settings = _applied(lg, path, scenario)
    for key, value in official_settings(test, model, scenario).items():
        if key not in SCRIPT_ONLY:
            assert int(getattr(settings, _ATTRIBUTE.get(key, key))) == value, key


# A system's audit_overrides: the only way to deviate from the official settings, and always told.


def test_an_override_is_a_deviation_in_the_rendered_file(lg, tmp_path: Path) -> None:
    """wan TEST04 SingleStream: the official min_query_count = 20 (mlcommons/inference#2493) set to 64."""
    test, model = SPECS.tests["TEST04"], SPECS.models["wan-2.2-t2v-a14b"]
    deviated = with_overrides(test, model, "SingleStream", {"min_query_count": 64})
    assert deviated.deviations == (AuditDeviation("min_query_count", 64, 20),)
    text = render(deviated, model, "SingleStream")
    assert (
        "# deviation: TEST04 audit setting min_query_count = 64 deviates from the official audit.config, which sets "
        "20 (audit_overrides of the system spec)\n" in text
    )
    assert "*.SingleStream.min_query_count = 64\n" in text and "= 20" not in text  # the official line's scope
    assert parse(text).settings("SingleStream") == {
        **official_settings("TEST04", model.name, "SingleStream"),
        "min_query_count": 64,
    }
    path = tmp_path / "audit.config"
    path.write_text(text, encoding="utf-8")
    assert _applied(lg, path, "SingleStream").min_query_count == 64  # type: ignore[attr-defined]


def test_an_override_of_a_setting_the_official_file_lacks_is_told_too() -> None:
    test, model = SPECS.tests["TEST01"], SPECS.models["resnet"]
    deviated = with_overrides(test, model, "Offline", {"min_duration": 60000, "mode": 2})
    assert deviated.deviations == (AuditDeviation("min_duration", 60000, None),)  # mode = 2 is the official value
    text = render(deviated, model, "Offline")
    assert "which does not set it (audit_overrides of the system spec)" in text
    assert "*.*.min_duration = 60000\n" in text and parse(text).valid
    assert with_overrides(test, model, "Offline", {}) is test


def test_interactive_is_written_as_server() -> None:
    text = render(SPECS.tests["TEST04"], SPECS.models["resnet"], "Server")
    assert "*.Server.performance_issue_same = 1" in text
    llama = render(SPECS.tests["TEST06"], SPECS.models["llama2-70b-99"], "Interactive")
    assert parse(llama).settings("Interactive")["min_query_count"] == 100


def test_cell_marker_is_a_comment_loadgen_ignores() -> None:
    text = render(SPECS.tests["TEST01"], SPECS.models["resnet"], "Offline", cell="demo/resnet/Offline/TEST01")
    assert "# mlperf-compliance: TEST01 resnet Offline cell=demo/resnet/Offline/TEST01\n" in text
    assert parse(text).valid


def test_render_refuses_a_scenario_the_model_lacks() -> None:
    with pytest.raises(RenderError, match="rgat has no scenario 'Server'"):
        render(SPECS.tests["TEST01"], SPECS.models["rgat"], "Server")


def test_render_refuses_a_model_without_the_test_parameters() -> None:
    with pytest.raises(RenderError, match="needs audit_params.TEST01.accuracy_log_sampling_target"):
        render(SPECS.tests["TEST01"], SPECS.models["mixtral-8x7b"], "Offline")


@pytest.mark.parametrize(
    ("value", "text"), [(0, "0"), (SEED, str(SEED)), (60.698, "60.698"), (0.75, "0.75"), (2**64 - 1, str(2**64 - 1))]
)
def test_values_are_formatted_for_strtoull_and_strtod(value: float, text: str) -> None:
    assert format_value(value) == text


@pytest.mark.parametrize("value", [True, -1, 2**64, float("nan"), float("inf"), -0.5])
def test_values_loadgen_cannot_take_are_refused(value: float) -> None:
    with pytest.raises(RenderError):
        format_value(value)


# The parser follows LoadGen's rules (docs/rules.md §1.1); each case is checked against real LoadGen too.
PARSER_CASES = [
    ("*.*.min_query_count = 5\n", True, 5),
    ("*.*.min_query_count = 5", True, 5),  # no final newline
    ("*.*.min_query_count=5\n", True, None),  # one token: a key without '=', silently ignored
    ("*.*.min_query_count =5\n", False, None),
    ("*.*.min_query_count = 5 # inline comment\n", False, None),
    ("#oops text\n*.*.min_query_count = 5\n", False, None),
    ("#oops\n*.*.min_query_count = 5\n", True, 5),
    ("# a comment\n*.*.min_query_count = 0x10\n", True, 16),
    ("*.*.min_query_count = 5 6\n", True, 6),  # a later token overwrites the value
    ("*.*.min_query_count = five\n", False, None),
    ("*.Offline.min_query_count = 9\n*.*.min_query_count = 5\n", True, 9),  # *.<Scenario> wins over *.*
    ("resnet.Offline.min_query_count = 9\n", True, None),  # model-specific: never applied
]


@pytest.mark.parametrize(("text", "valid", "applied"), PARSER_CASES)
def test_parser_agrees_with_real_loadgen(lg, tmp_path: Path, text: str, valid: bool, applied: int | None) -> None:
    parsed = parse(text)
    assert parsed.valid is valid
    assert parsed.settings("Offline").get("min_query_count") == (applied if valid else None)
    path = tmp_path / "audit.config"
    path.write_text(text, encoding="utf-8")
    settings = _contrasting_settings(lg)
    rc = settings.FromConfig(str(path), "*", "Offline", 2)
    assert (rc == 0) is valid
    assert settings.min_query_count == (applied if applied is not None else 7)
