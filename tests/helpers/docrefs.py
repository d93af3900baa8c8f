"""What the docs name, checked against the repository: paths, functions, commands and options, links.

The checker reads Markdown (README.md and docs/**/*.md) and reports each stale reference as a
:class:`compliance.errors.Problem` naming the page, the line and what is missing:

- **paths**: every word of inline code, and of prose, that starts with one of the repository's own folders
  (``compliance/``, ``docs/``, ``tests/``, ``schemas/``, ``specs/``, ``bench/``, ``.ci/``) or is ``dodo.py``,
  ``setup.py`` or ``pyproject.toml``, must exist; a ``*`` pattern must match something. Not checked: examples in
  fenced code blocks, words with a placeholder (``<cell>``, ``{scenario}``, ``...``), and the official repository's
  ``compliance/`` folder, told from ours by its first part (``TEST01/``, ``README.md``: ours holds only Python
  modules, the C scanner and packages). A spec file (``specs/systems/my-server.yaml``, a new
  ``specs/rounds/v7.0.yaml``) is often an example: only its folder must exist;
- **functions**: ``path.py::name`` (``path.py::Class.method``; a path not found as written is looked for as the end
  of a path, as in ``integration/test_kills.py::test_x``), ``compliance.module.name``, and in inline code
  ``module.name`` or ``Class.name`` for a module or class of the package, found with ``ast`` (nothing is imported);
- **commands**: ``mlperf-compliance ...`` and ``doit ...`` in inline code and in ``sh``/``console`` blocks: the
  command, its sub-command, each option (against the argparse parser and doit's own), doit's ``name=value``
  variables and task steps (``run:<cell>``);
- **links**: every relative Markdown link leads to a file, and its ``#anchor`` to a heading of it.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shlex
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from compliance.errors import Problem
from tests.helpers.paths import PROJECT

OURS = ("compliance", "docs", "tests", "schemas", "specs", "bench", ".ci")
TOP_FILES = ("dodo.py", "setup.py", "pyproject.toml")
#: package folders mapped elsewhere by pyproject.toml's package-dir
MAPPED = {"compliance.schemas": "schemas", "compliance.specdata": "specs"}
#: the last part of a dotted word that makes it a file name, not an attribute (verify.json, run.log)
EXTENSIONS = {
    "json",
    "txt",
    "md",
    "py",
    "yaml",
    "yml",
    "log",
    "config",
    "conf",
    "db",
    "sh",
    "c",
    "so",
    "whl",
    "toml",
    "signature",
    "rerun",
    "lock",
    "cfg",
    "html",
    "xml",
    "csv",
    "gz",
    "ini",
}
PLACEHOLDER = re.compile(r"[<>{}*$~\[\]]|\.\.\.")


def _problem(doc: str, line: int, message: str) -> Problem:
    """One stale or missing reference in one page (the project's problem type: ``page:line: message``)."""
    return Problem(doc, line, "", message)


def pages(root: Path = PROJECT) -> list[Path]:
    """README.md and every page of docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


@cache
def generator() -> ModuleType:
    """docs/gen_reference.py, imported from its path (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("gen_reference", PROJECT / "docs" / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_reference"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# -- reading Markdown -------------------------------------------------------------------------------------------
def split(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str, str]]]:
    """The prose lines, and the lines of fenced code blocks with their language, each with its line number."""
    prose: list[tuple[int, str]] = []
    code: list[tuple[int, str, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else (stripped[3:].strip() or "text")
            continue
        if fence is None:
            prose.append((number, line))
        else:
            code.append((number, fence, line))
    return prose, code


def spans(prose: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Inline code spans (``like this``) of the prose lines (a span may not cross a line here)."""
    for number, line in prose:
        for match in re.finditer(r"(`+)(.+?)\1", line):
            yield number, match.group(2).strip()


def _outside_spans(line: str) -> str:
    return re.sub(r"(`+)(.+?)\1", " ", re.sub(r"\]\([^)]*\)", "]", line))


def words(text: str) -> list[str]:
    return [w.strip("\"'(),;:.!?") for w in text.split()]


# -- paths ------------------------------------------------------------------------------------------------------
def is_ours(word: str, root: Path) -> bool:
    """Whether ``word`` names a file of this repository (rather than an example, a placeholder or the official
    repository's)."""
    if word in TOP_FILES:
        return True
    if "/" not in word or PLACEHOLDER.search(word.replace("*", "")) or "=" in word or ":" in word:
        return False
    parts = word.rstrip("/").split("/")
    if parts[0] not in OURS or not parts[-1]:
        return False
    if parts[0] == "compliance" and len(parts) > 1:  # the official compliance/TEST01/... is not ours
        first = parts[1]
        return first.endswith((".py", ".c")) or (root / "compliance" / first).is_dir()
    return True


def check_paths(root: Path, doc: str, text: str) -> list[Problem]:
    prose, _ = split(text)
    found = []
    candidates = [(n, w) for n, span in spans(prose) for w in words(span)]
    candidates += [(n, w) for n, line in prose for w in words(_outside_spans(line))]
    for number, word in candidates:
        path = word.split("::", 1)[0].split("#", 1)[0]
        if not is_ours(path, root):
            continue
        if path.startswith("specs/") and not path.endswith("/"):  # a spec file may be an example (a new round)
            if not (root / path).parent.is_dir():
                found.append(_problem(doc, number, f"{path}: no folder {Path(path).parent.as_posix()}/ in specs/"))
        elif "*" in path:  # a pattern: it must match something
            if not any(root.glob(path.rstrip("/"))):
                found.append(_problem(doc, number, f"{path}: matches nothing in the repository"))
        elif not (root / path).exists():
            found.append(_problem(doc, number, f"{path}: no such file or folder in the repository"))
    return found


# -- functions --------------------------------------------------------------------------------------------------
@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _names(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.If, ast.Try)):
            names |= _names(node.body) | _names(getattr(node, "orelse", []))
    return names


def _class_names(node: ast.ClassDef) -> set[str]:
    names = _names(node.body)
    for item in ast.walk(node):  # self.x = ... in its methods
        if isinstance(item, (ast.Assign, ast.AnnAssign)):
            targets = item.targets if isinstance(item, ast.Assign) else [item.target]
            names |= {t.attr for t in targets if isinstance(t, ast.Attribute)}
    return names


def defines(path: Path, chain: list[str]) -> bool:
    """Whether module ``path`` (a file, or a package's folder) defines ``chain`` (``name``, ``Class.name``)."""
    if path.is_dir():
        if (path / f"{chain[0]}.py").exists() or (path / chain[0]).is_dir():
            return len(chain) == 1 or defines(_module_file(path / chain[0]), chain[1:])
        path = path / "__init__.py"
    if not path.exists():
        return False
    tree = _tree(path)
    if chain[0] not in _names(tree.body):
        return False
    if len(chain) == 1:
        return True
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == chain[0]]
    return not classes or chain[1] in _class_names(classes[0])  # an imported name is not followed


def _module_file(path: Path) -> Path:
    return path if path.is_dir() else path.with_suffix(".py")


def resolve_dotted(root: Path, dotted: str) -> str | None:
    """None when ``compliance.a.b.name`` exists, else what is missing."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        base = root / MAPPED[module] if module in MAPPED else root.joinpath(*parts[:cut])
        if base.is_dir() or base.with_suffix(".py").exists():
            rest = parts[cut:]
            if not rest or defines(_module_file(base), rest):
                return None
            return f"{module} has no {'.'.join(rest)}"
    return f"no module {dotted}"


@cache
def _index(root: Path) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """The package's modules by their last name, and its classes by name (the modules that define them)."""
    modules: dict[str, list[Path]] = {}
    classes: dict[str, list[Path]] = {}
    for path in sorted((root / "compliance").rglob("*.py")):
        name = path.parent.name if path.name == "__init__.py" else path.stem
        modules.setdefault(name, []).append(path.parent if path.name == "__init__.py" else path)
        for node in _tree(path).body:
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, []).append(path)
    return modules, classes


def _has_class(path: Path, name: str) -> bool:
    path = path / "__init__.py" if path.is_dir() else path
    return any(isinstance(n, ast.ClassDef) and n.name == name for n in _tree(path).body)


@cache
def spec_key_names() -> set[str]:
    """Every key name of the spec schemas (``test01``, ``tokens``): ``test01.dtype`` names a key, not a module."""
    gen = generator()
    schemas = gen._Schemas(PROJECT / "schemas")
    return {part for name in gen.SPEC_SCHEMAS for key in gen.spec_keys(schemas, name) for part in key.path.split(".")}


def _files_ending(root: Path, tail: str) -> list[Path]:
    return [
        p
        for top in OURS
        if (root / top).is_dir()
        for p in (root / top).rglob(Path(tail).name)
        if p.as_posix().endswith("/" + tail)
    ]


def check_symbols(root: Path, doc: str, text: str) -> list[Problem]:
    prose, _ = split(text)
    found = []
    for number, line in prose:
        for match in re.finditer(r"([\w./-]+\.py|compliance(?:\.\w+)*)::([A-Za-z_][\w.]*\w)", line):
            where, chain = match.group(1), match.group(2).split(".")
            if where.endswith(".py"):
                files = [root / where] if (root / where).exists() else _files_ending(root, where)
                first = where.split("/")[0]
                if not files:
                    if "/" in where and first not in OURS and first not in ("unit", "integration", "helpers"):
                        continue  # another project's file (doit/control.py::...)
                    found.append(_problem(doc, number, f"{where}: no such file in the repository"))
                elif not any(defines(f, chain) for f in files):
                    found.append(_problem(doc, number, f"{where} has no {'.'.join(chain)}"))
            else:
                missing = resolve_dotted(root, f"{where}.{'.'.join(chain)}")
                if missing:
                    found.append(_problem(doc, number, missing))
        for match in re.finditer(
            r"(?<![\w./:-])(compliance(?:\.\w+)+)(?![\w/:-])",
            _outside_spans(line) + " " + " ".join(s for n, s in spans([(number, line)])),
        ):
            dotted = match.group(1)
            if dotted.rsplit(".", 1)[-1] in EXTENSIONS:
                continue
            missing = resolve_dotted(root, dotted)
            if missing:
                found.append(_problem(doc, number, missing))
    modules, classes = _index(root)
    for number, span in spans(prose):
        short = re.fullmatch(r"([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)(\(\))?", span)
        if not short or short.group(1) == "compliance" or span.rsplit(".", 1)[-1] in EXTENSIONS:
            continue
        if short.group(1) in spec_key_names():  # a spec key (test01.dtype), not a module
            continue
        head, chain = short.group(1), short.group(2)[1:].split(".")
        if head in modules:
            if len(chain) > 1 and not any(_has_class(p, chain[0]) for p in modules[head]):
                continue  # module.word.word is no code reference we can judge (LoadGen's model.scenario.key)
            if not any(defines(p, chain) for p in modules[head]):
                found.append(_problem(doc, number, f"{span}: no module named {head} in the package defines it"))
        elif head in classes and not any(defines(p, [head, chain[0]]) for p in classes[head]):
            found.append(_problem(doc, number, f"{span}: class {head} has no {chain[0]}"))
    return found


# -- commands ---------------------------------------------------------------------------------------------------
@cache
def _commands() -> tuple[dict[tuple[str, ...], Any], dict[str, set[str]], set[str], set[str]]:
    gen = generator()
    cli = {c.words: c for c in gen.cli_commands()}
    steps = set()  # a task_* generator's "basename" constants, else its name (doit's rule)
    for function in _tree(PROJECT / "compliance" / "pipeline" / "tasks.py").body:
        if isinstance(function, ast.FunctionDef) and function.name.startswith("task_"):
            named = {
                str(value.value)
                for node in ast.walk(function)
                if isinstance(node, ast.Dict)
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and key.value == "basename" and isinstance(value, ast.Constant)
            }
            steps |= named or {function.name[5:]}
    return cli, gen.doit_commands(), set(gen.doit_variables()), steps


def command_lines(text: str) -> Iterator[tuple[int, str]]:
    """Each ``mlperf-compliance ...`` or ``doit ...`` command in inline code and in shell or console blocks."""
    prose, code = split(text)
    pieces = list(spans(prose))
    for number, lang, line in code:
        if lang in ("sh", "bash", "shell"):
            pieces.append((number, line))
        elif lang == "console" and line.startswith("$ "):
            pieces.append((number, line[2:]))
    for number, piece in pieces:
        for segment in re.split(r"&&|\|\||;|\|(?=\s)|\s#", piece):
            tokens = segment.split()
            if tokens and tokens[0] in ("mlperf-compliance", "doit"):
                yield number, segment.strip()


def _tokens(segment: str) -> list[str]:
    try:
        tokens = shlex.split(segment)
    except ValueError:
        tokens = segment.split()
    return [t.strip("[],") for t in tokens if t.strip("[],")]


def check_command(segment: str) -> str | None:
    """None when the command, its sub-commands and options exist, else what does not."""
    tokens = _tokens(segment)
    if tokens[0] == "doit":
        return _check_doit(tokens[1:], "doit")
    cli = _commands()[0]
    said: list[str] = []  # the words so far, for the message
    candidates = [cli[()]]  # the commands those words may be (several after a placeholder such as TEST)
    skip = False
    for token in tokens[1:]:
        if skip:
            skip = False
            continue
        where = " ".join(["mlperf-compliance", *said])
        if token.startswith("-") and token != "-":
            flag = token.split("=", 1)[0]
            owners = [c for c in candidates if flag in c.flags]
            if not owners:
                return f"`{where}` has no option {flag}"
            option = next((o for o in owners[0].options if flag in o.flags), None)
            skip = bool(option and option.takes_value and "=" not in token)
            continue
        children = [cli[(*c.words, child)] for c in candidates for child in c.children]
        if not children:
            continue  # a positional value
        named = [c for c in children if c.words[-1] == token]
        if named:
            candidates = named
        elif re.fullmatch(r"[A-Z][A-Z_]*", token) or PLACEHOLDER.search(token):  # TEST, COMMAND: any of them
            candidates = [*candidates, *children]
        elif not said:  # not a command of ours: doit's (mlperf-compliance list, run TASK ...)
            return _check_doit(tokens[1:], "mlperf-compliance")
        else:
            return f"`{where}` has no command {token}"
        said.append(token)
    return None


def _check_doit(tokens: list[str], program: str) -> str | None:
    _, doit_commands, variables, steps = _commands()
    command = "run"
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            flag = token.split("=", 1)[0]
            if flag not in doit_commands.get(command, set()):
                return f"`{program} {'' if command == 'run' else command}` has no option {flag}".replace(" `", "`")
        elif "=" in token:
            if token.split("=", 1)[0] not in variables:
                return f"{token.split('=', 1)[0]}= is no variable of the pipeline; it reads {', '.join(variables)}"
        elif index == 0 and token in doit_commands:
            command = token
        elif ":" in token:
            if token.split(":", 1)[0] not in steps and not PLACEHOLDER.search(token.split(":", 1)[0]):
                return f"{token}: no task step {token.split(':', 1)[0]} (steps: {', '.join(sorted(steps))})"
        elif index == 0 and not re.fullmatch(r"[A-Z][A-Z_]*", token) and token not in steps:
            return f"`{program} {token}`: no such command or task"
    return None


def check_commands(doc: str, text: str) -> list[Problem]:
    found = []
    for number, segment in command_lines(text):
        problem = check_command(segment)
        if problem:
            found.append(_problem(doc, number, problem))
    return found


# -- links ------------------------------------------------------------------------------------------------------
def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of a page's headings."""
    prose, _ = split(text)
    return {slug(line.lstrip("#")) for _, line in prose if line.startswith("#")}


def check_links(doc_path: Path, doc: str, text: str) -> list[Problem]:
    prose, _ = split(text)
    found = []
    for number, line in prose:
        for match in re.finditer(r"\]\(([^)\s]+)\)", line):
            target = match.group(1)
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            file, _, anchor = target.partition("#")
            if not file:
                if anchor not in anchors(text):
                    found.append(_problem(doc, number, f"link to {target}: {doc} has no heading #{anchor}"))
                continue
            path = (doc_path.parent / file).resolve()
            if not path.exists():
                found.append(_problem(doc, number, f"link to {target}: {file} does not exist"))
            elif anchor and path.suffix == ".md" and anchor not in anchors(path.read_text(encoding="utf-8")):
                found.append(_problem(doc, number, f"link to {target}: {file} has no heading #{anchor}"))
    return found


def check_page(root: Path, path: Path, text: str | None = None) -> list[Problem]:
    """Every stale reference of page ``path`` (its text, or ``text`` in its place)."""
    text = path.read_text(encoding="utf-8") if text is None else text
    doc = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    return sorted(
        check_paths(root, doc, text)
        + check_symbols(root, doc, text)
        + check_commands(doc, text)
        + check_links(path, doc, text)
    )


# -- coverage: what the docs must mention ---------------------------------------------------------------------------
def docs_text(root: Path = PROJECT) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in pages(root))


def mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def undocumented_options(commands: list[Any], text: str) -> list[str]:
    """Each option of ``commands`` (generator CliCommand objects) without help, or named on no page."""
    found = []
    for command in commands:
        where = " ".join(["mlperf-compliance", *command.words])
        for option in command.options:
            if not option.flags:
                continue
            flag = max(option.flags, key=len)
            if not option.help.strip():
                found.append(f"`{where}` {flag}: no help text (give its add_argument a help=)")
            elif not mentions(text, flag):
                found.append(f"`{where}` {flag}: named on no page of the docs (run `python docs/gen_reference.py`)")
    return found


def undescribed_keys(schemas_dir: Path, names: list[str], text: str) -> list[str]:
    """Each key of the spec schemas ``names`` without a description, or named on no page."""
    gen = generator()
    schemas = gen._Schemas(schemas_dir)
    found = []
    for name in names:
        for key in gen.spec_keys(schemas, name):
            if not key.description.strip():
                found.append(f"schemas/{name}: {key.path} has no description (add one to the schema)")
            elif f"`{key.path}`" not in text:
                found.append(f"schemas/{name}: {key.path} is named on no page (run `python docs/gen_reference.py`)")
    return found
