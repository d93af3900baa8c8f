"""Declared inputs and submission runs under hostile input (issue 24 items 5 and 6): an input that is a FIFO or a
device is refused by the specs' loading and never opened; a folder stands for its regular files; a pattern that
names nothing is warned about and its runs refuse to start; a submission run made in the wrong LoadGen mode fails
and is never copied into the tree. The steps are called as doit calls them, with a launcher that writes given logs
(tests/helpers/harness.py)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from compliance import records, status
from compliance.cli import main
from compliance.freshness import ReasonKind, run_reasons
from compliance.pipeline import actions
from compliance.records import RunRecord
from compliance.specs import inputs
from tests.helpers import harness as h
from tests.helpers import logwriter as w
from tests.helpers import pipeline as p

CELL = "box/retinanet/Offline/TEST01"


pytestmark = pytest.mark.usefixtures("as_doit")  # tests/unit/conftest.py


def _bounded(function, *args):  # type: ignore[no-untyped-def]
    """``function(*args)`` in a thread that must end within 10 s (a read of a FIFO or /dev/zero would not)."""
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(function(*args)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), f"{function.__name__}{args} did not end"
    return found[0]


def test_a_folder_stands_for_its_regular_files_and_nothing_else_is_opened(tmp_path: Path) -> None:
    p.gen(".", {"model": {"weights.bin": "w", "conf": {"user.conf": "c"}}})
    os.mkfifo("model/fifo")  # a reader of it would wait for ever
    os.symlink("/dev/zero", "model/zero")  # a reader of it would never end
    os.symlink("nowhere", "model/broken")
    os.symlink("weights.bin", "model/link.bin")
    server = socket.socket(socket.AF_UNIX)
    server.bind("model/socket")
    assert _bounded(inputs.files, ("model",)) == [
        "model/conf/user.conf",
        "model/link.bin",
        "model/weights.bin",
    ]
    stamps = _bounded(records.input_stamps, ("model",))
    assert sorted(stamps) == ["model/conf/user.conf", "model/link.bin", "model/weights.bin"]
    assert all(digest is not None for _, digest in stamps.values())
    server.close()


def test_what_is_no_regular_file_is_never_read(tmp_path: Path) -> None:
    os.mkfifo("fifo")
    assert _bounded(records.content_digest, "fifo") is None
    assert _bounded(records.content_digest, "/dev/zero") is None
    Path("file").write_text("data")
    assert _bounded(records.content_digest, "file") == records.content_digest("file") is not None


def test_a_changed_file_in_a_folder_input_reruns_the_run(tmp_path: Path) -> None:
    p.gen(".", {"model": {"weights.bin": "w", "sub": {"tokenizer.json": "t"}}})
    run = p.cell(p.plan(p.system("box", "v5.0", p.bench("retinanet", inputs=("model",)))), CELL).run
    p.ran(run)
    assert run_reasons(run, records.read_run(run)) == []
    Path("model/sub/tokenizer.json").write_text("another")
    assert [(r.kind, r.text) for r in run_reasons(run, records.read_run(run))] == [
        (ReasonKind.INPUT, "the declared input model/sub/tokenizer.json changed since the last run")
    ]


def _system_with_inputs(specs: Path, *patterns: str) -> Path:
    spec = specs / "systems" / "box.yaml"
    spec.write_text(
        "name: box\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: sub\n"
        "benchmarks:\n  resnet:\n    scenarios: [Offline]\n    workdir: w\n    command: run {mode} {log_dir}\n"
        f"    reference: {{}}\n    inputs: [{', '.join(patterns)}]\n"
    )
    return spec


def test_an_input_that_is_a_fifo_or_a_device_is_refused_by_validate(specs_copy: Path, capsys) -> None:
    os.mkfifo(specs_copy.parent / "fifo")
    os.symlink("/dev/zero", specs_copy.parent / "zero")
    _system_with_inputs(specs_copy, "fifo", "zero", "/dev/null")
    code = _bounded(main, ["validate", "--specs", "specs"])
    err = capsys.readouterr().err.splitlines()
    where = "specs/systems/box.yaml:12: $.benchmarks.resnet.inputs"
    assert code == 2
    assert err == [
        f"{where}[0]: declared input 'fifo' is a FIFO: an input is a regular file or a folder of them",
        f"{where}[1]: declared input 'zero' is a character device: an input is a regular file or a folder of them",
        f"{where}[2]: declared input '/dev/null' is a character device: an input is a regular file or a folder of them",
        "error: 3 problems in specs; nothing was run",
    ]


def test_an_input_that_names_nothing_is_warned_about_and_its_run_refuses_to_start(
    specs_copy: Path, fake_launcher: h.FakeLauncher, capsys
) -> None:
    _system_with_inputs(specs_copy, "'conf/*.conf'", "model.onnx")
    assert main(["validate", "--specs", "specs"]) == 0
    where = "specs/systems/box.yaml:12: $.benchmarks.resnet.inputs"
    assert capsys.readouterr().err.splitlines() == [
        f"{where}[0]: warning: declared input 'conf/*.conf' matches no file on this machine: a run refuses to "
        "start without it",
        f"{where}[1]: warning: declared input 'model.onnx': no such file or folder on this machine: a run refuses "
        "to start without it",
    ]
    p.gen(".", {"results": {"Offline": h.results()}})
    plan = p.plan(p.system("box", "v5.0", p.bench("retinanet", results="results/{scenario}", inputs=("conf/*.conf",))))
    cp = p.cell(plan, CELL)
    done = actions.run(cp)
    why = "declared input 'conf/*.conf' matches no file: correct 'inputs' in the system spec, or put the file there"
    assert done == {"outcome": "FAIL", "reason": why, "kind": "inputs", "signature": cp.run.signature}
    assert fake_launcher.calls == []  # never started
    record = RunRecord.load(cp.run.files.record)
    assert record is not None and (record.passed, record.reason) == (False, why)
    row = status.rows(plan)[0]
    assert row.status is status.RowStatus.FAIL and why in row.reason
    p.gen(".", {"conf": {"user.conf": "*.Offline.target_qps = 1\n"}})
    assert actions.run(cp)["outcome"] == "PASS" and fake_launcher.calls == [CELL]  # type: ignore[index]


@pytest.mark.parametrize(("mode", "logged"), [("accuracy", "PerformanceOnly"), ("performance", "AccuracyOnly")])
def test_a_submission_run_in_the_wrong_mode_fails_and_is_never_published(
    fake_launcher: h.FakeLauncher, mode: str, logged: str
) -> None:
    plan = p.plan(p.system("box", "v5.0", p.bench("retinanet", publish_reference=True)))
    ref = p.reference(plan, f"box/retinanet/Offline/{mode}")
    # the harness's `modes:` words swapped: the accuracy run made in PerformanceOnly mode, and the other way round
    logs = h.submission_logs(mode)
    logs["mlperf_log_detail.txt"] = w.perf_detail("Offline", 1000.0, effective_test_mode=logged)
    fake_launcher.outcomes[ref.id] = [logs]
    done = actions.reference(ref, [CELL])
    expected = "AccuracyOnly" if mode == "accuracy" else "PerformanceOnly"
    why = f"the submission's {mode} run was made in '{logged}' mode, not {expected}; rerun it in its mode"
    assert done["outcome"] == "FAIL" and done["reason"] == why  # type: ignore[index]
    assert actions.publish_reference(ref, [CELL])["reason"] == f"submission {mode} run: {why}"  # type: ignore[index]
    assert ref.tree_dir is not None and not os.path.exists(ref.tree_dir)
    fake_launcher.outcomes[ref.id] = [h.submission_logs(mode)]  # made again, in its mode
    assert actions.reference(ref, [CELL])["outcome"] == "PASS"  # type: ignore[index]
    assert actions.publish_reference(ref, [CELL])["outcome"] == "PASS"  # type: ignore[index]
