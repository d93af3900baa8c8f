"""audit.config rendering: the settings LoadGen applies equal what the official audit.config intends.

The expected values below are written from docs/rules.md §2.1-2.3 (the official files), independently of the specs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.auditconfig import RenderError, format_value, parse, render
from compliance.plan import load_specs
from compliance.specs.types import loadgen_scenario
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
}


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
        return intended
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


def test_the_v50_round_spec_matches_the_table() -> None:
    assert SPECS.rounds["v5.0"].required == V50_TABLE


def test_cases_cover_every_required_test_of_v50() -> None:
    assert {(t, m) for t, m, _ in CASES} == {(t, m) for m, ts in V50_TABLE.items() for t in ts}
    assert len(CASES) > 40


@pytest.mark.parametrize(("test", "model", "scenario"), CASES)
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


@pytest.mark.parametrize(("test", "model", "scenario"), CASES)
def test_real_loadgen_applies_the_official_settings(lg, tmp_path: Path, test: str, model: str, scenario: str) -> None:
    path = tmp_path / "audit.config"
    path.write_text(render(SPECS.tests[test], SPECS.models[model], scenario), encoding="utf-8")
    settings = _contrasting_settings(lg)
    assert settings.FromConfig(str(path), "*", loadgen_scenario(scenario), 2) == 0
    for key, value in official_settings(test, model, scenario).items():
        got = getattr(settings, _ATTRIBUTE.get(key, key))
        assert int(got) == value, key


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
