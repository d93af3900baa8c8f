"""sbatch options as sbatch reads them (compliance.specs.sbatch): abbreviations and bundles of the options the
launcher sets or relies on are refused with the reason; the rest passes; a value goes in its option's item."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from compliance.specs import sbatch

SHORT = {name: short for name, _, short in sbatch.OPTIONS if short}


def _unique_prefix(name: str) -> str:
    """The shortest prefix of ``name`` that names it alone (what getopt_long takes as ``name``)."""
    for n in range(1, len(name) + 1):
        prefix = name[:n]
        if [o for o, _, _ in sbatch.OPTIONS if o.startswith(prefix)] == [name]:
            return prefix
    return name


@pytest.mark.parametrize("name", sorted(sbatch.REFUSED))
def test_each_refused_option_is_refused_however_written(name: str) -> None:
    value = "" if sbatch._BY_NAME[name][1] == sbatch.NO else "=x"
    forms = [f"--{name}{value}", f"--{_unique_prefix(name)}{value}"]
    if name in SHORT:
        short = f"-{SHORT[name]}" + ("" if not value else "x")
        forms += [short, f"-vQ{short[1:]}"]  # bundled after options that take no value
    for form in forms:
        problems = sbatch.problems([form])
        assert len(problems) == 1 and f"the launcher refuses --{name}" in problems[0], form
        assert sbatch.REFUSED[name] in problems[0]


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ("--out=/elsewhere/%j.log", "the launcher refuses --output (sbatch reads --out as --output)"),
        ("--dep=afterok:1", "(sbatch reads --dep as --dependency)"),
        ("--arr=1-3", "(sbatch reads --arr as --array)"),
        ("--job=x", "(sbatch reads --job as --job-name)"),
        ("--chd=/", "(sbatch reads --chd as --chdir)"),
        ("--comm=x", "(sbatch reads --comm as --comment)"),
        ("-vo/tmp/x", "the launcher refuses --output"),
        (
            "--e=x",
            "(--e abbreviates --error, --exclude, --exclusive, --export, --export-file, --extra-node-info alike)",
        ),
        ("--mem", "--mem needs its value in the same item (--mem=...)"),
        ("-p", "-p (--partition) needs its value in the same item"),
        ("--", "'--' ends sbatch's options"),
        ("--contiguous=yes", "--contiguous takes no value"),
        ("-%", "sbatch has no option -%"),
        ("--ntasks-per=2", "sbatch reads --ntasks-per as any of"),
    ],
)
def test_what_sbatch_would_read_is_said(item: str, says: str) -> None:
    problems = sbatch.problems([item])
    assert problems and says in problems[0]


@pytest.mark.parametrize(
    "item",
    ["--gres=gpu:8", "--mem=0", "-pdebug", "--exclusive", "--exclusive=user", "--time=30", "-N2", "--wait-all-nodes=1",
     "--reservation=mlperf", "-vv", "--qos=long", "--x11=all"],
)  # fmt: skip
def test_options_left_to_the_spec_pass(item: str) -> None:
    assert sbatch.problems([item]) == []


def test_the_table_is_the_installed_sbatchs() -> None:
    """Every option ``sbatch --help`` lists is in the table, with its short letter (a different Slurm may differ:
    the table is Slurm 22.05's, the version the launcher was measured on)."""
    if shutil.which("sbatch") is None or not os.environ.get("SLURM_CONF"):
        pytest.skip("sbatch is not installed here, or SLURM_CONF is unset (start .ci/slurm/start.sh)")
    help_text = subprocess.run(["sbatch", "--help"], capture_output=True, text=True, timeout=30).stdout
    if "22.05" not in subprocess.run(["sbatch", "--version"], capture_output=True, text=True).stdout:
        pytest.skip("the table is Slurm 22.05's")
    listed = re.findall(r"^\s+(?:-(\w), )?--([\w-]+)", help_text, re.M)
    assert listed
    table = {name: short for name, _, short in sbatch.OPTIONS}
    for short, name in listed:
        assert name in table, name
        assert table[name] == short, name
