"""Benchmark names of submission trees to model specs (compliance/verify/models.py), open-division names included."""

from __future__ import annotations

import pytest

from compliance.plan import load_specs
from compliance.verify.models import BASE, EXACT, FAMILY, resolve
from tests.helpers.paths import SHIPPED_SPECS

MODELS = load_specs(SHIPPED_SPECS).models


@pytest.mark.parametrize(
    ("name", "model", "how"),
    [
        ("resnet50", "resnet", EXACT),  # an alias, as closed folders spell it
        ("llama3_1-405b", "llama3.1-405b", EXACT),
        ("Llama3.1-8B", "llama3.1-8b", EXACT),
        ("llama3_1-405b_finetuned", "llama3.1-405b", BASE),  # open-division names of published trees
        ("llama3_1-405b_pruned", "llama3.1-405b", BASE),
        ("llama2-70b-fp8_quark", "llama2-70b-99", BASE),  # through the alias llama2-70b
        ("llama2-70b-99.9_custom", "llama2-70b-99.9", BASE),  # the longest name wins
    ],
)
def test_a_name_the_tree_gives_maps_to_its_model(name: str, model: str, how: str) -> None:
    match = resolve(MODELS, name)
    assert (match.model.name if match.model else None, match.how) == (model, how)
    assert (match.note == "") == (how == EXACT)


def test_a_family_name_maps_only_for_facts_its_models_share() -> None:
    # no llama3.1-70b benchmark: its tokens are those of every llama3.1 model, its other facts are unknown
    match = resolve(MODELS, "llama3_1-70b-fp8_dyn", needs=("tokens",))
    assert match.how == FAMILY and match.model is not None and match.model.tokens is not None
    assert match.model.tokens.eos_token_id == 128009 and "llama3_1 family" in match.note
    assert resolve(MODELS, "llama3_1-70b-fp8_dyn").model is None  # TEST01 would need facts no family shares
    unknown = resolve(MODELS, "mobilenet-v1-precision_float-1.0-224", needs=("tokens",))
    assert unknown.model is None and unknown.family == () and "no model spec" in unknown.note


def test_hints_from_the_tree_are_tried_after_the_name() -> None:
    match = resolve(MODELS, "my-model", hints=["sdxl"])
    assert match.model is not None and match.model.name == "stable-diffusion-xl" and "'sdxl'" in match.note
