"""Fixtures for every test: its own working folder, a guard against writes outside it, and shared LoadGen runs.

Tests under ``tests/integration/`` are marked ``slow`` (real LoadGen runs, doit in subprocesses);
``pytest -m "not slow"`` runs the fast unit tests alone. Helpers live in ``tests/helpers/`` (plain modules).

The shipped specs folder (which the write guard keeps unchanged) is loaded and checked once per session: hundreds of
tests verify logs against it, and loading it is most of their time; a test of the loader gives it a folder of its
own (``specs_copy``), which is loaded each time, its rounds, models and tests schema-checked once per content.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.paths import SHIPPED_SPECS

_INTEGRATION = Path(__file__).parent / "integration"
_allowed: list[str] = []  # while a test runs: the folders it may write in (empty: the guard is off)
_WRITE_EVENTS = {
    "os.remove",
    "os.rmdir",
    "os.mkdir",
    "shutil.rmtree",
    "os.rename",
    "os.replace",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
    "os.truncate",
    "os.symlink",
    "os.link",
    "os.chmod",
    "os.utime",
}


def pytest_configure(config: pytest.Config) -> None:
    """The tests send SIGINT as a terminal's Ctrl-C would, to processes they start. A suite started as a
    background job of a non-interactive shell (``pytest &`` in a script) begins with SIGINT ignored, and so would
    every process it starts (an ignored signal stays ignored across exec): those processes get SIGINT's default
    disposition back here, as a terminal's foreground job has it."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a handler: exec resets it to the default


def _load_shipped_specs_once() -> None:
    from compliance.specs import loader

    real, shipped, found = loader.load_specs, os.path.realpath(SHIPPED_SPECS), {}

    def ours(folder: Any) -> bool:  # the shipped specs (also the package's, in an editable install), or none
        return folder is None or os.path.realpath(folder) == shipped

    def key(value: Any) -> Any:
        """What an argument is, for the cache: a test may register a verifier (and its checks) of its own."""
        if isinstance(value, dict):
            return tuple(sorted((k, id(v)) for k, v in value.items()))
        if isinstance(value, (list, tuple, set, frozenset)):
            return tuple(sorted(value))
        return value if value is None or isinstance(value, (str, int)) else id(value)

    def load_specs(root: Any, **options: Any) -> Any:
        packaged = options.get("packaged")
        if not ours(root) or not ours(packaged):
            return real(root, **options)
        cached = (
            root is None,
            packaged is None,
            *((name, key(v)) for name, v in sorted(options.items()) if name != "packaged"),
        )
        if cached not in found:
            found[cached] = real(root, **options)
        return found[cached]

    loader.load_specs = load_specs  # type: ignore[assignment]


_load_shipped_specs_once()


def _check_valid_specs_once() -> None:
    """A round, model or test spec whose content was found valid once is valid again, with the same defaults (the
    loader's checks of the same shipped files in every copy of the specs folder a test makes were most of those
    tests' time); a system, and any content not seen valid yet, is checked as always."""
    from compliance.specs import schemacheck

    real, valid, filled = schemacheck.check, set(), {}
    real_defaults = schemacheck.apply_defaults

    def check(doc: Any, kind: str) -> Any:
        if kind == "system":
            return real(doc, kind)
        try:
            key = (kind, json.dumps(doc.data, sort_keys=True))
        except (TypeError, ValueError):  # YAML values JSON cannot hold (dates, sets): checked as always
            return real(doc, kind)
        if key in valid:
            return []
        problems = real(doc, kind)
        if not problems:
            valid.add(key)
        return problems

    def apply_defaults(data: Any, kind: str) -> Any:
        if kind == "system":
            return real_defaults(data, kind)
        try:
            key = (kind, json.dumps(data, sort_keys=True))
        except (TypeError, ValueError):
            return real_defaults(data, kind)
        if key not in filled:
            filled[key] = json.dumps(real_defaults(data, kind))
        return json.loads(filled[key])  # a copy of its own for each caller

    schemacheck.check = check  # type: ignore[assignment]
    schemacheck.apply_defaults = apply_defaults  # type: ignore[assignment]


_check_valid_specs_once()


def _parse_spec_files_once() -> None:
    """A spec file whose content was read well once is read again from that reading: the loader's tests copy the
    shipped specs into folders of their own (``specs_copy``, projects), and parsing the same files again in each was
    most of the unit tests' time. Each caller gets a copy of its own, named as it asked; a file that is not a small
    regular file, or has a problem, is read as always."""
    import pickle
    import stat

    from compliance.specs import loader

    real, parsed = loader.load_yaml, {}

    def load_yaml(path: Path, display: str | None = None) -> Any:
        try:
            found = os.stat(path)
            content = Path(path).read_bytes() if stat.S_ISREG(found.st_mode) and found.st_size <= 1 << 20 else None
        except OSError:
            content = None
        if content is None:
            return real(path, display)
        if content not in parsed:
            parsed[content] = pickle.dumps(real(path, display))
        doc = pickle.loads(parsed[content])
        doc.file = display or str(path)
        return doc

    loader.load_yaml = load_yaml  # type: ignore[assignment]


_parse_spec_files_once()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Integration tests are ``slow``. The suite runs in parallel (pytest-xdist, ``--dist loadgroup``): the tests
    that share the demo's build run on one worker (it is built once), so do the Slurm tests (one cluster of two
    nodes: a test that needs both must not wait for another's jobs), and each other integration module runs whole
    on one worker (its module and session fixtures are made once); unit tests go one by one to the free worker."""
    for item in items:
        if _INTEGRATION not in Path(str(item.fspath)).parents:
            continue
        item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("xdist_group") is None:
            group = "demo-build" if "demo_build" in getattr(item, "fixturenames", ()) else item.module.__name__
            item.add_marker(pytest.mark.xdist_group(group))


def _target(event: str, args: tuple[Any, ...]) -> object:
    if event == "open":
        path, mode, flags = args[0], args[1], args[2] if len(args) > 2 else 0
        writing = (mode is not None and any(m in str(mode) for m in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        return path if writing else None
    if event in (
        "os.rename",
        "os.replace",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "os.symlink",
        "os.link",
    ):
        return args[1]
    return args[0] if event in _WRITE_EVENTS else None


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if not _allowed or (event != "open" and event not in _WRITE_EVENTS):
        return
    path = _target(event, args)
    if not isinstance(path, (str, bytes, os.PathLike)):
        return  # a file descriptor: its path was checked when it was opened
    real = os.path.realpath(os.fsdecode(path))
    if "__pycache__" in real or real.startswith(("/dev/", "/proc/")):
        return
    if not any(real == a or real.startswith(a + os.sep) for a in _allowed):
        raise PermissionError(f"test guard: {event} of {real} is outside the test's temporary folders")


sys.addaudithook(_guard)


@pytest.fixture(autouse=True)
def _work_in_tmp(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every test runs in its own empty folder, and any write (by this process) outside pytest's temporary
    folders fails with PermissionError, so no test can touch the project, its build/ folder or a real tree.
    Run locks go to the test's folder too."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLPERF_COMPLIANCE_LOCKS", str(tmp_path / ".locks"))
    _allowed[:] = [os.path.realpath(tmp_path_factory.getbasetemp())]
    try:
        yield
    finally:
        _allowed.clear()
        _not_a_subreaper()


def _not_a_subreaper() -> None:
    """A local launcher run in this process made it the subreaper of its runs (compliance/pipeline/launch/local.py):
    it stops being one, so orphans of the next tests' processes go to init as they would without it."""
    try:
        ctypes.CDLL(None).prctl(36, 0, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):  # not Linux
        pass


@pytest.fixture
def specs_copy(tmp_path: Path) -> Path:
    """A copy of the shipped rounds, models and tests, with an empty systems folder."""
    root = tmp_path / "specs"
    for kind in ("rounds", "models", "tests"):
        shutil.copytree(SHIPPED_SPECS / kind, root / kind)
    (root / "systems").mkdir()
    return root


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Real LoadGen runs of the demo harness, cached for the session (skips without LoadGen)."""
    pytest.importorskip("mlperf_loadgen")
    from tests.helpers.demo_runs import DemoRuns

    return DemoRuns(tmp_path_factory.mktemp("loadgen"))
