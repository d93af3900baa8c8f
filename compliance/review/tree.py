"""A submission tree as review sees it: its root, and its cells (division, organisation, system, benchmark, scenario)
with their submission runs and TEST folders, in both layouts.

Layouts (review.md §1, domain.md §5.1): up to v5.1 the TEST folders sit in
``<division>/<org>/compliance/<system>/<benchmark>/<scenario>/TESTxx/`` and the submission's runs in
``<division>/<org>/results/<system>/<benchmark>/<scenario>/{accuracy,performance/run_1}/``; from v6.0 the TEST folders
sit beside the runs, in ``results/.../<scenario>/TESTxx/``. Scenario folders may be in lower case (``offline``). A
cell's results may be in the other division only (the submission tools move failing closed results to open), and a
TEST folder may have no results at all (a withdrawn cell).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from compliance.errors import InputError
from compliance.layout import LOG_FILES, RESULT_RUNS
from compliance.specs.types import SCENARIOS

DIVISIONS = ("closed", "open", "network")
COMPLIANCE, RESULTS, SYSTEMS = "compliance", "results", "systems"
TEST_NAME = re.compile(r"^TEST\d\d$")
_SCENARIO = {s.lower(): s for s in SCENARIOS}


def scenario_name(folder: str) -> str | None:
    """The submission scenario a folder name stands for (``offline`` -> ``Offline``), or None."""
    return _SCENARIO.get(folder.lower())


@dataclass(frozen=True, order=True)
class CellKey:
    """Where a cell's folders are: the names as the tree spells them (a scenario folder may be lower case)."""

    division: str
    org: str
    system: str
    benchmark: str
    scenario_folder: str

    @property
    def scenario(self) -> str:
        return scenario_name(self.scenario_folder) or self.scenario_folder

    def label(self) -> str:
        return "/".join((self.division, self.org, self.system, self.benchmark, self.scenario_folder))


@dataclass
class Cell:
    """One cell of the tree: its TEST folders, its submission runs, and logs left where no checker looks."""

    key: CellKey
    compliance_dir: str | None = None  # the scenario folder under compliance/ (v5.x) or results/ (v6.x) with TESTs
    results_dir: str | None = None  # the scenario folder holding accuracy/ and performance/run_1/
    results_division: str | None = None  # set when the results are in the other division only
    tests: dict[str, str] = field(default_factory=dict)  # TESTxx -> its folder
    #: TESTxx -> a second folder of the test, in the other layout (v5.1 trees hold a few under results/ too)
    other_tests: dict[str, str] = field(default_factory=dict)
    stray_logs: list[str] = field(default_factory=list)  # LoadGen logs in the compliance folder outside a TEST

    @property
    def runs(self) -> dict[str, str]:
        """Submission run (accuracy, performance) -> its folder, for those the tree holds."""
        if self.results_dir is None:
            return {}
        found = {run: os.path.join(self.results_dir, sub) for run, sub in RESULT_RUNS.items()}
        return {run: path for run, path in found.items() if os.path.isdir(path)}

    def folders(self) -> list[str]:
        """Every folder of the cell (its scenario folders), for the scope test."""
        return [p for p in (self.compliance_dir, self.results_dir) if p is not None]


def find_root(path: str) -> str:
    """The root of the submission tree holding ``path``: the folder whose child is a division folder.

    Raises:
        InputError: ``path`` does not exist or is in no submission tree.
    """
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file or folder")
    here = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path))
    probe = here
    while True:
        if os.path.basename(probe) in DIVISIONS:
            return os.path.dirname(probe)
        if any(os.path.isdir(os.path.join(probe, d)) for d in DIVISIONS):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            raise InputError(
                f"{path}: not inside a submission tree (no closed/, open/ or network/ folder in it or above it)"
            )
        probe = parent


def _dirs(path: str) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(path) if e.is_dir())
    except OSError:
        return []


def _stray_logs(folder: str) -> list[str]:
    """LoadGen logs under a compliance scenario folder that lie outside every TEST folder."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        if dirpath == folder:
            dirnames[:] = [d for d in dirnames if not TEST_NAME.match(d)]
        found += [os.path.join(dirpath, f) for f in sorted(filenames) if f in LOG_FILES]
    return found


def walk(root: str) -> dict[CellKey, Cell]:
    """Every cell of the tree at ``root`` (directory listings only: no file is opened)."""
    cells: dict[CellKey, Cell] = {}
    for division in (d for d in DIVISIONS if os.path.isdir(os.path.join(root, d))):
        for org in _dirs(os.path.join(root, division)):
            for where in (COMPLIANCE, RESULTS):
                base = os.path.join(root, division, org, where)
                for system in _dirs(base):
                    for benchmark in _dirs(os.path.join(base, system)):
                        for scenario in _dirs(os.path.join(base, system, benchmark)):
                            if scenario_name(scenario) is None:
                                continue
                            folder = os.path.join(base, system, benchmark, scenario)
                            key = CellKey(division, org, system, benchmark, scenario)
                            cell = cells.setdefault(key, Cell(key))
                            _fill(cell, folder, where)
    _pair_other_division(root, cells)
    return cells


def _fill(cell: Cell, folder: str, where: str) -> None:
    tests = {d: os.path.join(folder, d) for d in _dirs(folder) if TEST_NAME.match(d)}
    if where == RESULTS:
        cell.results_dir = folder
        if tests:  # the v6.x layout: TEST folders beside the runs
            cell.compliance_dir = cell.compliance_dir or folder
    else:
        cell.compliance_dir = folder
        cell.stray_logs = _stray_logs(folder)
    for test, path in tests.items():
        if test in cell.tests:
            cell.other_tests[test] = path
        else:
            cell.tests[test] = path


def _pair_other_division(root: str, cells: dict[CellKey, Cell]) -> None:
    """A cell with TEST folders but no results in its division takes the other division's results, when there."""
    for key, cell in cells.items():
        if cell.results_dir is not None or not cell.tests:
            continue
        for division in DIVISIONS:
            if division == key.division:
                continue
            other = cells.get(CellKey(division, key.org, key.system, key.benchmark, key.scenario_folder))
            if other is not None and other.results_dir is not None:
                cell.results_dir, cell.results_division = other.results_dir, division
                break


def inside(path: str, scope: str) -> bool:
    """Whether ``path`` is ``scope`` or lies under it (both absolute)."""
    return path == scope or path.startswith(scope.rstrip(os.sep) + os.sep)


def in_scope(cell: Cell, scope: str) -> bool:
    """Whether the cell is reviewed when ``scope`` was asked for: the scope holds one of its scenario folders, or
    lies inside one (a single TEST folder)."""
    return any(inside(folder, scope) or inside(scope, folder) for folder in cell.folders())
