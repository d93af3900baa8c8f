"""Which results folders of the tree are the tool's to replace (reference: {publish: true}): only those holding
nothing but files its record says it wrote, unchanged."""

from __future__ import annotations

import os
from pathlib import Path

from compliance import records
from compliance.pipeline.actions import foreign_results
from compliance.plan import build_plan, load_specs
from compliance.records import PublishState, TreeCopyRecord


def _ref(specs: Path, root: Path):
    (specs / "systems" / "box.yaml").write_text(
        f"name: box\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: {root}/sub\nbenchmarks:\n"
        "  resnet:\n    scenarios: [Offline]\n    workdir: work\n    command: ./run.sh {mode}\n"
        "    reference: {publish: true}\n",
        encoding="utf-8",
    )
    plan = build_plan(load_specs(specs))
    return next(r for r in plan.references if r.mode == "accuracy")


def test_only_folders_holding_what_the_tool_wrote_are_its_own(specs_copy: Path, tmp_path: Path) -> None:
    ref = _ref(specs_copy, tmp_path)
    tree = Path(ref.tree_dir)
    assert str(tree).endswith("sub/closed/Acme/results/box/resnet/Offline/accuracy")
    assert foreign_results(ref, None) is None  # absent: nothing to own

    tree.mkdir(parents=True)
    (tree / "mlperf_log_detail.txt").write_text("ours")
    (tree / "mlperf_log_summary.txt").write_text("ours too")
    assert "did not write (mlperf_log_detail.txt, mlperf_log_summary.txt)" in (foreign_results(ref, None) or "")

    wrote = records.tree_stamps(str(tree))
    record = TreeCopyRecord(ref.tree_dir, PublishState.PUBLISHED, wrote)
    assert foreign_results(ref, record) is None
    interrupted = TreeCopyRecord(ref.tree_dir, PublishState.WRITING, {}, previous=wrote)
    assert foreign_results(ref, interrupted) is None  # an interrupted copy
    elsewhere = TreeCopyRecord("elsewhere", PublishState.PUBLISHED, wrote)
    assert foreign_results(ref, elsewhere) is not None  # a record of another folder

    (tree / "mlperf_log_summary.txt").unlink()
    assert foreign_results(ref, record) is None  # a file of ours gone: still ours

    (tree / "accuracy.txt").write_text("the user's")
    assert "did not write (accuracy.txt)" in (foreign_results(ref, record) or "")
    (tree / "accuracy.txt").unlink()

    later = os.stat(tree / "mlperf_log_detail.txt").st_mtime + 10
    os.utime(tree / "mlperf_log_detail.txt", (later, later))  # changed since it was copied
    assert "did not write (mlperf_log_detail.txt)" in (foreign_results(ref, record) or "")
