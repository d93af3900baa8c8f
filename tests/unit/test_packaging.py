"""The wheel carries the whole package: every subpackage is listed in pyproject.toml and every data file a module
reads is matched by its package-data patterns (a missing entry broke the installed tool once: 'No module named
compliance.verify.tests'). tests/integration/test_wheel.py builds and installs the wheel itself; this is the fast
check of the same lists."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from tests.helpers.paths import PROJECT

#: files in the source tree that are not package data: the C source (compiled into an extension) and build outputs
NOT_DATA = ("*.c", "*.so", "*.pyd", "*.pyc")


def _setuptools() -> dict:
    return tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def unlisted_packages(root: Path, listed: list[str]) -> list[str]:
    """The packages under ``root`` (folders with an ``__init__.py``) missing from ``listed``."""
    found = {".".join(p.parent.relative_to(root.parent).parts) for p in root.rglob("__init__.py")}
    return sorted(found - set(listed))


def unshipped_data(root: Path, package_data: dict[str, list[str]]) -> list[str]:
    """The non-Python files under ``root`` that no package-data pattern of their package matches."""
    missing = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix == ".py" or "__pycache__" in path.parts:
            continue
        if any(fnmatch.fnmatch(path.name, pattern) for pattern in NOT_DATA):
            continue
        package = path.parent
        while not (package / "__init__.py").exists() and package != root:
            package = package.parent
        name = ".".join(package.relative_to(root.parent).parts)
        relative = path.relative_to(package).as_posix()
        if not any(fnmatch.fnmatch(relative, p) for p in package_data.get(name, ())):
            missing.append(f"{path.relative_to(root.parent)} (package {name})")
    return missing


def test_every_subpackage_is_listed() -> None:
    assert unlisted_packages(PROJECT / "compliance", _setuptools()["packages"]) == []


def test_every_data_file_is_shipped() -> None:
    assert unshipped_data(PROJECT / "compliance", _setuptools()["package-data"]) == []


def test_the_mapped_folders_exist() -> None:
    """compliance.schemas and compliance.specdata come from the top-level schemas/ and specs/ folders."""
    setuptools = _setuptools()
    for package, folder in setuptools["package-dir"].items():
        assert package in setuptools["packages"]
        assert (PROJECT / folder / "__init__.py").exists(), folder


def test_a_missing_package_or_data_file_is_named(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    for init in (root / "__init__.py", root / "sub" / "__init__.py"):
        init.write_text("")
    (root / "sub" / "job.sh").write_text("true\n")
    (root / "sub" / "notes.txt").write_text("x\n")
    assert unlisted_packages(root, ["pkg"]) == ["pkg.sub"]
    assert unshipped_data(root, {"pkg.sub": ["*.sh"]}) == ["pkg/sub/notes.txt (package pkg.sub)"]
