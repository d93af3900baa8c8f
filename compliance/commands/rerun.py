"""``mlperf-compliance rerun SELECTION...``: run cells again from scratch, on purpose, keeping their ledger.

A selection is a cell id or a prefix of one by whole parts: ``demo/resnet/Offline/TEST04`` (one cell),
``demo/resnet`` (a benchmark), ``demo`` (a system). Under the build folder's lock
(:func:`compliance.pipeline.session.exclusive`), each chosen cell's compliance run is asked for again (a
``run.rerun`` request: until the run starts, ``doit info`` and the summary give it as the reason), with
``--submission-runs`` also the submission runs the system produces for it; then doit runs the publish tasks of the
chosen cells, and so their runs and verifications (and those of every other cell that compares with a submission run
asked for again, so that none is left stale), and those of the submission runs' copies in the tree, when the tree
holds them (``reference: {publish: true}``).
The attempts of earlier runs stay in each cell's ledger (``build/<cell>/attempts/``). The chosen cells' rows of the
summary follow. Exit status: 0 when every chosen cell passes, 1 otherwise, 2 for a selection that names no cell or a
build folder another doit is working on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TextIO

from compliance import status
from compliance.errors import UnknownName, did_you_mean
from compliance.pipeline import session
from compliance.plan import CellPlan, Plan, build_plan, load_specs
from compliance.records import RerunRequest


def select(plan: Plan, selections: Sequence[str]) -> list[CellPlan]:
    """The cells whose id starts with one of ``selections``, part by part (sorted, each once).

    Raises:
        UnknownName: a selection names no cell.
    """
    ids = [cp.cell.id for cp in plan.cells]
    prefixes = sorted({"/".join(i.split("/")[:n]) for i in ids for n in range(1, 5)})
    chosen: dict[str, CellPlan] = {}
    for selection in selections:
        parts = [p for p in selection.strip("/").split("/") if p]
        found = [cp for cp in plan.cells if parts and cp.cell.id.split("/")[: len(parts)] == parts]
        if not found:
            raise UnknownName(
                f"no cell matches '{selection}'{did_you_mean(selection, prefixes)}; give a system, "
                "system/benchmark, system/benchmark/scenario or a cell id (doit list run)"
            )
        chosen.update((cp.cell.id, cp) for cp in found)
    return [chosen[i] for i in sorted(chosen)]


def rerun(
    specs_dir: str, selections: Sequence[str], submission_runs: bool, run_doit: Callable[[list[str]], int], out: TextIO
) -> int:
    """Ask for new runs of the chosen cells, run doit on them, print their rows; 0 when every one passes."""
    plan = build_plan(load_specs(specs_dir))
    cells = select(plan, selections)
    by = "mlperf-compliance rerun " + " ".join(selections)
    chosen_ids = {cp.cell.id for cp in cells}
    again = {ref.id for cp in cells for ref in cp.references} if submission_runs else set()
    compare = [cp for cp in plan.cells if cp.cell.id not in chosen_ids and any(r.id in again for r in cp.references)]
    session.exclusive(["rerun"])  # held while the requests are written and doit runs (doit keeps it)
    try:
        for cp in cells:
            RerunRequest(by, time.time()).save(cp.run.files.rerun_request)
            if submission_runs:
                for ref in cp.references:
                    RerunRequest(by, time.time()).save(ref.run.files.rerun_request)
                if not cp.references and cp.reference_files:  # (TEST06 compares with no submission run)
                    print(f"{cp.cell.id}: its submission runs are given (results:), not produced: kept", file=out)
        print(f"rerun: {len(cells)} cell{'s' if len(cells) != 1 else ''}: {', '.join(sorted(chosen_ids))}", file=out)
        if compare:
            print(f"re-verified with the new submission runs: {', '.join(cp.cell.id for cp in compare)}", file=out)
        cells = cells + compare
        # the submission runs asked for again that the tree holds (reference: {publish: true}) are copied again
        copies = [ref for ref in plan.references if ref.id in again and ref.tree_dir is not None]
        out.flush()
        tasks = [f"publish:{cp.cell.id}" for cp in cells] + [f"publish:{ref.id}" for ref in copies]
        # then the review of each system whose part of the tree they change (it reruns only if the tree changed)
        systems = {cp.cell.system for cp in cells}
        tasks += [f"review:{rp.system}" for rp in plan.reviews if rp.system in systems]
        code = run_doit([*tasks, f"specs={specs_dir}"])
    finally:
        session.release()
    chosen = {(cp.cell.system, cp.cell.benchmark, cp.cell.scenario, cp.cell.test) for cp in cells}
    chosen |= {(ref.system, ref.benchmark, ref.scenario, ref.mode) for ref in copies}
    table = [r for r in status.rows(plan) if (r.system, r.benchmark, r.scenario, r.test) in chosen]
    out.write(status.render(table))
    if code not in (0, 1):
        return code
    return 0 if status.passed(table) else 1
