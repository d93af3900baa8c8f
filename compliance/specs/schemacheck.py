"""Validate a YAML document against the packaged JSON Schemas and explain each error with its line.

Messages name the key or value at fault and end with a remedy or a did-you-mean, e.g.
``specs/systems/foo.yaml:12: $.benchmarks.resnet.scenarios[0]: 'Ofline' is not one of [...] (did you mean 'Offline'?)``.

Defaults are declared once, as ``default`` beside the schema property that allows them, and filled into a valid
document by :func:`apply_defaults` (jsonschema itself never fills them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from compliance.errors import Problem, did_you_mean
from compliance.specs.yamldoc import YamlDoc

SCHEMA_KINDS = ("common", "round", "model", "test", "system")


def schema_text(kind: str) -> str:
    """The packaged schema of ``kind`` as text."""
    return files("compliance.schemas").joinpath(f"{kind}.schema.json").read_text(encoding="utf-8")


@cache
def _registry() -> Registry:
    resources = []
    for kind in SCHEMA_KINDS:
        contents = json.loads(schema_text(kind))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


@cache
def schema(kind: str) -> dict[str, Any]:
    """The packaged schema of ``kind`` as data."""
    data: dict[str, Any] = json.loads(schema_text(kind))
    return data


@cache
def validator(kind: str) -> Draft202012Validator:
    """A validator for spec ``kind`` (``round``, ``model``, ``test`` or ``system``)."""
    return Draft202012Validator(schema(kind), registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def default(kind: str, *path: str) -> Any:
    """The ``default`` a schema declares for the property at ``path`` (object property names, e.g. test01, dtype)."""
    node: Any = schema(kind)
    for key in path:
        node = node["properties"][key]
    return node["default"]


def apply_defaults(data: Any, kind: str) -> Any:
    """A copy of the valid document ``data`` with every schema ``default`` filled in where the key is absent.

    Follows ``$ref``, ``properties``, ``additionalProperties`` and ``items``; a default is itself completed (an
    object default of ``{}`` receives the defaults of its own properties).
    """
    top = schema(kind)
    return _fill(data, top, _registry().resolver(top["$id"]))


def _fill(data: Any, node: Any, resolver: Any) -> Any:
    if not isinstance(node, dict):
        return data
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        data = _fill(data, resolved.contents, resolved.resolver)
    if isinstance(data, dict):
        out = dict(data)
        properties = node.get("properties", {})
        for key, sub in properties.items():
            if key not in out and isinstance(sub, dict) and "default" in sub:
                out[key] = json.loads(json.dumps(sub["default"]))
            if key in out:
                out[key] = _fill(out[key], sub, resolver)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            for key in out:
                if key not in properties:
                    out[key] = _fill(out[key], extra, resolver)
        return out
    if isinstance(data, list) and isinstance(node.get("items"), dict):
        return [_fill(item, node["items"], resolver) for item in data]
    return data


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _explain(doc: YamlDoc, error: ValidationError) -> Iterator[Problem]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        yield from _explain(doc, best_match(error.context))
        return
    path = list(error.absolute_path)
    is_key = "propertyNames" in error.absolute_schema_path
    if is_key:
        path.append(error.instance)
    kind = error.validator
    value = error.validator_value
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        patterns = list(error.schema.get("patternProperties", {})) if isinstance(error.schema, dict) else []
        for key in error.instance:
            if key not in allowed and not any(re.search(p, key) for p in patterns):
                hint = did_you_mean(key, allowed) or (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
                yield doc.problem(path + [key], f"unknown key '{key}'{hint}", key=True)
        return
    if kind == "required":
        for key in value:
            if isinstance(error.instance, dict) and key not in error.instance:
                yield doc.problem(path, f"missing required key '{key}'")
        return
    subject = f"key '{error.instance}'" if is_key else _short(error.instance)
    if kind == "enum":
        choices = [str(c) for c in value]
        message = f"{subject} is not one of {choices}{did_you_mean(str(error.instance), choices)}"
    elif kind == "pattern" and isinstance(error.schema, dict) and "description" in error.schema:
        message = f"{subject} is not {error.schema['description']}"
    elif kind == "pattern":
        message = f"{subject} does not match {value!r}"
    else:
        message = error.message if not is_key else f"{subject}: {error.message}"
        message += _braces_hint(error)
    yield doc.problem(path, message, key=is_key)


def _braces_hint(error: ValidationError) -> str:
    """An unquoted ``{python}`` or ``[x]`` where text is expected is YAML's mapping or list: say to quote it."""
    types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    value = error.instance
    braces = isinstance(value, dict) and value and all(v is None for v in value.values())
    if error.validator != "type" or "string" not in types or not (braces or isinstance(value, list)):
        return ""
    char = "{" if isinstance(value, dict) else "["
    return f"; an unquoted value that starts with '{char}' is read as YAML syntax: quote the whole value"


def check(doc: YamlDoc, kind: str) -> list[Problem]:
    """Every schema problem of ``doc`` as a spec of ``kind``."""
    problems: list[Problem] = []
    for error in validator(kind).iter_errors(doc.data):
        problems.extend(_explain(doc, error))
    return problems


#: per spec kind, the mappings whose entries are items of their own: a problem cuts away its entry, not the mapping
_ITEM_MAPPINGS = {"system": ("benchmarks",)}


def valid_part(data: Any, kind: str) -> Any | None:
    """The part of a document its schema accepts, so that it can still be cross-checked: each top-level key (or
    entry of an item mapping, a system's benchmark) with a schema problem is cut away. None when what is left is
    not valid (a required key is missing or was cut)."""
    if not isinstance(data, dict):
        return None
    data = json.loads(json.dumps(data))
    allowed = schema(kind).get("properties", {})
    for _ in range(3):  # a cut can uncover a problem of its container (an empty mapping), which the next round cuts
        errors = list(validator(kind).iter_errors(data))
        if not errors:
            return data
        cut = False
        for error in errors:
            path = list(error.absolute_path)
            if "propertyNames" in error.absolute_schema_path:
                path.append(error.instance)
            if not path:
                extra = error.validator == "additionalProperties"
                unknown = [key for key in data if key not in allowed] if extra else []
                for key in unknown:
                    del data[key]
                cut = cut or bool(unknown)
                continue
            top = path[0]
            container, key = data, top
            if len(path) > 1 and top in _ITEM_MAPPINGS.get(kind, ()) and isinstance(data.get(top), dict):
                container, key = data[top], path[1]
            if key in container:
                del container[key]
                cut = True
        if not cut:
            return None
    return None
