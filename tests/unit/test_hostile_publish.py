"""A passing re-publication never deletes the user's files (issue 24 item 2): whatever a TEST folder of the tree holds
that the tool did not write there (notes, a folder, the official scripts' output over one of its files, a folder it
has no record of publishing) is kept, with the folder as it was, in build/withdrawn/, and a line says so; a folder
holding only what the tool wrote is replaced as before. The publish step is called as doit calls it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compliance import records
from compliance.pipeline import actions
from compliance.records import PublishState
from compliance.verify.result import Verdict
from tests.helpers import pipeline as p

CELL = "box/resnet/Offline/TEST04"


pytestmark = pytest.mark.usefixtures("as_doit")  # tests/unit/conftest.py


@pytest.fixture
def cp():  # type: ignore[no-untyped-def]
    """A cell whose TEST folder the tool published."""
    found = p.cell(p.plan(p.system("box", "v5.0", p.bench("resnet"))), CELL)
    p.passing(found)
    return found


def _files(folder: str | Path) -> list[str]:
    return sorted(str(f.relative_to(folder)) for f in Path(folder).rglob("*") if f.is_file() or f.is_symlink())


def _kept() -> list[Path]:
    return sorted(Path("build/withdrawn", CELL).iterdir()) if Path("build/withdrawn", CELL).is_dir() else []


def _later(path: Path) -> None:
    """Make ``path`` look written after the publication (as an edit an instant later is)."""
    record = records.read_cell(p.cell(p.plan(p.system("box", "v5.0", p.bench("resnet"))), CELL)).publication
    assert record is not None
    os.utime(path, (record.time + 5, record.time + 5))


def _republish(cp, capsys) -> str:  # type: ignore[no-untyped-def]
    """A new passing verification, published: the console's line about the folder (stderr)."""
    p.verified(cp)
    assert actions.publish(cp) == {"outcome": "PASS", "reason": ""}
    assert _files(cp.tree_dir) == sorted(cp.verifier.files())  # the tool's folder, whole
    return capsys.readouterr().err


def _theirs(tree: Path, what: str) -> dict[str, str]:
    """Put the user's ``what`` into the TEST folder ``tree``; the files it made, by path, with their content."""
    if what == "a note":
        (tree / "notes.txt").write_text("rerun after the BIOS update\n")
        return {"notes.txt": "rerun after the BIOS update\n"}
    if what == "a folder":
        (tree / "official").mkdir()
        (tree / "official" / "verify_performance.txt").write_text("TEST PASS\n")
        return {"official/verify_performance.txt": "TEST PASS\n"}
    if what == "a note beside a log":
        (tree / "performance" / "run_1" / "README").write_text("mine\n")
        return {"performance/run_1/README": "mine\n"}
    if what == "a link":
        (tree / "data").symlink_to("/etc")
        return {}
    assert what == "the official script's output over a file of the tool's"
    (tree / "verify_performance.txt").write_text("TEST PASS (official)\n")
    _later(tree / "verify_performance.txt")
    return {"verify_performance.txt": "TEST PASS (official)\n"}


CASES = [
    "a note",
    "a folder",
    "a note beside a log",
    "a link",
    "the official script's output over a file of the tool's",
]


@pytest.mark.parametrize("what", CASES)
def test_what_the_user_put_in_a_test_folder_is_kept_when_it_is_published_again(cp, capsys, what: str) -> None:  # type: ignore[no-untyped-def]
    theirs = _theirs(Path(cp.tree_dir), what)
    said = _republish(cp, capsys)
    kept = _kept()
    assert len(kept) == 1, said
    for name, text in theirs.items():
        assert (kept[0] / name).read_text() == text
    assert str(kept[0]) in said and cp.tree_dir in said  # said on the console: which folder, where it went
    assert records.read_cell(cp).publication.state is PublishState.PUBLISHED  # type: ignore[union-attr]


def test_a_folder_the_tool_has_no_record_of_publishing_is_kept(tmp_path: Path, capsys) -> None:
    # the user's own TEST folder, there before the tool ever published the cell (the official scripts' output)
    cp = p.cell(p.plan(p.system("box", "v5.0", p.bench("resnet"))), CELL)
    tree = Path(cp.tree_dir)
    tree.mkdir(parents=True)
    (tree / "verify_performance.txt").write_text("TEST PASS\n")
    for _, _, run in cp.needed_runs():
        p.ran(run)
    p.verified(cp)
    assert actions.publish(cp)["outcome"] == "PASS"  # type: ignore[index]
    kept = _kept()
    assert len(kept) == 1 and (kept[0] / "verify_performance.txt").read_text() == "TEST PASS\n"
    said = capsys.readouterr().err
    assert str(kept[0]) in said and "verify_performance.txt" in said


def test_a_folder_put_where_a_withdrawn_one_was_is_kept(cp, capsys) -> None:  # type: ignore[no-untyped-def]
    p.verified(cp, Verdict.FAIL, "performance: speed-up 1.500 > 1.10")
    assert actions.publish(cp)["outcome"] == "FAIL"  # type: ignore[index]
    withdrawn = _kept()
    assert len(withdrawn) == 1 and not os.path.exists(cp.tree_dir)
    tree = Path(cp.tree_dir)
    tree.mkdir()
    (tree / "notes.txt").write_text("the user's\n")
    p.verified(cp)
    assert actions.publish(cp)["outcome"] == "PASS"  # type: ignore[index]
    kept = [k for k in _kept() if k not in withdrawn]
    assert len(kept) == 1 and (kept[0] / "notes.txt").read_text() == "the user's\n"
    assert not (withdrawn[0] / "TEST04").exists()  # within the same second: a folder of its own, not inside


def test_a_folder_holding_only_what_the_tool_wrote_is_replaced_without_a_word(cp, capsys) -> None:  # type: ignore[no-untyped-def]
    (Path(cp.tree_dir) / "verify.json").unlink()  # a file of the tool's gone: still the tool's folder
    assert "build/withdrawn" not in _republish(cp, capsys)
    assert _kept() == []


def test_a_folder_that_cannot_be_kept_is_not_replaced(cp, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    (Path(cp.tree_dir) / "notes.txt").write_text("the user's\n")

    def read_only(source: str, target: str) -> None:
        raise OSError(30, "Read-only file system", source)

    monkeypatch.setattr(actions.shutil, "move", read_only)
    p.verified(cp)
    done = actions.publish(cp)
    assert done["reason"] == f"cannot write {cp.tree_dir}: Read-only file system"  # type: ignore[index]
    assert (Path(cp.tree_dir) / "notes.txt").read_text() == "the user's\n"
