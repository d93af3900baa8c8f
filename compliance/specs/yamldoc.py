"""Safe, bounded YAML reading with the line of every value, normalised to YAML 1.2 core types.

PyYAML resolves scalars by YAML 1.1 rules: ``2025-01-01`` becomes a date, ``on``/``no`` become booleans and
``1:30`` becomes the integer 90. Specs are read from the composed node tree instead, with YAML 1.2 core rules
(only ``true``/``false`` are booleans, dates stay strings), duplicate keys rejected, keys required to be strings,
and alias expansion bounded so that an alias bomb cannot exhaust memory. Nodes are composed by libyaml when PyYAML
has it (seven times faster on the shipped specs), by PyYAML otherwise and for the message of a syntax error.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compliance.errors import PathPart, Problem, SpecError, json_path

MAX_FILE_BYTES = 1 << 20
MAX_NODES = 100_000
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 40  # an integer this long is no setting of LoadGen's (uint64 has 20 digits)

_YAML_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _YAML_TAG + "merge"
_STR_TAG = _YAML_TAG + "str"
_PLAIN_TAG = "tag:mlperf-compliance:plain"
_ACCEPTED_TAGS = {_PLAIN_TAG, _MERGE_TAG} | {_YAML_TAG + t for t in ("null", "bool", "int", "float", "str")}


class _PyComposer(yaml.SafeLoader):
    """Composes nodes without YAML 1.1 implicit typing: every plain scalar gets one tag, resolved by us."""

    yaml_implicit_resolvers = {
        "<": [(_MERGE_TAG, re.compile(r"^<<$"))],
        None: [(_PLAIN_TAG, re.compile(r"(?s).*"))],
    }


_CLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CComposer(_CLoader):
    """The same on libyaml (several times faster) when PyYAML was built with it; syntax errors are then reported
    by :class:`_PyComposer`, whose messages say what was found."""

    yaml_implicit_resolvers = _PyComposer.yaml_implicit_resolvers


# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


@dataclass
class YamlDoc:
    """A YAML document as plain data, with the 1-based line of every value and every mapping key."""

    file: str
    data: Any
    value_lines: dict[tuple[PathPart, ...], int] = field(default_factory=dict)
    key_lines: dict[tuple[PathPart, ...], int] = field(default_factory=dict)

    def line(self, path: tuple[PathPart, ...] | list[PathPart], *, key: bool = False) -> int | None:
        """Line of the value at ``path`` (or of its key), falling back to the nearest enclosing node."""
        path = tuple(path)
        if key and path in self.key_lines:
            return self.key_lines[path]
        while path:
            if path in self.value_lines:
                return self.value_lines[path]
            path = path[:-1]
        return self.value_lines.get((), 1)

    def problem(self, path: tuple[PathPart, ...] | list[PathPart], message: str, *, key: bool = False) -> Problem:
        """A problem located at ``path`` in this document."""
        return Problem(self.file, self.line(path, key=key), json_path(path), message)


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_CComposer)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=_PyComposer)  # raises again, with PyYAML's message


def _resolve_scalar(node: yaml.ScalarNode) -> Any:
    if node.tag == _STR_TAG or node.style:  # quoted, or an explicit !!str (libyaml marks plain as "", PyYAML None)
        return node.value
    text = node.value
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if (_INT10.match(text) or _INT8.match(text) or _INT16.match(text)) and len(text) > MAX_NUMBER_CHARS:
        raise _NumberTooLong(text)
    if _INT10.match(text):
        return int(text, 10)
    if _INT8.match(text):
        return int(text[2:], 8)
    if _INT16.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


class _Builder:
    def __init__(self, doc: YamlDoc):
        self.doc = doc
        self.nodes = 0
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: tuple[PathPart, ...]) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or len(path) > MAX_DEPTH:
            raise _TooBig
        self.doc.value_lines.setdefault(path, node.start_mark.line + 1)
        if node.tag not in _ACCEPTED_TAGS and not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.problems.append(self.doc.problem(path, f"unsupported YAML tag {node.tag!r}; write a plain value"))
            return None
        if isinstance(node, yaml.ScalarNode):
            try:
                value = _resolve_scalar(node)
            except _NumberTooLong:
                self.problems.append(
                    self.doc.problem(
                        path, f"a {len(node.value)}-digit integer; no setting takes more than {MAX_NUMBER_CHARS} digits"
                    )
                )
                return None
            if isinstance(value, float) and not math.isfinite(value):
                self.problems.append(self.doc.problem(path, f"{node.value} is not a finite number"))
                return None
            return value
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        return self._mapping(node, path)

    def _mapping(self, node: yaml.MappingNode, path: tuple[PathPart, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    value = self.build(source, path)
                    if isinstance(value, dict):
                        merged.update({k: v for k, v in value.items() if k not in merged})
                    else:
                        self.problems.append(self.doc.problem(path, "'<<' must merge a mapping"))
                continue
            try:
                key = _resolve_scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            except _NumberTooLong:
                key = None
            if not isinstance(key, str):
                self.problems.append(
                    Problem(
                        self.doc.file,
                        key_node.start_mark.line + 1,
                        json_path(path),
                        f"mapping keys must be strings, got {key_node.value!r}; quote it",
                    )
                )
                continue
            if key in out:
                self.problems.append(
                    Problem(
                        self.doc.file,
                        key_node.start_mark.line + 1,
                        json_path(path + (key,)),
                        f"duplicate key '{key}' (first at line {self.doc.key_lines[path + (key,)]})",
                    )
                )
                continue
            self.doc.key_lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, path + (key,))
        for key, value in merged.items():
            out.setdefault(key, value)
        return out


#: a plain value (after ``key:`` or ``-``) that starts with a character YAML gives a meaning to
_INDICATOR_VALUE = re.compile(r"^\s*(?:-\s+)*(?:[^\s'\"#{\[][^#]*?:\s+)?([{\[&*!|>%@`])")
_MEANING = {
    "{": "a YAML mapping",
    "[": "a YAML list",
    "&": "a YAML anchor",
    "*": "a YAML alias",
    "!": "a YAML tag",
    "|": "a YAML block of text",
    ">": "a YAML block of text",
    "%": "a YAML directive",
    "@": "a character YAML reserves",
    "`": "a character YAML reserves",
}


def _closes(value: str) -> bool:
    """Whether the flow collection ``value`` starts with closes on the same line (brackets counted)."""
    depth = 0
    for char in value:
        depth += 1 if char in "{[" else -1 if char in "}]" else 0
        if depth == 0:
            return True
    return False


def syntax_hint(text: str, lines: list[int], problem: str) -> str:
    """The likely fix of a YAML syntax error at ``lines`` (0-based), as ``; ...`` to append to the message: a value
    that starts with a character YAML reads as syntax (``command: {python} -m ...`` starts a mapping) and is not
    valid YAML on its own must be quoted; so must a value holding ``: ``."""
    source = text.splitlines()
    for n in sorted(set(lines), reverse=True):
        found = _INDICATOR_VALUE.match(source[n]) if 0 <= n < len(source) else None
        if found is None:
            continue
        value = source[n][found.start(1) :].strip()
        try:
            yaml.compose(f"k: {value}", Loader=_PyComposer)
            continue  # valid on its own (a flow list such as [Offline, Server]): the error is elsewhere
        except yaml.YAMLError:
            pass
        prefix = source[n][: found.start(1)].strip()
        char = found.group(1)
        if char in "{[" and not _closes(value):
            close = "}" if char == "{" else "]"
            return f"; line {n + 1}: the '{char}' that starts the value is not closed on its line: add '{close}'"
        quoted = f'"{value}"' if '"' not in value else "'" + value.replace("'", "''") + "'"
        return (
            f"; line {n + 1}: an unquoted value that starts with '{char}' is read as "
            f"{_MEANING.get(char, 'YAML syntax')}: quote the whole value, e.g. {prefix}{' ' if prefix else ''}{quoted}"
        )
    if "mapping values are not allowed" in problem and lines:
        return '; a value that holds ": " must be quoted (key: "a: b")'
    return ""


class _TooBig(Exception):
    """Alias expansion went past MAX_NODES or MAX_DEPTH."""


class _NumberTooLong(ValueError):
    """An integer with more digits than any setting can have."""


def _read_regular(path: Path, name: str) -> str:
    """The text of a regular file of at most MAX_FILE_BYTES, the limit applied while reading (a FIFO, a device, a
    file that grows are refused or cut off, never read without end)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "not a regular file"
        )
        raise SpecError([Problem(name, None, "", f"is {kind}; a spec is a regular YAML file")])
    with open(path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(
            [Problem(name, None, "", f"file is over {MAX_FILE_BYTES} bytes; specs are limited to {MAX_FILE_BYTES}")]
        )
    return data.decode("utf-8")


def load_yaml(path: Path, display: str | None = None) -> YamlDoc:
    """Read one YAML file into a :class:`YamlDoc`.

    Args:
        path: the file to read.
        display: how to name the file in messages (default: ``str(path)``).

    Raises:
        SpecError: with every problem of the file (syntax, duplicate keys, non-string keys, size).
    """
    name = display or str(path)
    doc = YamlDoc(name, None)
    try:
        text = _read_regular(path, name)
    except OSError as exc:
        raise SpecError([Problem(name, None, "", f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise SpecError([Problem(name, None, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        detail = " ".join(str(exc.problem or exc.context).split())
        if exc.context and exc.problem and exc.context_mark:
            detail += f" ({exc.context.removeprefix('while ')} at line {exc.context_mark.line + 1})"
        marks = [m.line for m in (exc.problem_mark, exc.context_mark) if m is not None]
        detail += syntax_hint(text, marks, str(exc.problem or ""))
        raise SpecError([Problem(name, line, "", f"YAML syntax error: {detail}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(name, None, "", "YAML error: " + " ".join(str(exc).split()))]) from None
    except RecursionError:
        raise SpecError(
            [Problem(name, None, "", f"nested more than Python can read; specs are at most {MAX_DEPTH} levels deep")]
        ) from None
    if root is None:
        raise SpecError([Problem(name, None, "", "file is empty; a spec is a YAML mapping")])
    builder = _Builder(doc)
    try:
        doc.data = builder.build(root, ())
    except _TooBig:
        raise SpecError(
            [
                Problem(
                    name,
                    None,
                    "",
                    f"document expands to more than {MAX_NODES} nodes or "
                    f"{MAX_DEPTH} levels (recursive or exponential aliases?)",
                )
            ]
        ) from None
    if builder.problems:
        raise SpecError(builder.problems)
    return doc
