"""YAML reading: YAML 1.2 core types, line numbers, duplicate keys, merges, bounded alias expansion."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from compliance.errors import SpecError
from compliance.specs import yamldoc
from compliance.specs.yamldoc import MAX_NODES, load_yaml
from tests.helpers.paths import SHIPPED_SPECS, SPEC_EXAMPLES


def _load(tmp_path: Path, text: str):
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    return load_yaml(path, display="x.yaml")


def test_yaml_1_1_surprises_stay_strings(tmp_path: Path) -> None:
    doc = _load(
        tmp_path, "a: 2025-01-01\nb: yes\nc: off\nd: 1:30\ne: 0o17\nf: 0x1F\ng: true\nh: ~\ni: 1.5e3\nj: '12'\n"
    )
    assert doc.data == {
        "a": "2025-01-01",
        "b": "yes",
        "c": "off",
        "d": "1:30",
        "e": 15,
        "f": 31,
        "g": True,
        "h": None,
        "i": 1500.0,
        "j": "12",
    }


def test_big_seed_stays_an_exact_integer(tmp_path: Path) -> None:
    assert _load(tmp_path, "seed: 720381539243781796\n").data == {"seed": 720381539243781796}


def test_lines_of_values_and_keys(tmp_path: Path) -> None:
    doc = _load(tmp_path, "top:\n  list:\n    - a\n    - b\n  key: v\n")
    assert doc.line(("top", "list", 1)) == 4
    assert doc.line(("top", "key"), key=True) == 5
    assert doc.line(("top", "missing", 3)) == 2  # falls back to the nearest enclosing value


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as exc:
        _load(tmp_path, "a: 1\nb: 2\na: 3\n")
    assert [str(p) for p in exc.value.problems] == ["x.yaml:3: $.a: duplicate key 'a' (first at line 1)"]


def test_keys_must_be_strings(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as exc:
        _load(tmp_path, "a:\n  1: x\n")
    assert [str(p) for p in exc.value.problems] == ["x.yaml:2: $.a: mapping keys must be strings, got '1'; quote it"]


def test_merge_keys_and_anchors(tmp_path: Path) -> None:
    doc = _load(tmp_path, "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert doc.data["use"] == {"x": 1, "y": 3}


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as exc:
        _load(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    (problem,) = exc.value.problems
    assert problem.file == "x.yaml" and problem.line == 3 and "YAML syntax error" in problem.message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (
            "name: x\ncommand: {python} -m harness {mode}\n",
            "; line 2: an unquoted value that starts with '{' is read as a YAML mapping: quote the whole value, "
            'e.g. command: "{python} -m harness {mode}"',
        ),
        (
            "name: x\nargs:\n  - {python} -m x\n",
            "; line 3: an unquoted value that starts with '{' is read as a YAML mapping: quote the whole value, "
            'e.g. - "{python} -m x"',
        ),
        (
            "name: x\ncommand: [a] b\n",
            "; line 2: an unquoted value that starts with '[' is read as a YAML list: quote the whole value, "
            'e.g. command: "[a] b"',
        ),
        (
            'name: x\ncommand: {python} -c "print(1)"\n',
            "; line 2: an unquoted value that starts with '{' is read as a YAML mapping: quote the whole value, "
            """e.g. command: '{python} -c "print(1)"'""",
        ),
        (
            "name: x\ncommand: *x y\n",
            "; line 2: an unquoted value that starts with '*' is read as a YAML alias: quote the whole value, "
            'e.g. command: "*x y"',
        ),
        (
            "name: x\nscenarios: [Offline\ncommand: x\n",
            "; line 2: the '[' that starts the value is not closed on its line: add ']'",
        ),
        ("name: x\ncommand: run --flag: 1\n", '; a value that holds ": " must be quoted (key: "a: b")'),
        # a flow list that is valid on its own line is not blamed for an error elsewhere
        ("scenarios: [Offline, Server]\n  bad: indent\n", ""),
    ],
)
def test_a_syntax_error_names_the_likely_fix(tmp_path: Path, text: str, hint: str) -> None:
    with pytest.raises(SpecError) as exc:
        _load(tmp_path, text)
    (problem,) = exc.value.problems
    assert problem.message.startswith("YAML syntax error: ")
    assert problem.message.endswith(hint) and problem.message.count("; ") <= 1 + hint.count("; "), problem.message


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file is empty"):
        _load(tmp_path, "# nothing\n")


def test_unsupported_tags(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unsupported YAML tag"):
        _load(tmp_path, "a: !!python/name:os.system x\n")


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    start = time.monotonic()
    with pytest.raises(SpecError) as exc:
        _load(tmp_path, "\n".join(lines) + "\n")
    assert time.monotonic() - start < 5
    assert f"more than {MAX_NODES} nodes" in str(exc.value)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="recursive or exponential aliases"):
        _load(tmp_path, "a: &a [*a]\n")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_yaml(path)


SHIPPED = sorted(SHIPPED_SPECS.rglob("*.yaml"))
EXAMPLES = sorted(SPEC_EXAMPLES.rglob("*.yaml"))


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="this PyYAML was built without libyaml")
@pytest.mark.parametrize("path", SHIPPED + EXAMPLES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_libyaml_and_pyyaml_read_the_same(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read() -> tuple:
        try:
            doc = load_yaml(path)
        except SpecError as exc:
            return ("error", str(exc))
        return doc.data, doc.value_lines, doc.key_lines

    with_libyaml = read()
    monkeypatch.setattr(yamldoc, "_CComposer", yamldoc._PyComposer)
    assert with_libyaml == read()


def test_special_files_are_refused(tmp_path: Path) -> None:
    """A FIFO would block the reader for ever and /dev/zero would fill the memory: both are refused at once."""
    import os

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    for path, kind in ((fifo, "a FIFO"), (zero, "a device")):
        with pytest.raises(SpecError, match=f"is {kind}; a spec is a regular YAML file"):
            load_yaml(path)
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (2 << 20) + "\n")
    with pytest.raises(SpecError, match="file is over"):
        load_yaml(big)
