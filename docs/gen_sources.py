"""What the generated reference pages are made from, read from the code: the command line's parsers and doit's
commands (for ``cli.md``), and the keys of the spec schemas (for ``spec-keys.md``).

``docs/gen_reference.py`` writes the pages from these; ``tests/helpers/docrefs.py`` checks the docs against them.
"""

from __future__ import annotations

import argparse
import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


# -- the command line -------------------------------------------------------------------------------------------
@dataclass
class CliOption:
    """One argument of a command: an option (``flags``) or a positional (``metavar`` only)."""

    flags: tuple[str, ...]
    metavar: str
    help: str
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    takes_value: bool = True
    nargs: Any = None


@dataclass
class CliCommand:
    """One command: ``words`` after ``mlperf-compliance`` (``("verify", "TEST01")``), its arguments, its children."""

    words: tuple[str, ...]
    help: str
    description: str
    options: list[CliOption] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    child_metavar: str = "COMMAND"

    @property
    def flags(self) -> set[str]:
        return {flag for option in self.options for flag in option.flags} | {"-h", "--help"}


def _help(action: argparse.Action, parser: argparse.ArgumentParser) -> str:
    """An argument's help with argparse's ``%(default)s`` forms filled in, as ``--help`` shows it."""
    text = action.help or ""
    if text == argparse.SUPPRESS:
        return ""
    try:
        return text % {**vars(action), "prog": parser.prog, "default": action.default}
    except (KeyError, TypeError, ValueError):
        return text


def _walk(parser: argparse.ArgumentParser, words: tuple[str, ...], help_text: str) -> Iterator[CliCommand]:
    command = CliCommand(words, help_text, parser.description or "")
    below: list[tuple[str, argparse.ArgumentParser, str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: (a.help or "").replace("%%", "%") for a in action._choices_actions}
            command.child_metavar = str(action.metavar or "COMMAND")
            for name, child in action.choices.items():
                command.children.append(name)
                below.append((name, child, helps.get(name, "")))
            continue
        takes_value = action.nargs != 0
        metavar = action.metavar or action.dest.upper()
        command.options.append(
            CliOption(
                flags=tuple(action.option_strings),
                metavar=str(metavar) if takes_value else "",
                help=_help(action, parser),
                default=None if action.default in (None, False, argparse.SUPPRESS) else action.default,
                required=bool(action.required),
                choices=tuple(str(c) for c in action.choices or ()),
                takes_value=takes_value,
                nargs=action.nargs,
            )
        )
    yield command
    for name, child, text in below:
        yield from _walk(child, (*words, name), text)


def cli_commands() -> list[CliCommand]:
    """Every command of ``mlperf-compliance`` (the top level first, with ``words == ()``)."""
    from compliance import cli

    return list(_walk(cli._parser(), (), ""))


def doit_commands() -> dict[str, set[str]]:
    """doit's commands, the project's included (``summary``, ``dumpdb``), with the option strings each takes."""
    from doit.cmd_base import DodoTaskLoader
    from doit.doit_cmd import DoitMain

    from compliance.commands.dumpdb import DumpDbCommand
    from compliance.commands.summary import SummaryCommand

    found: dict[str, set[str]] = {}
    for command in (*DoitMain.DOIT_CMDS, SummaryCommand, DumpDbCommand):
        name = command.name or command.__name__.lower()
        options = [*getattr(command, "base_options", ()), *command.cmd_options]
        if getattr(command, "execute_tasks", False) or name in ("list", "info", "forget", "clean", "ignore"):
            options += list(DodoTaskLoader.cmd_options)
        flags = {"-h", "--help"}
        for option in options:
            spec = option if isinstance(option, dict) else vars(option)
            flags |= {f"-{spec['short']}"} if spec.get("short") else set()
            flags |= {f"--{spec['long']}"} if spec.get("long") else set()
        found[name] = flags
    found["run"] |= found.get("", set())
    return found


def project_doit_commands() -> list[Any]:
    """The doit commands this project adds (pyproject.toml's ``doit.COMMAND`` entry points)."""
    from compliance.commands.dumpdb import DumpDbCommand
    from compliance.commands.summary import SummaryCommand

    return [SummaryCommand, DumpDbCommand]


def doit_variables() -> list[str]:
    """The ``name=value`` variables the pipeline reads from doit's command line (``get_var`` calls in the package)."""
    found = set()
    for path in sorted((ROOT / "compliance").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "get_var":
                if node.args and isinstance(node.args[0], ast.Constant):
                    found.add(str(node.args[0].value))
    return sorted(found)


# -- the spec schemas -----------------------------------------------------------------------------------------------
@dataclass
class SpecKey:
    """One key of a spec, at a path such as ``benchmarks.<name>.command``."""

    path: str
    type: str
    default: Any
    required: bool
    description: str


class _Schemas:
    """The schemas of ``schemas/``, with ``$ref`` resolved within and across files."""

    def __init__(self, folder: Path) -> None:
        self.docs = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.schema.json"))}

    def resolve(self, node: dict[str, Any], current: str) -> tuple[dict[str, Any], str]:
        """``node`` with its ``$ref`` merged in (the node's own keys win), and the file it came from."""
        seen = 0
        while "$ref" in node and seen < 20:
            seen += 1
            target, _, pointer = node["$ref"].partition("#")
            current = target or current
            found: Any = self.docs[current]
            for part in [p for p in pointer.split("/") if p]:
                found = found[part]
            node = {**found, **{k: v for k, v in node.items() if k != "$ref"}}
        return node, current


def _type(schemas: _Schemas, node: dict[str, Any], where: str) -> str:
    """A key's type in a few words: ``string``, ``list of string``, the values of an enum."""
    node, where = schemas.resolve(node, where)
    if "enum" in node:
        return " | ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if "oneOf" in node or "anyOf" in node:
        return " or ".join(_type(schemas, n, where) for n in node.get("oneOf", node.get("anyOf", [])))
    kind = node.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"list of {_type(schemas, node.get('items', {}), where)}"
    return str(kind)


def _placeholder(node: dict[str, Any], key: str) -> str:
    """The name shown for a free key (``additionalProperties``): ``<test>``, ``<scenario>``, ``<benchmark>``."""
    ref = node.get("propertyNames", {}).get("$ref", "")
    for known, shown in (("test_name", "<test>"), ("/scenario", "<scenario>")):
        if ref.endswith(known):
            return shown
    return f"<{key[:-1]}>" if key.endswith("s") and len(key) > 3 else "<name>"


def spec_keys(schemas: _Schemas, name: str) -> list[SpecKey]:
    """Every key of schema ``name``, depth first, in the schema's order."""
    keys: list[SpecKey] = []

    def visit(node: dict[str, Any], where: str, prefix: str, depth: int) -> None:
        node, where = schemas.resolve(node, where)
        if depth > 8:
            return
        required = set(node.get("required", ()))
        properties: dict[str, Any] = dict(node.get("properties", {}))
        for branch in node.get("allOf", ()):  # if/then branches: a launcher's settings by its kind
            properties.update({k: v for k, v in branch.get("then", {}).get("properties", {}).items() if v is not True})
        for key, child in properties.items():
            if child is True:
                continue
            resolved, child_where = schemas.resolve(child, where)
            path = f"{prefix}{key}"
            keys.append(
                SpecKey(
                    path,
                    _type(schemas, resolved, child_where),
                    resolved.get("default"),
                    key in required,
                    resolved.get("description", ""),
                )
            )
            visit_children(resolved, child_where, path, depth)

    def visit_children(node: dict[str, Any], where: str, path: str, depth: int) -> None:
        if node.get("type") == "object" or "properties" in node or "allOf" in node:
            visit(node, where, f"{path}.", depth + 1)
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                extra, extra_where = schemas.resolve(extra, where)
                free = f"{path}.{_placeholder(node, path.rsplit('.', 1)[-1])}"
                for branch in [extra, *extra.get("oneOf", ()), *extra.get("anyOf", ())]:
                    branch, branch_where = schemas.resolve(branch, extra_where)
                    if "properties" in branch or "allOf" in branch or branch.get("type") == "array":
                        visit_children(branch, branch_where, free, depth + 1)
        elif node.get("type") == "array" and isinstance(node.get("items"), dict):
            items, items_where = schemas.resolve(node["items"], where)
            if "properties" in items:
                visit(items, items_where, f"{path}[].", depth + 1)

    visit(schemas.docs[name], name, "", 0)
    return keys
