"""Log readers: detail and summary logs, and the streaming accuracy-log reader."""

from __future__ import annotations

import random
import re
import tracemalloc
from pathlib import Path

import pytest

from compliance.logs import MAX_LINE, LogError, scan
from compliance.logs import accuracy as logs
from compliance.logs.accuracy import AccuracyLog, HexField
from compliance.logs.detail import read_detail
from compliance.logs.summary import read_summary
from tests.helpers import logwriter as w
from tests.helpers.paths import PUBLISHED


def _write(tmp_path: Path, text: str | bytes, name: str = "log") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# -- detail log -----------------------------------------------------------------------------------------------------


def test_detail_first_value_wins_and_errors_are_collected(tmp_path: Path) -> None:
    text = w.detail_log({"a": 1}, audit=True, errors=[("error_invalid_config", "line=3")]) + w.detail_log({"a": 2})
    log = read_detail(_write(tmp_path, text))
    assert log.get("a") == 1 and "a" in log.duplicate_keys
    assert log.audit_config_found and log.error_messages("error_invalid_config") == ["line=3"]
    assert log.num_errors == 1  # the first num_errors record wins


def test_detail_skips_lines_that_are_not_records(tmp_path: Path) -> None:
    text = w.detail_log({"a": 1}) + "garbage\n:::MLLOG {not json\n"
    log = read_detail(_write(tmp_path, text))
    assert log.skipped_lines == 2 and log.get("a") == 1


@pytest.mark.parametrize("text", ["", "hello\n" + w.detail_log({"a": 1}), "[\n]\n"])
def test_detail_that_is_not_a_detail_log(tmp_path: Path, text: str) -> None:
    with pytest.raises(LogError):
        read_detail(_write(tmp_path, text))


def test_num_errors_counts_flagged_records_without_the_record(tmp_path: Path) -> None:
    text = "\n".join(
        line for line in w.detail_log({}, errors=[("error_runtime", "x")]).splitlines() if '"num_errors"' not in line
    )
    assert read_detail(_write(tmp_path, text)).num_errors == 1


def test_a_long_record_no_reader_needs_is_read_past_in_bounded_memory(tmp_path: Path) -> None:
    # real dlrm-v2 detail logs hold a 1.4 MB loaded_qsl_set line (rgat's is longer): issue 20 item 7
    samples = list(range(700_000))  # about 4.6 MB on one line
    text = w.detail_log({"effective_scenario": "Offline", "loaded_qsl_set": samples, "result_validity": "VALID"})
    path = _write(tmp_path, text.replace("\n", "\r\n"))
    tracemalloc.start()
    try:
        log = read_detail(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert log.get("result_validity") == "VALID" and "loaded_qsl_set" not in log.values
    assert log.unread["loaded_qsl_set"] > 4_000_000 and peak < 1 << 20, peak
    short = read_detail(_write(tmp_path, w.detail_log({"loaded_qsl_set": [1, 2]}), "short"))
    assert "loaded_qsl_set" not in short.values and short.unread["loaded_qsl_set"] > 0  # never held, whatever its size


def test_a_long_record_that_is_needed_is_refused_naming_its_key(tmp_path: Path) -> None:
    text = w.detail_log({"effective_scenario": "Offline", "result_invalid_reason": "x" * (MAX_LINE + 10)})
    with pytest.raises(LogError, match=r"line 3 \(key 'result_invalid_reason'\) is longer than 1048576 bytes"):
        read_detail(_write(tmp_path, text))
    under = w.detail_log({"effective_scenario": "Offline", "result_invalid_reason": "x" * (MAX_LINE - 400)})
    assert len(read_detail(_write(tmp_path, under, "under")).get("result_invalid_reason")) == MAX_LINE - 400


@pytest.mark.parametrize(
    "line",
    [
        w.detail_log({"a": [1, {"b": "c"}]}, errors=[("error_x", "bad")]).splitlines()[1],  # LoadGen's layout
        ':::MLLOG {"key": "a", "value": 1, "time_ms": 0, "metadata": {"is_warning": true}}',
        ':::MLLOG {"key": "a", "value": 1, "time_ms": 0, "metadata": 7}}',  # not JSON: skipped by both
        ':::MLLOG {"key": "a", "value": "x\\"y", "time_ms": 0, "metadata": {"is_error": true}}',
        ':::MLLOG {"value": 2, "key": "a", "metadata": {"is_error": true}}',  # another order: the general parser
        ':::MLLOG {"key": "a\\u0062", "value": 3, "time_ms": 0, "metadata": {}}',
        ':::MLLOG {"key": "a", "value": 4, "time_ms": 0, "metadata": {}} trailing',
    ],
)
def test_the_fast_reading_of_loadgens_layout_equals_the_general_parser(line: str) -> None:
    from compliance.logs import detail

    fast = detail._loadgen_record(line)
    slow = detail._general_record(line)
    if fast is not None:  # where the fast reading applies, it reads what the general parser reads
        assert slow is not None and fast[:2] == slow[:2]
        assert bool(fast[2].get("is_error")) == bool(slow[2].get("is_error"))
        assert bool(fast[2].get("is_warning")) == bool(slow[2].get("is_warning"))
    assert detail._record(line) == (fast if fast is not None else slow)


def test_published_dlrm_v2_detail_logs_are_read(tmp_path: Path) -> None:
    logs_ = sorted(PUBLISHED.glob("v*/closed/*/*/*/dlrm-v2-*/*/**/mlperf_log_detail.txt"))
    if not logs_:
        pytest.skip("../shared/fixtures/published is not here")
    for path in logs_:
        log = read_detail(path)
        assert log.scenario in ("Offline", "Server") and log.unread["loaded_qsl_set"] > 1_300_000, path


def test_summary_fields(tmp_path: Path) -> None:
    log = read_summary(_write(tmp_path, w.summary_log("SingleStream", 512345)))
    assert log.get("Scenario") == "SingleStream" and log.get("Result is") == "VALID"
    assert log.find(r"Early stopping 90(\.0)?th percentile estimate") == (
        "Early stopping 90.0th percentile estimate",
        "512345",
    )
    with pytest.raises(LogError):
        read_summary(_write(tmp_path, "no fields here\n"))


# -- accuracy log ---------------------------------------------------------------------------------------------------


def _entries(path: Path, **kwargs) -> tuple[list[logs.Entry], AccuracyLog]:
    log = AccuracyLog(path, **kwargs)
    return list(log), log


def test_loadgen_layout_with_token_fields(tmp_path: Path) -> None:
    text = w.accuracy_log([w.accuracy_entry(0, 7, w.hexdata([5, 2]), w.hexdata([5]), 2), w.accuracy_entry(1, 3, "")])
    entries, log = _entries(_write(tmp_path, text))
    assert log.entries == 2 and not log.truncated
    first = entries[0].fields
    assert first["qsl_idx"] == 7 and first["token_count"] == 2
    assert first["data"].text == b"0500000002000000" and first["token_data"].first_bytes(4) == b"\x05\x00\x00\x00"
    assert entries[1].fields["data"].length == 0


def test_empty_log(tmp_path: Path) -> None:
    entries, log = _entries(_write(tmp_path, "[\n]\n"))
    assert entries == [] and log.entries == 0


@pytest.mark.parametrize(
    "text",
    [
        '[{"data":"0A0B","qsl_idx":7}]',
        '[\n  {\n    "qsl_idx": 7,\n    "data": "0a0b"\n  }\n]\n',
        '[ {"seq_id":0,"qsl_idx":7,"data":"0A0B","extra":null,"flag":true,"x":-1.5e3} ]',
    ],
)
def test_other_json_layouts(tmp_path: Path, text: str) -> None:
    entries, log = _entries(_write(tmp_path, text))
    assert log.entries == 1 and entries[0].qsl_idx == 7 and entries[0].fields["data"].first_bytes(2) == b"\n\x0b"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("{}", "not a JSON array"),
        ('[\n{ "seq_id" : 0, "qsl_idx" : 1, "data" : "AB', "ends inside a string"),
        ('[\n{ "seq_id" : 0, "qsl_idx" : 1, "data" : "AB" }', "ends in the middle"),
        ('[\n{ "seq_id" : 0, "qsl_idx" : 1 "data" : "AB" }\n]', "expected ',' or '}'"),
        ('[\n{ "data" : "A\\"B" }\n]', "escape sequences"),
        ('[\n{ "data" : [1, 2] }\n]', "expected a value"),
        ("[]\n[]", "expected the end of the file"),
    ],
)
def test_malformed_logs_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LogError, match=re.escape(message)):
        _entries(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("data", "problem"),
    [("ABC", "odd number of hex digits (3)"), ("ABZZ", "non-hex character at position 2"), ("0A0B", None)],
)
def test_hex_problems(tmp_path: Path, data: str, problem: str | None) -> None:
    entries, _ = _entries(_write(tmp_path, w.accuracy_log([w.accuracy_entry(0, 1, data)])))
    assert entries[0].fields["data"].problem == problem


def _log_text(count: int, seed: int = 1) -> tuple[str, list[int]]:
    rng = random.Random(seed)
    qsls = [rng.randrange(100000) for _ in range(count)]
    text = w.accuracy_log(w.accuracy_entry(i, q, w.hexdata(range(rng.randrange(0, 40)))) for i, q in enumerate(qsls))
    return text, qsls


@pytest.mark.parametrize("cut", [4096, 4100, 4120, 4133, 4150, 5000])
def test_truncated_logs_read_what_is_there(tmp_path: Path, cut: int) -> None:
    text, _ = _log_text(400)
    truncated = w.truncate(text, head=cut, tail=3000)
    head, tail = truncated.split("\n\n...\n\n")
    whole = re.compile(r'\{ "seq_id" : \d+, "qsl_idx" : (\d+), "data" : "[0-9A-F]*" \}')
    expected = [int(q) for q in whole.findall(head)] + [int(q) for q in whole.findall(tail)]
    entries, log = _entries(_write(tmp_path, truncated))
    assert log.truncated and [e.qsl_idx for e in entries] == expected and log.entries == len(expected)


def test_a_crlf_truncated_log_reads_as_the_lf_one(tmp_path: Path) -> None:
    text, _ = _log_text(400)
    lf, lf_log = _entries(_write(tmp_path, w.truncate(text), "lf"))
    crlf, crlf_log = _entries(_write(tmp_path, w.truncate(text, crlf=True), "crlf"))
    assert [e.qsl_idx for e in crlf] == [e.qsl_idx for e in lf] and len(lf) > 10
    assert crlf_log.truncation is not None and crlf_log.truncation.crlf and crlf_log.truncation.marker.count(b"\r") == 4
    assert lf_log.truncation is not None and not lf_log.truncation.crlf
    assert crlf_log.truncation.offset == len(w.truncate(text, crlf=True).split("\r\n\r\n...")[0].encode())


@pytest.mark.parametrize("crlf", [False, True])
def test_a_log_of_under_8_kib_whose_halves_overlap_counts_each_entry_once(tmp_path: Path, crlf: bool) -> None:
    count = 1
    while len(_log_text(count + 1, seed=4)[0]) < 5500:
        count += 1
    text, qsls = _log_text(count, seed=4)  # a log of about 5.5 KB: its halves share about 2.7 KB
    entries, log = _entries(_write(tmp_path, w.truncate(text, crlf=crlf)))
    assert log.truncation is not None and log.truncation.overlap > 0
    assert [e.qsl_idx for e in entries] == qsls[: len(entries)] and len(entries) == log.entries
    assert len(entries) >= len(qsls) - 1  # at most the entry cut by the marker is lost
    picked, wanted_log = _entries(_write(tmp_path, w.truncate(text, crlf=crlf), "w"), wanted=set(qsls[::3]))
    assert [e.qsl_idx for e in picked] == [q for q in qsls[: len(entries)] if q in set(qsls[::3])]
    assert wanted_log.entries == log.entries


@pytest.mark.parametrize("where", ["in a word", "in a key", "after a comma", "after an entry"])
def test_a_cut_anywhere_in_an_entry_reads_as_truncated(tmp_path: Path, where: str) -> None:
    entry = '{ "seq_id" : 1, "qsl_idx" : 2, "flag" : true, "data" : "0A0B" }'
    head = {
        "in a word": '[\n{ "seq_id" : 0, "qsl_idx" : 1, "flag" : tr',
        "in a key": '[\n{ "seq_id" : 0, "qsl_i',
        "after a comma": '[\n{ "seq_id" : 0, "qsl_idx" : 1, "data" : "0A" },\n',
        "after an entry": '[\n{ "seq_id" : 0, "qsl_idx" : 1, "data" : "0A" }',
    }[where]
    entries, log = _entries(_write(tmp_path, head + "\n\n...\n\n" + '"AB" },\n' + entry + "\n]\n"))
    assert log.truncated and [e.qsl_idx for e in entries][-1] == 2


@pytest.mark.parametrize("qsl", ['"7"', "true", "null", "1.5"])
def test_a_qsl_idx_that_is_no_number_is_never_wanted(tmp_path: Path, qsl: str) -> None:
    # issue 24: a string qsl_idx met while a truncated log is parsed entry by entry ended in
    # "TypeError: unhashable type: 'HexField'"
    text = w.accuracy_log([w.accuracy_entry(i, i, "0A0B") for i in range(300)])
    text = text.replace('"qsl_idx" : 5,', f'"qsl_idx" : {qsl},')
    path = _write(tmp_path, w.truncate(text, 4096, 200))
    picked, log = _entries(path, wanted={1, 2, 5, 299})
    assert [e.qsl_idx for e in picked] == [1, 2, 299] and log.truncated


def test_a_second_truncation_marker_is_an_error(tmp_path: Path) -> None:
    text, _ = _log_text(400)
    with pytest.raises(LogError, match="a second truncation marker"):
        _entries(_write(tmp_path, w.truncate(w.truncate(text), 5000, 3000)))


def test_the_official_truncated_sample(tmp_path: Path) -> None:
    from tests.helpers.paths import SHARED_SAMPLES

    path = (
        SHARED_SAMPLES
        / "closed/AMD/results/8xMI300X_2xEPYC_9575F/llama2-70b-99/Server/accuracy/mlperf_log_accuracy.json"
    )
    if not path.exists():
        pytest.skip("../shared/fixtures is not here")
    entries, log = _entries(path)
    assert log.truncated and log.entries == len(entries) == 8


@pytest.fixture(params=["compiled", "regex"])
def either_scanner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the test with each scanner of wanted entries (compliance/scan.py)."""
    if request.param == "compiled" and not scan.COMPILED:
        pytest.skip("the compiled scanner was not built (no C compiler at install)")
    monkeypatch.setenv(scan.ENV, request.param)


@pytest.mark.usefixtures("either_scanner")
def test_wanted_filter_equals_a_full_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "BLOCK", 4096)  # many block boundaries inside entries, keys and numbers
    text, qsls = _log_text(3000)
    path = _write(tmp_path, text)
    wanted = set(random.Random(2).sample(qsls, 50)) | {99999999}
    full, _ = _entries(path)
    picked, log = _entries(path, wanted=wanted)
    assert [(e.ordinal, e.qsl_idx, e.fields["data"].text) for e in picked] == [
        (e.ordinal, e.qsl_idx, e.fields["data"].text) for e in full if e.qsl_idx in wanted
    ]
    assert log.entries == 3000


@pytest.mark.usefixtures("either_scanner")
def test_wanted_filter_with_a_truncated_log(tmp_path: Path) -> None:
    text, qsls = _log_text(400)
    path = _write(tmp_path, w.truncate(text, head=9000, tail=9000))
    full, _ = _entries(path)
    picked, log = _entries(path, wanted=set(qsls))
    assert [e.qsl_idx for e in picked] == [e.qsl_idx for e in full] and log.truncated


def test_huge_entry_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    big = "0123456789ABCDEF" * (1 << 20)  # 16 MiB of hex
    path = _write(tmp_path, w.accuracy_log([w.accuracy_entry(0, 5, big), w.accuracy_entry(1, 6, "AA")]))
    chunks: list[int] = []
    tracemalloc.start()
    entries, log = _entries(path, sink_factory=lambda fields, key: lambda c: chunks.append(len(c)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    field: HexField = entries[0].fields["data"]
    assert field.length == len(big) and field.text is None and field.problem is None
    assert field.first_bytes(2) == b"\x01\x23" and field.last_bytes(1) == b"\xef"
    assert sum(chunks) == len(big) + 2 and max(chunks) <= logs.BLOCK
    assert peak < 8 * logs.BLOCK  # a few blocks, never the 16 MiB string


def test_a_line_break_without_truncation_marker_is_an_error_in_bounded_memory(tmp_path: Path) -> None:
    head = '[\n{ "seq_id" : 0, "qsl_idx" : 1, "data" : "AB\nCD" },\n'
    rest = ",\n".join(w.accuracy_entry(i, i, "0123456789ABCDEF" * 8) for i in range(1, 100000))  # ~16 MiB
    path = _write(tmp_path, head + rest + "\n]\n")
    tracemalloc.start()
    with pytest.raises(
        LogError, match=re.escape(f"byte {head.index(chr(10), 3)}: invalid JSON (a line break in a string")
    ):
        _entries(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * logs.BLOCK  # looking for the marker does not gather the rest of the file


def test_loadgen_layout_reads_as_the_general_parser_does(tmp_path) -> None:
    """The one-match reading of LoadGen's layout gives the fields the general parser gives for any other layout."""
    from compliance.logs.accuracy import KEEP_HEX, AccuracyLog

    datas = ["", "0A", "ab" * 40, "F" * KEEP_HEX, "1" * (KEEP_HEX + 2)] * 4
    # the LLM benchmarks' token fields: none, both, the count alone, the first token alone
    tokens = [("", "")] * 5 + [("0D000000", "7")] * 5 + [(None, "26")] * 5 + [("F" * (KEEP_HEX + 2), None)] * 5

    def layout(i: int, d: str, spaced: bool) -> str:
        token_data, token_count = tokens[i]
        sep, colon = (", ", " : ") if spaced else (",", ":")
        fields = [f'"seq_id"{colon}{i}', f'"qsl_idx"{colon}{7 * i}', f'"data"{colon}"{d}"']
        fields += [f'"token_data"{colon}"{token_data}"'] if token_data else []
        fields += [f'"token_count"{colon}{token_count}'] if token_count else []
        return "{ " + sep.join(fields) + " }" if spaced else "{" + sep.join(fields) + "}"

    loadgen = tmp_path / "loadgen.json"
    loadgen.write_text("[\n" + ",\n".join(layout(i, d, True) for i, d in enumerate(datas)) + "\n]\n")
    other = tmp_path / "other.json"
    other.write_text("[" + ",".join(layout(i, d, False) for i, d in enumerate(datas)) + "]")
    chunks: dict[str, list[bytes]] = {"loadgen": [], "other": []}

    def read(path, name):
        def factory(fields, key):
            return chunks[name].append

        return list(AccuracyLog(path, sink_factory=factory))

    a, b = read(loadgen, "loadgen"), read(other, "other")
    assert [e.ordinal for e in a] == [e.ordinal for e in b] == list(range(len(datas)))
    for x, y in zip(a, b, strict=True):
        assert x.fields["seq_id"] == y.fields["seq_id"] and x.qsl_idx == y.qsl_idx
        assert list(x.fields) == list(y.fields) and x.fields.get("token_count") == y.fields.get("token_count")
        expected = {"data": datas[x.ordinal], "token_data": tokens[x.ordinal][0]}
        for key in [k for k in ("data", "token_data") if k in x.fields]:
            fx, fy = x.fields[key], y.fields[key]
            assert (fx.length, fx.head, fx.tail, fx.text) == (fy.length, fy.head, fy.tail, fy.text), key
            assert fx.problem == fy.problem
            assert loadgen.read_bytes()[fx.offset : fx.offset + fx.length] == expected[key].encode()
        assert loadgen.read_bytes()[x.offset : x.offset + 1] == b"{"
    assert b"".join(chunks["loadgen"]) == b"".join(chunks["other"])
