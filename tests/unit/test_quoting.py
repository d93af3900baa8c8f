"""Values put into command templates as the shell reads them (compliance.specs.quoting): bare, inside '...' or
inside "...", a value holding $(...), backticks, quotes, backslashes, newlines, spaces or % reaches the command
unchanged and nothing of it runs; a place where the quoting cannot be told is refused with the remedy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from compliance.specs.quoting import render, unquotable

HOSTILE = "a b $(touch MARK1) `touch MARK2` 'q' \"dq\" back\\slash 100% %j ${HOME}\nnewline *"
PRINT = "printf '<%s>' "


@pytest.mark.parametrize(
    ("template", "words"),
    [
        (PRINT + "{v}", [HOSTILE]),
        (PRINT + "'{v}'", [HOSTILE]),
        (PRINT + '"{v}"', [HOSTILE]),
        (PRINT + '"--dir={v}/x"', [f"--dir={HOSTILE}/x"]),
        (PRINT + "--dir='{v}'", [f"--dir={HOSTILE}"]),
        ("x=$(printf '%s' {v}); " + PRINT + '"$x"', [HOSTILE]),  # bare inside $(...): quoted whole
        (PRINT + "{w} '{v}' \"{v}\" {v}", ["plain", HOSTILE, HOSTILE, HOSTILE]),
    ],
)
def test_a_hostile_value_reaches_the_command_unchanged(tmp_path: Path, template: str, words: list[str]) -> None:
    command = render(template, {"v": HOSTILE, "w": "plain"})
    out = subprocess.run(["/bin/sh", "-c", command], cwd=tmp_path, capture_output=True, text=True).stdout
    assert out == "".join(f"<{w}>" for w in words)
    assert not list(tmp_path.iterdir())  # no MARK1, no MARK2: nothing of the value ran


@pytest.mark.parametrize(
    ("template", "refused"),
    [
        ("./run --log-dir {log_dir}", []),
        ("./run --log-dir '{log_dir}' \"{workdir}\"", []),
        ('make run RUN_ARGS="--benchmarks={benchmark} --log_dir={log_dir}"', []),
        ("./run `echo {log_dir}`", ["log_dir"]),
        ('./run "$(cat {log_dir}/x)"', ["log_dir"]),
        ('./run "`cat {log_dir}`"', ["log_dir"]),
        ("./run \\{log_dir}", ["log_dir"]),
        ("./run `date` {log_dir}", []),  # after the closing backtick, bare again
        ("./run --mode '{mode}'", []),  # {mode}: the spec's own words, inserted as written
        ("awk '{{print $1}}' {log_dir}", []),
        ("./run {log_dir", []),  # not a template: the loader reports it
    ],
)
def test_places_where_the_quoting_cannot_be_told_are_refused(template: str, refused: list[str]) -> None:
    found = unquotable(template)
    assert [f.split("'")[1].strip("{}") for f in found] == refused
    assert all("put it outside, e.g. in a variable" in f for f in found)
