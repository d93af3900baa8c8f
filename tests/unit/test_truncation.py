"""The upload form (compliance/submission): the official truncation's cut and hash lines, the form of each TEST folder,
and the fixed point with the official truncation (emulated from its facts: tests/helpers/officialchain.py; the real
script in tests/integration/test_official_chain.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from compliance.submission import truncation, upload
from compliance.submission.upload import Change
from tests.helpers import logwriter, officialchain


def _log(entries: int) -> bytes:
    return logwriter.accuracy_log(logwriter.test07_entries(range(entries))).encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [0, 100, 4095])
def test_a_log_under_4096_bytes_stays_whole(tmp_path: Path, size: int) -> None:
    log = tmp_path / "log.json"
    log.write_bytes(b"x" * size)
    found = truncation.cut(str(log))
    assert found.data is None and found.size == size and found.form_sha256 == found.sha256 == _sha(b"x" * size)


@pytest.mark.parametrize("entries", [80, 200, 990])  # 5 KiB (halves overlap), 12 KiB, 62 KiB
def test_the_cut_is_the_first_and_last_4096_characters_and_a_fixed_point(tmp_path: Path, entries: int) -> None:
    data = _log(entries)
    log = tmp_path / "log.json"
    log.write_bytes(data)
    found = truncation.cut(str(log))
    assert found.sha256 == _sha(data) and found.size == len(data)
    assert found.data == data[:4096] + b"\n\n...\n\n" + data[-4096:] and len(found.data) == 8199
    assert truncation.cut_data(found.data) == found.data  # cutting the cut changes nothing
    log.write_bytes(found.data)
    assert truncation.cut(str(log)).data == found.data


def test_the_cut_reads_text_as_the_script_does(tmp_path: Path) -> None:
    """Universal newlines: CRLF read as LF (the script's text mode); the emulation of the script agrees."""
    data = _log(200).replace(b"\n", b"\r\n")
    log = tmp_path / "log.json"
    log.write_bytes(data)
    ours = truncation.cut(str(log)).data
    officialchain._cut(log)
    assert ours == log.read_bytes() and b"\r" not in ours


def test_a_log_that_is_not_utf8_cannot_be_cut(tmp_path: Path) -> None:
    log = tmp_path / "log.json"
    log.write_bytes(b"\xff" * 9000)
    with pytest.raises(truncation.NotText):
        truncation.cut(str(log))


def test_the_hash_line_as_the_script_reads_it() -> None:
    sha = "ab" * 32
    assert truncation.recorded_hash(truncation.appended("", sha)) == sha
    assert len(truncation.appended("", sha)) == truncation.NEW_HASH_FILE_BYTES == 71
    assert truncation.recorded_hash(f"acc = 76.1\nhash={sha}\nhash=00\n") == sha  # the first one
    assert truncation.recorded_hash("hash=\nhash = 12\n  hash=12\n") is None
    assert truncation.rewritten(sha) == f"hash={sha}\n"


def _verified(tmp_path: Path, test: str, entries: int, accuracy_txt: str | None = None) -> Path:
    folder = tmp_path / "verified" / test
    (folder / "accuracy").mkdir(parents=True)
    (folder / "performance/run_1").mkdir(parents=True)
    (folder / "accuracy/mlperf_log_accuracy.json").write_bytes(_log(entries))
    (folder / "performance/run_1/mlperf_log_detail.txt").write_text("detail\n")
    (folder / "verify_accuracy.txt").write_text("TEST PASS\n")
    if accuracy_txt is not None:
        (folder / "accuracy/accuracy.txt").write_text(accuracy_txt)
    return folder


def _names(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _write(planned: list[upload.Planned], target: Path) -> None:
    for p in planned:
        (target / p.name).parent.mkdir(parents=True, exist_ok=True)
        if p.data is not None:
            (target / p.name).write_bytes(p.data)
        else:
            assert p.source is not None
            shutil.copy2(p.source, target / p.name)


def test_test01s_upload_form(tmp_path: Path) -> None:
    folder = _verified(tmp_path, "TEST01", 990)
    full = (folder / "accuracy/mlperf_log_accuracy.json").read_bytes()
    planned = {p.name: p for p in upload.test_folder("TEST01", str(folder), _names(folder))}
    assert set(planned) == {*_names(folder), "accuracy/accuracy.txt"}
    text = planned["accuracy/accuracy.txt"].data
    assert text == f"\nhash={_sha(full)}\n".encode() and len(text) == 71
    log = planned["accuracy/mlperf_log_accuracy.json"]
    assert log.data == truncation.cut_data(full) and log.identity.sha256 == _sha(log.data)
    assert log.identity.whole == _sha(full) and log.identity.log
    assert planned["verify_accuracy.txt"].source == str(folder / "verify_accuracy.txt")
    assert planned["verify_accuracy.txt"].identity.sha256 == _sha(b"TEST PASS\n")


def test_test01s_fallback_keeps_its_accuracy_text_with_the_hash_appended(tmp_path: Path) -> None:
    folder = _verified(tmp_path, "TEST01", 30, accuracy_txt="acc = 76.1\n")
    full = (folder / "accuracy/mlperf_log_accuracy.json").read_bytes()
    planned = {p.name: p for p in upload.test_folder("TEST01", str(folder), _names(folder))}
    assert planned["accuracy/accuracy.txt"].data == f"acc = 76.1\n\nhash={_sha(full)}\n".encode()
    assert planned["accuracy/mlperf_log_accuracy.json"].source is not None  # 3 KiB: whole


@pytest.mark.parametrize("test", ["TEST07", "TEST09"])
def test_test07_and_test09_hash_the_cut_log_and_accept_the_full_logs_hash(tmp_path: Path, test: str) -> None:
    folder = _verified(tmp_path, test, 990, accuracy_txt="stale\n")
    full = (folder / "accuracy/mlperf_log_accuracy.json").read_bytes()
    planned = {p.name: p for p in upload.test_folder(test, str(folder), _names(folder))}
    cut = truncation.cut_data(full)
    text = planned["accuracy/accuracy.txt"]
    assert text.data == f"hash={_sha(cut)}\n".encode()
    assert text.identity.accepted == (_sha(f"hash={_sha(full)}\n".encode()),)


@pytest.mark.parametrize("test", ["TEST04", "TEST06", "TEST08"])
def test_other_tests_go_as_they_are(tmp_path: Path, test: str) -> None:
    folder = _verified(tmp_path, test, 990)
    planned = upload.test_folder(test, str(folder), _names(folder))
    assert sorted(p.name for p in planned) == _names(folder)
    assert all(p.source is not None and p.data is None for p in planned)


def _tree(tmp_path: Path, layout: str, tests: dict[str, int]) -> tuple[Path, dict[str, dict[str, upload.Identity]]]:
    """A submission tree holding the upload form of TEST folders (v5: compliance/; v6: results/), and the
    identities of what was written."""
    root = tmp_path / f"tree-{layout}"
    place = "compliance" if layout == "v5" else "results"
    written: dict[str, dict[str, upload.Identity]] = {}
    for test, entries in tests.items():
        folder = _verified(tmp_path / test, test, entries, accuracy_txt="acc\n" if test == "TEST09" else None)
        target = root / "closed/Org" / place / "sys/model/Offline" / test
        target.mkdir(parents=True)
        planned = upload.test_folder(test, str(folder), _names(folder))
        _write(planned, target)
        written[str(target)] = {p.name: p.identity for p in planned}
    return root, written


@pytest.mark.parametrize("era", officialchain.ERAS)
@pytest.mark.parametrize("layout", ["v5", "v6"])
def test_the_official_truncation_after_the_tool_changes_nothing(tmp_path: Path, era: str, layout: str) -> None:
    root, _ = _tree(tmp_path, layout, {"TEST01": 990, "TEST07": 990, "TEST09": 2000})
    before = officialchain.snapshot(root)
    told = officialchain.truncate_tree(root, "Org", era)
    assert officialchain.snapshot(root) == before, told
    officialchain.truncate_tree(root, "Org", era)
    assert officialchain.snapshot(root) == before


@pytest.mark.parametrize(
    ("layout", "era", "tests"),
    [("v6", "head", ("TEST01", "TEST07", "TEST09")), ("v5", "round", ("TEST01",))],
)
def test_a_tree_the_official_truncation_cut_from_full_logs_is_the_tools_own(
    tmp_path: Path, layout: str, era: str, tests: tuple[str, ...]
) -> None:
    """An earlier release put the full folders in the tree; the round's script cut them: every file holds a form
    the tool accepts (same content identity), so nothing is stale and nothing is copied back to full size."""
    root, written = _tree(tmp_path, layout, dict.fromkeys(tests, 2000))
    for folder in written:
        test = os.path.basename(folder)
        shutil.rmtree(folder)
        shutil.copytree(tmp_path / test / "verified" / test, folder)
        if test == "TEST01" and layout == "v6":  # b66003e needs it: an older tool's user wrote it empty
            (Path(folder) / "accuracy/accuracy.txt").write_text("")
    officialchain.truncate_tree(root, "Org", era)
    for folder, identities in written.items():
        for name, identity in identities.items():
            path = Path(folder) / name
            assert upload.change(str(path), identity, _stamp(path)) is None, path


def _stamp(path: Path) -> tuple[float, float]:
    st = path.stat()
    return st.st_mtime, float(st.st_size)


def test_a_changed_file_is_told_how_it_changed(tmp_path: Path) -> None:
    root, written = _tree(tmp_path, "v6", {"TEST01": 990})
    [(folder, identities)] = written.items()
    log, verdict = Path(folder) / "accuracy/mlperf_log_accuracy.json", Path(folder) / "verify_accuracy.txt"
    ids = {name: identities[name].with_stamp(_stamp(Path(folder) / name)) for name in identities}
    assert all(upload.change(str(Path(folder) / n), i, _stamp(Path(folder) / n)) is None for n, i in ids.items())
    os.utime(verdict, (1, 1))  # touched, same content: current
    assert upload.change(str(verdict), ids["verify_accuracy.txt"], _stamp(verdict)) is None
    verdict.write_text("TEST FAIL\n")
    assert upload.change(str(verdict), ids["verify_accuracy.txt"], _stamp(verdict)) is Change.EDITED
    full = (tmp_path / "TEST01/verified/TEST01/accuracy/mlperf_log_accuracy.json").read_bytes()
    log.write_bytes(full[:5000] + b"\n\n...\n\n" + full[-2000:])  # cut by hand, otherwise
    assert upload.change(str(log), ids["accuracy/mlperf_log_accuracy.json"], _stamp(log)) is Change.CUT_OTHERWISE
    log.write_bytes(full)
    assert upload.change(str(log), ids["accuracy/mlperf_log_accuracy.json"], _stamp(log)) is Change.WHOLE
    log.write_bytes(full[:-10])
    assert upload.change(str(log), ids["accuracy/mlperf_log_accuracy.json"], _stamp(log)) is Change.EDITED
    log.unlink()
    assert upload.change(str(log), ids["accuracy/mlperf_log_accuracy.json"], None) is Change.MISSING
    assert "cut otherwise than the official truncation" in upload.describe(Change.CUT_OTHERWISE)


def test_a_results_folders_accuracy_log_is_accepted_cut(tmp_path: Path) -> None:
    run = tmp_path / "accuracy"
    run.mkdir()
    (run / "mlperf_log_accuracy.json").write_bytes(_log(990))
    (run / "mlperf_log_detail.txt").write_text("detail\n")
    planned = {p.name: p for p in upload.results_folder("accuracy", sorted(str(p) for p in run.iterdir()))}
    log = planned["mlperf_log_accuracy.json"].identity
    assert log.sha256 == _sha(_log(990)) and log.accepted == (_sha(truncation.cut_data(_log(990))),)
    assert planned["mlperf_log_detail.txt"].identity.accepted == ()
    assert upload.user_file("accuracy", "accuracy.txt") and not upload.user_file("performance", "accuracy.txt")
