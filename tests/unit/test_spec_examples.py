"""Spec examples under tests/spec_examples: each invalid case prints exactly its expected messages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers.paths import SPEC_EXAMPLES

EXAMPLES = SPEC_EXAMPLES
INVALID = sorted(p for p in (EXAMPLES / "invalid").iterdir() if p.is_dir())
VALID = sorted(p for p in (EXAMPLES / "valid").iterdir() if p.is_dir())


def _lay_over(case: Path, specs: Path) -> None:
    for kind in ("rounds", "models", "tests", "systems"):
        if (case / kind).is_dir():
            shutil.copytree(case / kind, specs / kind, dirs_exist_ok=True)
    if (case / "tree").is_dir():
        shutil.copytree(case / "tree", specs.parent, dirs_exist_ok=True)


def _expected(case: Path) -> list[str]:
    return (case / "expected.txt").read_text(encoding="utf-8").splitlines()


def _validate(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(["validate", "--specs", "specs"])
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    return code, lines, captured.out


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.name)
def test_invalid_case_reports_exactly_its_problems(case: Path, specs_copy: Path, capsys) -> None:
    _lay_over(case, specs_copy)
    code, lines, out = _validate(capsys)
    assert code == 2, out
    assert lines[:-1] == _expected(case), "\n".join(lines)
    count = len(lines) - 1
    assert lines[-1] == f"error: {count} problem{'s' if count != 1 else ''} in specs; nothing was run"
    assert "Traceback" not in "\n".join(lines)


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_valid_case_validates(case: Path, specs_copy: Path, capsys) -> None:
    """A valid case validates, printing exactly the warnings of its ``warnings.txt`` (none without one)."""
    _lay_over(case, specs_copy)
    code, lines, out = _validate(capsys)
    assert code == 0, "\n".join(lines)
    kinds = {kind: len(list((specs_copy / kind).glob("*.yaml"))) for kind in ("rounds", "models", "tests")}
    assert out.startswith(
        f"specs: {kinds['rounds']} rounds, {kinds['models']} models, {kinds['tests']} tests, 1 system: OK"
    )
    warnings = case / "warnings.txt"
    assert lines == (warnings.read_text(encoding="utf-8").splitlines() if warnings.exists() else [])


def _adds_only(case: Path, specs: Path) -> bool:
    """True when the case only adds files (one that replaces a shipped spec changes how others resolve)."""
    return not any((specs / f.relative_to(case)).exists() for f in case.rglob("*.yaml"))


def test_every_problem_of_every_file_is_reported_at_once(specs_copy: Path, capsys) -> None:
    cases = [case for case in INVALID if _adds_only(case, specs_copy)]
    assert len(cases) >= 8
    for case in cases:
        _lay_over(case, specs_copy)
    code, lines, _ = _validate(capsys)
    assert code == 2

    def norm(line: str) -> str:  # together, the round v9.9 of one case is among the known rounds of another
        return re.sub(r"; known: [a-z0-9., -]*$", "", line)

    assert sorted(map(norm, lines[:-1])) == sorted(norm(line) for case in cases for line in _expected(case))


def test_shipped_specs_are_valid(capsys) -> None:
    from tests.helpers.paths import SHIPPED_SPECS

    assert main(["validate", "--specs", str(SHIPPED_SPECS)]) == 0
    assert "2 systems: OK" in capsys.readouterr().out
