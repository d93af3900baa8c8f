"""fsutil.rotate: each new output pushes the older ones down, a bounded number is kept."""

from __future__ import annotations

from pathlib import Path

from compliance.fsutil import rotate


def test_rotate_keeps_the_newest_versions_in_order(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    rotate(log, 3)  # nothing to set aside yet
    assert list(tmp_path.iterdir()) == []
    for n in range(1, 6):
        rotate(log, 3)
        log.write_text(f"run {n}")
    assert log.read_text() == "run 5"
    assert [(tmp_path / f"run.log.{k}").read_text() for k in (1, 2, 3)] == ["run 4", "run 3", "run 2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.log", "run.log.1", "run.log.2", "run.log.3"]
