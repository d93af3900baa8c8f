"""The JSON Schemas are valid draft 2020-12 schemas, shipped as package data."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from compliance.specs.schemacheck import SCHEMA_KINDS, schema_text, validator
from tests.helpers.paths import PROJECT


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_schema_is_valid_against_its_metaschema(kind: str) -> None:
    schema = json.loads(schema_text(kind))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_packaged_schema_is_the_top_level_file(kind: str) -> None:
    assert schema_text(kind) == (PROJECT / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["resnet", "llama3.1-405b", "3d-unet-99.9", "TEST01", "a_b+c-d.e"])
def test_safe_names_are_accepted(name: str) -> None:
    errors = list(
        validator("round").iter_errors({"name": name, "test_dir": "x", "results_dir": "y", "benchmarks": {name: []}})
    )
    assert errors == []


@pytest.mark.parametrize("name", ["../x", "a/b", "a..b", "a b", "", ".hidden", "tab\tname", "x\n"])
def test_names_that_could_escape_a_path_are_rejected(name: str) -> None:
    errors = list(
        validator("round").iter_errors(
            {"name": name, "test_dir": "x", "results_dir": "y", "benchmarks": {"resnet": []}}
        )
    )
    assert [e.json_path for e in errors] == ["$.name"]


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "pattern"] + [p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_no_pattern_accepts_a_trailing_newline(kind: str) -> None:
    # Python's '$' matches before a final newline (ECMA 262's does not); a key 'mode\n' would break audit.config.
    import re

    for pattern in _patterns(json.loads(schema_text(kind))):
        for sample in ("TEST01", "mode", "resnet", "A_B", "x"):
            if re.search(pattern, sample):
                assert re.search(pattern, sample + "\n") is None, pattern
