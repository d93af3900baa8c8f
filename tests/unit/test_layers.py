"""The house rules, checked on the source: imports point down the layers, no import cycles, the demo stands apart.

The layer order (docs/architecture.md): a module may import modules of its own layer or of a layer below it,
never above; no set of modules imports each other in a circle; the demo harness imports nothing of the tool.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.paths import PROJECT

#: bottom first; a module belongs to the first entry its dotted name starts with
LAYERS: tuple[tuple[str, ...], ...] = (
    ("compliance.errors", "compliance.fsutil", "compliance.startup"),
    ("compliance.report",),
    ("compliance.specs",),
    ("compliance.layout",),
    ("compliance.auditconfig",),
    ("compliance.logs",),
    ("compliance.submission",),
    ("compliance.verify",),
    ("compliance.review",),
    ("compliance.plan",),
    ("compliance.records",),
    ("compliance.freshness",),
    ("compliance.status", "compliance.summary"),
    ("compliance.pipeline",),
    ("compliance.commands",),
    ("compliance.cli", "compliance.__main__"),
)
TOP = ("compliance",)  # the package itself (its version) is importable from everywhere
DEMO = "compliance.demo"


def layer_of(module: str) -> int | None:
    if module in TOP:
        return -1
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import of the project in ``path`` (module-level and nested)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            # "from compliance.verify.tests import test01" imports the module compliance.verify.tests.test01
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, mod) for line, mod in found if mod == "compliance" or mod.startswith("compliance.")]


def source_modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / "compliance").rglob("*.py"))}


def known(module: str, modules: dict[str, Path]) -> str | None:
    """The project module an imported name refers to (a name imported from a module is that module)."""
    while module and module not in modules:
        module = module.rpartition(".")[0]
    return module or None


def violations(root: Path) -> list[str]:
    modules = source_modules(root)
    problems = []
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        mine = layer_of(name)
        graph[name] = set()
        for line, imported in imports_of(path, name):
            target = known(imported, modules)
            if target is None or target == name:
                continue
            graph[name].add(target)
            where = f"{path.relative_to(root)}:{line}: {name} imports {target}"
            if name.startswith(DEMO):
                if not target.startswith(DEMO):
                    problems.append(f"{where}: the demo imports nothing of the tool")
                continue
            if mine is None:
                problems.append(f"{path.relative_to(root)}: {name} is in no layer; add it to LAYERS")
                continue
            theirs = layer_of(target)
            if theirs is not None and theirs > mine:
                problems.append(f"{where}, a layer above it")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return sorted(set(problems))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component) + [sorted(component)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_imports_point_down_and_never_in_a_circle() -> None:
    assert violations(PROJECT) == []


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(p.relative_to(PROJECT))
        for p in source_modules(PROJECT).values()
        if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []


def _fake_project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "compliance/__init__.py": "",
                "compliance/specs/__init__.py": "",
                "compliance/specs/loader.py": "from compliance.pipeline import tasks\n",
                "compliance/pipeline/__init__.py": "",
                "compliance/pipeline/tasks.py": "",
            },
            "compliance/specs/loader.py:1: compliance.specs.loader imports compliance.pipeline.tasks, a layer above it",
        ),
        (
            {
                "compliance/__init__.py": "",
                "compliance/verify/__init__.py": "",
                "compliance/verify/a.py": "from compliance.verify import b\n",
                "compliance/verify/b.py": "def f():\n    from compliance.verify.a import x\n",
            },
            "import cycle: compliance.verify.a -> compliance.verify.b -> compliance.verify.a",
        ),
        (
            {
                "compliance/__init__.py": "",
                "compliance/demo/__init__.py": "",
                "compliance/demo/harness.py": "from compliance.logs import detail\n",
                "compliance/logs/__init__.py": "",
                "compliance/logs/detail.py": "",
            },
            "compliance/demo/harness.py:1: compliance.demo.harness imports compliance.logs.detail: the demo imports "
            "nothing of the tool",
        ),
        (
            {
                "compliance/__init__.py": "",
                "compliance/plan.py": "from .pipeline import tasks\n",
                "compliance/pipeline/__init__.py": "",
                "compliance/pipeline/tasks.py": "",
            },
            "compliance/plan.py:1: compliance.plan imports compliance.pipeline.tasks, a layer above it",
        ),
    ],
)
def test_the_rule_catches_a_planted_violation(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    """A test of the test: an upward import, a cycle, a demo import (relative imports too) are each reported."""
    assert expected in violations(_fake_project(tmp_path, files))


#: the house's bound on a module's size (docs/house-style: split before 600 lines)
MAX_LINES = 600


def oversized(root: Path, limit: int = MAX_LINES) -> list[str]:
    """The modules under ``root`` longer than ``limit`` lines, with their length."""
    found = []
    for path in sorted(root.rglob("*.py")):
        with path.open(encoding="utf-8") as f:
            count = sum(1 for _ in f)
        if count > limit:
            found.append(f"{path.relative_to(root.parent)}: {count} lines")
    return found


def test_no_module_is_over_600_lines() -> None:
    assert oversized(PROJECT / "compliance") == []


def test_an_oversized_module_is_named(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "big.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (package / "small.py").write_text("x = 1\n")
    assert oversized(package) == [f"pkg/big.py: {MAX_LINES + 1} lines"]
