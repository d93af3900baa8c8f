"""The fuzz corpus, generated here: bad logs for every verifier and bad specs, none may end in a traceback.

Each bad-log case replaces one input file of an honest compliance run with a broken one, after a good
verification wrote its output folder: the command must exit 1 (the test fails, the folder replaced whole by a
failing verdict) or 2 (unusable input, named in the one ``error:`` line, the old folder intact), never anything
else. Each bad-spec case must exit 2 with every line naming the broken file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.cli import main
from tests.helpers import logwriter as w
from tests.helpers.paths import SHIPPED_SPECS, write_tree

SPECS = ["--specs", str(SHIPPED_SPECS)]
SEED = w.AUDIT_SEED
EFFECTIVE = {
    "effective_accuracy_log_rng_seed": SEED,
    "effective_accuracy_log_sampling_target": 4096,
    "effective_test_mode": "PerformanceOnly",
    "effective_performance_issue_unique": False,
    "effective_performance_issue_same": True,
    "effective_performance_issue_same_index": 3,
}
OUTPUTS = {q: [q, q + 1, 7] for q in range(16)}
TEST05_SEEDS = {"effective_qsl_rng_seed": 1, "effective_sample_index_rng_seed": 2, "effective_schedule_rng_seed": 3}

# -- ways to break a file -----------------------------------------------------------------------------------------

Mutation = Callable[[str], str]


def _detail_record(key: str, value: str) -> Mutation:
    return lambda text: text.replace(f'"key": "{key}", "value": ', f'"key": "{key}", "value": {value}, "x": ', 1)


DETAIL_MUTATIONS: dict[str, Mutation] = {
    "empty": lambda t: "",
    "binary": lambda t: "\x00\xff\xfe garbage \x01" * 50,
    "first line not a record": lambda t: "hello\n" + t,
    "cut in half": lambda t: t[: len(t) // 2],
    "cut mid-record": lambda t: t[: t.index("effective_scenario") + 5],
    "one 2 MB line": lambda t: ":::MLLOG " + "x" * (2 << 20) + "\n" + t,
    "deep nesting": lambda t: t + ":::MLLOG " + "[" * 100_000 + "]" * 100_000 + "\n",
    "scenario list": _detail_record("effective_scenario", '["Offline"]'),
    "scenario dict": _detail_record("effective_scenario", '{"a": 1}'),
    "scenario number": _detail_record("effective_scenario", "3"),
    "scenario null": _detail_record("effective_scenario", "null"),
    "scenario bool": _detail_record("effective_scenario", "true"),
    "scenario unknown": _detail_record("effective_scenario", '"Batch"'),
    "score zero": _detail_record("result_samples_per_second", "0"),
    "score negative": _detail_record("result_samples_per_second", "-5"),
    "score string": _detail_record("result_samples_per_second", '"fast"'),
    "score huge": _detail_record("result_samples_per_second", "1e308"),
    "score NaN token": _detail_record("result_samples_per_second", "NaN"),
    "score Infinity": _detail_record("result_samples_per_second", "Infinity"),
    "score 5000 digits": _detail_record("result_samples_per_second", "9" * 5000),
    "validity number": _detail_record("result_validity", "1"),
    "validity INVALID": _detail_record("result_validity", '"INVALID"'),
    "mode accuracy": _detail_record("effective_test_mode", '"AccuracyOnly"'),
    "sampling target string": _detail_record("effective_accuracy_log_sampling_target", '"4096"'),
    "sampling target list": _detail_record("effective_accuracy_log_sampling_target", "[4096]"),
    "num_errors string": lambda t: t.replace('"key": "num_errors", "value": 0', '"key": "num_errors", "value": "x"'),
    "metadata not a dict": lambda t: t.replace('"metadata": {', '"metadata": 7, "m": {'),
    "key not a string": lambda t: t.replace('{"key": "effective_scenario"', '{"key": 5, "k": "effective_scenario"', 1),
    "no audit warning": lambda t: "\n".join(x for x in t.splitlines() if "Found Audit Config" not in x) + "\n",
    "rejected audit config": lambda t: t.replace(
        '{"key": "num_errors"',
        '{"key": "error_invalid_config", "value": "value needs to be integer or double, '
        'line=3", "time_ms": 0, "namespace": "", "event_type": "", "metadata": {"is_error": true}}\n:::MLLOG '
        '{"key": "num_errors"',
    ),
    "crlf line ends": lambda t: t.replace("\n", "\r\n"),
    "only records of nothing": lambda t: ":::MLLOG {}\n:::MLLOG []\n:::MLLOG 1\n",
    "utf-16": lambda t: t.encode("utf-16").decode("latin-1"),
    "duplicate scenario": lambda t: t + t,
    # issue 24: strings of a log are data (no verdict line forged, no terminal escape played)
    "forged invalid reason": lambda t: (
        t.replace('"result_validity", "value": "VALID"', '"result_validity", "value": "INVALID"')
        + w.detail_log({"result_invalid_reason": "x\nTEST PASS\nEOS check pass: True\n"}).split("\n", 1)[1]
    ),
    "forged scenario": _detail_record("effective_scenario", '"Offline\\nTEST PASS\\nEOS check pass: True"'),
    "forged config error": lambda t: t.replace(
        '{"key": "num_errors"',
        '{"key": "error_invalid_config", "value": "x\\nTEST PASS\\n", "time_ms": 0, "namespace": "", '
        '"event_type": "", "metadata": {"is_error": true}}\n:::MLLOG {"key": "num_errors"',
    ),
    "terminal escapes": _detail_record("effective_scenario", '"Offline\\u001b]0;owned\\u0007\\u001b[2J"'),
    # issue 20: real logs hold a loaded_qsl_set line of megabytes (read past); a needed one that long is refused
    "loaded_qsl_set 3 MB": lambda t: t.replace(
        ":::MLLOG",
        ':::MLLOG {"key": "loaded_qsl_set", "value": [' + "123456," * 450_000 + '1], "metadata": {}}\n:::MLLOG',
        1,
    ),
    "needed line 2 MB": lambda t: t + ':::MLLOG {"key": "result_invalid_reason", "value": "' + "x" * (2 << 20) + '"}\n',
}

SUMMARY_MUTATIONS: dict[str, Mutation] = {
    "empty": lambda t: "",
    "garbage": lambda t: "no colon here\n" * 10,
    "INVALID": lambda t: t.replace("Result is : VALID", "Result is : INVALID"),
    "other scenario": lambda t: t.replace("Scenario : Offline", "Scenario : Server"),
    "other mode": lambda t: t.replace("Mode     : PerformanceOnly", "Mode     : AccuracyOnly"),
    "no result line": lambda t: "\n".join(x for x in t.splitlines() if "Result is" not in x) + "\n",
    "one 2 MB line": lambda t: "x" * (2 << 20) + "\n" + t,
    "cut in half": lambda t: t[: len(t) // 2],
    "binary": lambda t: "\x00\xff" * 100,
    "score text": lambda t: t.replace("Samples per second: ", "Samples per second: fast "),
    "score negative": lambda t: t.replace("Samples per second: ", "Samples per second: -"),
    "duplicated": lambda t: t + t.replace("VALID", "INVALID"),
}


def _entry_data(data: str) -> Mutation:
    return lambda t: t.replace('"data" : "', f'"data" : "{data}', 1)


ACCURACY_MUTATIONS: dict[str, Mutation] = {
    "empty": lambda t: "",
    "open bracket": lambda t: "[",
    "close bracket": lambda t: "]",
    "not an array": lambda t: '{"a": 1}',
    "empty array": lambda t: "[\n]\n",
    "cut in half": lambda t: t[: len(t) // 2],
    "cut after a comma": lambda t: t[: t.index("},") + 2],
    "truncation marker": lambda t: w.truncate(t, 60, 60),
    "truncation marker, crlf": lambda t: w.truncate(t, 60, 60, crlf=True),
    "truncation marker, string qsl_idx": lambda t: w.truncate(
        t.replace('"qsl_idx" : 1,', '"qsl_idx" : "1",', 1), 60, 60
    ),
    "trailing garbage": lambda t: t + "garbage",
    "two arrays": lambda t: t + t,
    "odd hex": _entry_data("A"),
    "non-hex": _entry_data("ZZ"),
    "escape in data": _entry_data("\\\\u0041"),
    "line break in data": _entry_data("AB\n"),
    "data number": lambda t: t.replace('"data" : "', '"data" : 5, "d" : "', 1),
    "data missing": lambda t: t.replace('"data" : "', '"dato" : "', 1),
    "qsl_idx string": lambda t: t.replace('"qsl_idx" : 1,', '"qsl_idx" : "1",', 1),
    "qsl_idx true": lambda t: t.replace('"qsl_idx" : 1,', '"qsl_idx" : true,', 1),
    "qsl_idx float": lambda t: t.replace('"qsl_idx" : 1,', '"qsl_idx" : 1.5,', 1),
    "qsl_idx negative": lambda t: t.replace('"qsl_idx" : 1,', '"qsl_idx" : -1,', 1),
    "qsl_idx exponent": lambda t: t.replace('"qsl_idx" : 1,', '"qsl_idx" : 1e3,', 1),
    "qsl_idx 5000 digits": lambda t: t.replace('"qsl_idx" : 1,', '"qsl_idx" : ' + "9" * 5000 + ",", 1),
    "qsl_idx 70 digits": lambda t: t.replace('"qsl_idx" : 1,', '"qsl_idx" : ' + "1" * 70 + ",", 1),
    "qsl_idx missing": lambda t: t.replace('"qsl_idx" : 1,', "", 1),
    "nested object": lambda t: t.replace('"data" : "', '"x" : {"y" : 1}, "data" : "', 1),
    "nested array": lambda t: t.replace('"data" : "', '"x" : [1, 2], "data" : "', 1),
    "deep nesting": lambda t: t.replace('"data" : "', '"x" : ' + "[" * 50_000 + "]" * 50_000 + ', "data" : "', 1),
    "unquoted key": lambda t: t.replace('"seq_id"', "seq_id", 1),
    "missing colon": lambda t: t.replace('"seq_id" :', '"seq_id"', 1),
    "missing comma": lambda t: t.replace("},\n", "}\n", 1),
    "whitespace 1 MB": lambda t: "[" + " " * (1 << 20) + t[1:],
    "huge data": _entry_data("AB" * (1 << 20)),
    "token_count string": lambda t: t.replace('"token_count" : ', '"token_count" : "x", "t" : ', 1),
    "token_count missing": lambda t: t.replace('"token_count"', '"token_kount"'),
    "token_data odd": lambda t: t.replace('"token_data" : "', '"token_data" : "A', 1),
    "duplicate keys": lambda t: t.replace('"seq_id" : 0,', '"seq_id" : 0, "seq_id" : 1,', 1),
    "null byte": lambda t: t.replace('"seq_id"', '"seq\x00id"', 1),
}


# -- an honest run of each test -------------------------------------------------------------------------------------


def _dlrm(q: int, accuracy: bool) -> list[float]:
    preds = [0.2 + 0.1 * ((q + j) % 7) for j in range(4)]
    labels = [float((q + j) % 2) for j in range(4)]
    return [q // 4, q % 4, *preds, *labels, 1.0, 1.0, 1.0, 1.0, 4.0] if accuracy else [q // 4, q % 4, *preds]


def _results(root: Path, test: str = "TEST01") -> None:
    if test == "TEST08":
        entries = (w.accuracy_entry(i, q, w.hexdata(_dlrm(q, True), "<f")) for i, q in enumerate(OUTPUTS))
        write_tree(root, {"accuracy": {"mlperf_log_accuracy.json": w.accuracy_log(entries)}})
        return
    entries = (w.accuracy_entry(i, q, w.hexdata(v)) for i, (q, v) in enumerate(OUTPUTS.items()))
    write_tree(
        root,
        {
            "accuracy": {"mlperf_log_accuracy.json": w.accuracy_log(entries)},
            "performance": {
                "run_1": {
                    "mlperf_log_detail.txt": w.perf_detail("Offline", 1000.0),
                    "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
                }
            },
        },
    )


def _compliance(root: Path, test: str) -> None:
    if test == "TEST06":
        entries = [
            w.accuracy_entry(i, i, w.hexdata([5, 6, 2]), token_data=w.hexdata([5]), token_count=3) for i in range(100)
        ]
        write_tree(
            root,
            {
                "mlperf_log_accuracy.json": w.accuracy_log(entries),
                "mlperf_log_detail.txt": w.detail_log(
                    {
                        "effective_scenario": "Server",
                        **{k: v for k, v in EFFECTIVE.items() if "issue" not in k},
                        "effective_accuracy_log_sampling_target": 100,
                        "effective_min_duration_ms": 0,
                        "effective_min_query_count": 100,
                        "effective_sample_concatenate_permutation": False,
                    },
                    audit=True,
                ),
            },
        )
        return
    if test in ("TEST08", "TEST09"):
        _compliance_08_09(root, test)
        return
    if test == "TEST07":
        _compliance_07(root)
        return
    if test == "TEST05":
        write_tree(
            root,
            {
                "mlperf_log_detail.txt": w.perf_detail(
                    "Offline",
                    1005.0,
                    audit=True,
                    warnings=["Test05 flag detected Overriding random seeds"],
                    **TEST05_SEEDS,
                ),
                "mlperf_log_summary.txt": w.summary_log("Offline", 1005.0),
            },
        )
        return
    # TEST01+fallback: the first element of sample 3 differs (not bit-exact), the accuracy command decides
    outputs = {**OUTPUTS, 3: [9, 4, 7]} if test == FALLBACK else OUTPUTS
    entries = (w.accuracy_entry(i, q, w.hexdata(outputs[q])) for i, q in enumerate((1, 3, 5)))
    effective = {k: v for k, v in EFFECTIVE.items() if ("issue" in k) == (test == "TEST04") or "mode" in k}
    write_tree(
        root,
        {
            "mlperf_log_accuracy.json": w.accuracy_log(entries),
            "mlperf_log_detail.txt": w.perf_detail("Offline", 1005.0, audit=True, **effective),
            "mlperf_log_summary.txt": w.summary_log("Offline", 1005.0),
        },
    )


def _compliance_07(root: Path) -> None:
    """gpt-oss-120b's TEST07: its 990 compliance samples once each, int32 tokens, the audit settings in effect."""
    entries = w.test07_entries()
    effective = w.TEST07_EFFECTIVE
    write_tree(
        root,
        {
            "mlperf_log_accuracy.json": w.accuracy_log(entries),
            "mlperf_log_detail.txt": w.perf_detail("Offline", 50.0, audit=True, **effective),
            "mlperf_log_summary.txt": w.summary_log("Offline", 50.0),
        },
    )


def _compliance_08_09(root: Path, test: str) -> None:
    effective: dict[str, object] = {
        "effective_scenario": "Offline",
        "effective_test_mode": "PerformanceOnly",
        "effective_accuracy_log_rng_seed": SEED,
    }
    if test == "TEST08":
        entries = [w.accuracy_entry(i, q, w.hexdata(_dlrm(q, False), "<f")) for i, q in enumerate(OUTPUTS)]
        effective.update(
            effective_accuracy_log_sampling_target=4096, generated_query_count=1, generated_samples_per_query=16
        )
    else:  # e2e-rag-qna: its 824 samples, 274 tokens each (bounds 246.43-301.19)
        tokens = w.hexdata(range(100, 374))
        entries = [w.accuracy_entry(i, i, tokens, token_count=274) for i in range(824)]
        effective.update(
            effective_accuracy_log_sampling_target=10000,
            effective_samples_per_query=824,
            effective_min_duration_ms=0,
            effective_sample_concatenate_permutation=False,
        )
    write_tree(
        root,
        {
            "mlperf_log_accuracy.json": w.accuracy_log(entries),
            "mlperf_log_detail.txt": w.detail_log(effective, audit=True),
            "mlperf_log_summary.txt": w.summary_log("Offline", 1005.0),
        },
    )


FALLBACK = "TEST01+fallback"  # TEST01 whose outputs are not bit-exact, with an accuracy command (Part III)
SCORES = {  # accuracy commands that print a fixed score, whatever the log (the verifiers read only their output)
    "TEST07": "echo \"'exact_match': 70.000\" # {accuracy_log}",
    FALLBACK: "echo 'accuracy=76.000%, good=3, total=3' # {accuracy_log}",
}

TARGETS = {  # (test, the file broken) -> mutations
    ("TEST01", "comp/mlperf_log_detail.txt"): DETAIL_MUTATIONS,
    ("TEST01", "res/performance/run_1/mlperf_log_detail.txt"): DETAIL_MUTATIONS,
    ("TEST01", "comp/mlperf_log_summary.txt"): SUMMARY_MUTATIONS,
    ("TEST01", "comp/mlperf_log_accuracy.json"): ACCURACY_MUTATIONS,
    ("TEST01", "res/accuracy/mlperf_log_accuracy.json"): ACCURACY_MUTATIONS,
    ("TEST04", "comp/mlperf_log_detail.txt"): DETAIL_MUTATIONS,
    ("TEST04", "comp/mlperf_log_summary.txt"): SUMMARY_MUTATIONS,
    ("TEST05", "comp/mlperf_log_detail.txt"): DETAIL_MUTATIONS,
    ("TEST05", "comp/mlperf_log_summary.txt"): SUMMARY_MUTATIONS,
    ("TEST05", "res/performance/run_1/mlperf_log_detail.txt"): DETAIL_MUTATIONS,
    ("TEST06", "comp/mlperf_log_accuracy.json"): ACCURACY_MUTATIONS,
    ("TEST06", "comp/mlperf_log_detail.txt"): DETAIL_MUTATIONS,
    ("TEST08", "comp/mlperf_log_accuracy.json"): ACCURACY_MUTATIONS,
    ("TEST08", "res/accuracy/mlperf_log_accuracy.json"): ACCURACY_MUTATIONS,
    ("TEST08", "comp/mlperf_log_detail.txt"): DETAIL_MUTATIONS,
    ("TEST09", "comp/mlperf_log_accuracy.json"): ACCURACY_MUTATIONS,
    ("TEST09", "comp/mlperf_log_detail.txt"): DETAIL_MUTATIONS,
    ("TEST07", "comp/mlperf_log_accuracy.json"): ACCURACY_MUTATIONS,
    ("TEST07", "comp/mlperf_log_detail.txt"): DETAIL_MUTATIONS,
    # the fallback's readers: the baseline streamed from the accuracy run's log, and the compliance log
    (FALLBACK, "res/accuracy/mlperf_log_accuracy.json"): ACCURACY_MUTATIONS,
    (FALLBACK, "comp/mlperf_log_accuracy.json"): ACCURACY_MUTATIONS,
}
CASES = [(test, target, name) for (test, target), mutations in TARGETS.items() for name in mutations]


def _args(test: str, root: Path) -> list[str]:
    args = ["verify", _verifier(test), "-c", str(root / "comp"), "-o", str(root / "out"), *SPECS]
    if test == "TEST07":
        return [*args, "--model", "gpt-oss-120b", "--accuracy-command", SCORES[test]]
    if test == FALLBACK:
        args += ["--model", "resnet", "--accuracy-command", SCORES[test]]
    if test == "TEST06":
        return [*args, "-s", "Server", "--model", "llama2-70b-99"]
    if test == "TEST08":
        return [*args, "-r", str(root / "res"), "--model", "dlrm-v3"]
    if test == "TEST09":
        return [*args, "-s", "Offline", "--model", "e2e-rag-qna"]
    return [*args, "-r", str(root / "res")] + (["--dtype", "int32"] if _verifier(test) == "TEST01" else [])


def _verifier(test: str) -> str:
    """The test a case verifies (TEST01+fallback is TEST01)."""
    return test.split("+")[0]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_there_are_enough_bad_log_cases() -> None:
    assert len(CASES) >= 150


_HONEST: dict[str, Path] = {}


def _honest(test: str, factory: pytest.TempPathFactory) -> Path:
    """An honest run of ``test`` and its passing output folder, made once per test and copied into each case."""
    if test not in _HONEST:
        root = factory.mktemp("honest-" + test.replace("+", "-"))
        _results(root / "res", test)
        _compliance(root / "comp", test)
        assert main(_args(test, root)) == 0  # the honest run passes
        _HONEST[test] = root
    return _HONEST[test]


@pytest.mark.parametrize(("test", "target", "mutation"), CASES, ids=[f"{t}-{f}-{m}" for t, f, m in CASES])
def test_a_bad_log_never_ends_in_a_traceback(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, capsys, test: str, target: str, mutation: str
) -> None:
    shutil.copytree(_honest(test, tmp_path_factory), tmp_path, dirs_exist_ok=True)
    capsys.readouterr()
    before = _snapshot(tmp_path / "out" / _verifier(test))
    path = tmp_path / target
    path.write_bytes(
        TARGETS[(test, target)][mutation](path.read_text(encoding="utf-8")).encode("utf-8", "surrogatepass")
    )
    code = main(_args(test, tmp_path))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    folder = tmp_path / "out" / _verifier(test)
    if code == 0:  # a field this test does not read: still a complete, passing folder
        assert json.loads((folder / "verify.json").read_text(encoding="utf-8"))["verdict"] == "PASS"
        assert set(_snapshot(folder)) == set(before)
        return
    assert code in (1, 2), (code, out, err)
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1 and str(path.parent) in err, err
        assert _snapshot(folder) == before  # the good output is intact
    else:
        data = json.loads((folder / "verify.json").read_text(encoding="utf-8"))
        assert data["verdict"] in ("FAIL", "NOT CHECKABLE") and data["official_verdict"] in ("PASS", "FAIL")
        # the reason: which check, and why (and for one that cannot be made, its cause)
        failed = [c for c in data["checks"] if c["outcome"] == data["verdict"]]
        assert failed and all(c["reason"] for c in failed)
        assert all(c["cause"] for c in failed if c["outcome"] == "NOT CHECKABLE")
        if data["verdict"] == "NOT CHECKABLE":  # only a log as the submission tools truncate it is not checkable
            assert mutation.startswith("truncation marker"), data["checks"]
        files = set(_snapshot(folder))
        if test == FALLBACK:  # a fallback that could not pass writes no fallback files: all of them or none
            part_iii = {f"accuracy/{n}_accuracy.txt" for n in ("baseline", "compliance")} | {"accuracy/accuracy.txt"}
            assert files <= set(before) and (part_iii <= files or not part_iii & files), files
        else:
            assert files == set(before)  # replaced whole: the same files, from the new verdict
        texts = [
            (folder / name).read_text(errors="replace")
            for name in ("verify_accuracy.txt", "verify_performance.txt", "verify_output_len.txt")
            if (folder / name).exists()
        ]
        # a string from a log never carries a verdict word into a line (issue 24): TEST PASS only as a line of its own
        assert all(line.strip() == "TEST PASS" for text in texts for line in text.splitlines() if "TEST PASS" in line)
        assert sum(line.strip() == "EOS check pass: True" for text in texts for line in text.splitlines()) <= 1
        if test == "TEST06":
            assert "TEST06 verification failed" in texts[0] or "TEST06 verification not checkable" in texts[0]
        else:  # the checker would not accept the folder: some text file does not say TEST PASS
            assert any("TEST PASS" not in text.splitlines() for text in texts)


# -- bad specs ------------------------------------------------------------------------------------------------------

GOOD_SYSTEM = {
    "name": "box",
    "round": "v5.0",
    "division": "closed",
    "submitter": "Acme",
    "submission_dir": "sub",
    "timeout": 60,
    "env": {"A": "1"},
    "benchmarks": {
        "resnet": {
            "scenarios": ["Offline"],
            "workdir": "w",
            "command": "run {mode} {log_dir}",
            "timeout": 30,
            "env": {"B": "2"},
            "log_dir": "logs",
            "reference": {},
        }
    },
}
BAD_VALUES = {
    "list": [1, 2],
    "dict": {"a": 1},
    "number": 7,
    "null": None,
    "bool": True,
    "negative": -1,
    "escape": "../../etc",
    "placeholder": "{bogus}",
    "empty": "",
    "slash": "/",
}
SYNTAX = {
    "tab indent": "name: box\n\tround: v5.0\n",
    "unclosed flow": "name: [box\n",
    "unclosed quote": 'name: "box\n',
    "duplicate key": "name: box\nname: box\n",
    "bad alias": "name: *nowhere\n",
    "recursive alias": "a: &a [*a]\n",
    "binary": "\x00\x01\x02",
    "not a mapping": "- a\n- b\n",
    "only a scalar": "box\n",
    "deep flow": "name: " + "[" * 5000 + "]" * 5000 + "\n",
    "huge integer": "name: box\ntimeout: " + "9" * 5000 + "\n",
    "nan": "name: box\ntimeout: .nan\n",
    "bom then tab": "\ufeffname:\tbox\n",
    "set tag": "name: !!set {a, b}\n",
    "python tag": "name: !!python/object:os.system ls\n",
    "key a list": "[a]: 1\n",
    "merge of scalar": "<<: 5\nname: box\n",
}


def _yaml(data: object) -> str:
    return json.dumps(data)  # JSON is YAML


#: (field, bad value) pairs that are valid after all: a number is a timeout, a mapping is an environment, any
#: relative path may be a submission or working folder
VALID_AFTER_ALL = {
    ("timeout", "number"),
    ("env", "dict"),
    ("submission_dir", "escape"),
    ("submission_dir", "placeholder"),
    ("benchmark.timeout", "number"),
    ("benchmark.env", "dict"),
    ("benchmark.workdir", "escape"),
    ("benchmark.log_dir", "escape"),
    ("benchmark.log_dir", "slash"),
}


def _spec_cases() -> list[tuple[str, str]]:
    cases = []
    for key in ("name", "round", "division", "submitter", "submission_dir", "timeout", "env", "benchmarks"):
        for label, value in BAD_VALUES.items():
            if GOOD_SYSTEM[key] == value or (key, label) in VALID_AFTER_ALL:
                continue
            cases.append((f"{key}={label}", _yaml({**GOOD_SYSTEM, key: value})))
    bench = GOOD_SYSTEM["benchmarks"]["resnet"]  # type: ignore[index]
    for key in ("scenarios", "workdir", "command", "timeout", "env", "log_dir", "reference"):
        for label, value in BAD_VALUES.items():
            if (
                bench.get(key) == value
                or (key == "command" and label in ("escape", "slash"))
                or (f"benchmark.{key}", label) in VALID_AFTER_ALL
            ):
                continue
            cases.append(
                (f"benchmark.{key}={label}", _yaml({**GOOD_SYSTEM, "benchmarks": {"resnet": {**bench, key: value}}}))
            )
    cases += [(f"syntax: {name}", text) for name, text in SYNTAX.items()]
    cases += [
        ("unknown key", _yaml({**GOOD_SYSTEM, "sumbitter": "x"})),
        ("unknown benchmark key", _yaml({**GOOD_SYSTEM, "benchmarks": {"resnet": {**bench, "comand": "x"}}})),
        ("both results and reference", _yaml({**GOOD_SYSTEM, "benchmarks": {"resnet": {**bench, "results": "r"}}})),
        ("isolated and workdir", _yaml({**GOOD_SYSTEM, "benchmarks": {"resnet": {**bench, "isolated": True}}})),
        ("launcher unknown", _yaml({**GOOD_SYSTEM, "launcher": {"kind": "lokal"}})),
        ("env NUL", _yaml({**GOOD_SYSTEM, "env": {"A": "a\u0000b"}})),
        ("timeout huge", _yaml({**GOOD_SYSTEM, "timeout": 1e12})),
        ("name mismatch", _yaml({**GOOD_SYSTEM, "name": "other"})),
        # issue 24: declared inputs that no command may open (a FIFO beside the specs: the test makes it)
        ("inputs a FIFO", _yaml({**GOOD_SYSTEM, "inputs": ["fifo"]})),
        ("inputs /dev/zero", _yaml({**GOOD_SYSTEM, "inputs": ["/dev/zero"]})),
        ("inputs a device by a glob", _yaml({**GOOD_SYSTEM, "inputs": ["/dev/nul[l]"]})),
        ("benchmark inputs a FIFO", _yaml({**GOOD_SYSTEM, "benchmarks": {"resnet": {**bench, "inputs": ["fifo"]}}})),
        ("inputs a list", _yaml({**GOOD_SYSTEM, "inputs": [["a"]]})),
        ("inputs a number", _yaml({**GOOD_SYSTEM, "inputs": 7})),
    ]
    return cases


SPEC_CASES = _spec_cases()


def test_there_are_enough_bad_spec_cases() -> None:
    assert len(SPEC_CASES) >= 100


@pytest.mark.parametrize(("name", "text"), SPEC_CASES, ids=[n for n, _ in SPEC_CASES])
def test_a_bad_spec_never_ends_in_a_traceback(specs_copy: Path, capsys, name: str, text: str) -> None:
    spec = specs_copy / "systems" / "box.yaml"
    spec.write_text(text, encoding="utf-8", errors="surrogatepass")
    os.mkfifo(specs_copy.parent / "fifo")  # an input that names it is refused, never opened (a read would hang)
    code = main(["validate", "--specs", str(specs_copy)])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in out + err, (out, err)
    lines = err.splitlines()
    assert lines[-1].startswith("error: ") and all(str(spec) in line for line in lines[:-1]), err


def test_the_good_system_spec_is_good(specs_copy: Path, capsys) -> None:
    (specs_copy / "systems" / "box.yaml").write_text(_yaml(GOOD_SYSTEM), encoding="utf-8")
    assert main(["validate", "--specs", str(specs_copy)]) == 0, capsys.readouterr()


def test_a_spec_folder_that_is_a_file_or_a_hidden_spec_is_reported(specs_copy: Path, capsys) -> None:
    shutil.rmtree(specs_copy / "systems")
    (specs_copy / "systems").write_text("oops")
    (specs_copy / "tests" / ".TEST01.yaml").write_text("name: TEST01\n")
    assert main(["validate", "--specs", str(specs_copy)]) == 2
    err = capsys.readouterr().err
    assert "systems: is not a folder" in err and ".TEST01.yaml: a hidden spec file is not read" in err
