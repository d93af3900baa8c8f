"""sbatch options as sbatch reads them: which option an item of a spec's ``sbatch_options`` is, and which the Slurm
launcher refuses, with the reason.

sbatch parses its options with ``getopt_long`` (Slurm 22.05, ``src/common/slurm_opt.c``): a long option may be
abbreviated to any prefix that names one option only (``--out=`` is ``--output=``, ``--dep=`` is ``--dependency=``),
and short options may be bundled (``-vo/x`` is ``-v -o /x``). So an option is recognised here the same way, from
sbatch's own table (:data:`OPTIONS`), and refused when it would change what the launcher sets or relies on: where
the job's output goes, its folder, its name, comment and dependency (which keep runs of one system apart), its
environment (which carries the run's data), whether it runs once, at all, or now (docs/slurm.md). A value goes in
the same item (``--mem=0``, ``-pdebug``): an option missing its value would take the next item, or the job script.

The spec loader checks a system spec's options with :func:`doc_problems` beside its schema (``validate`` reports
them in its first pass, each with its reason); the launcher checks them again before it submits. Layer: specs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compliance.errors import PathPart, Problem
from compliance.specs.yamldoc import YamlDoc

NO, REQUIRED, OPTIONAL = 0, 1, 2  # has_arg, as getopt_long

#: sbatch's options in Slurm 22.05: (long name, has_arg, short letter or "")
OPTIONS: tuple[tuple[str, int, str], ...] = (
    ("account", REQUIRED, "A"), ("acctg-freq", REQUIRED, ""), ("array", REQUIRED, "a"), ("batch", REQUIRED, ""),
    ("bb", REQUIRED, ""), ("bbf", REQUIRED, ""), ("begin", REQUIRED, "b"), ("chdir", REQUIRED, "D"),
    ("cluster", REQUIRED, ""), ("cluster-constraint", REQUIRED, ""), ("clusters", REQUIRED, "M"),
    ("comment", REQUIRED, ""), ("constraint", REQUIRED, "C"), ("container", REQUIRED, ""), ("context", REQUIRED, ""),
    ("contiguous", NO, ""), ("core-spec", REQUIRED, "S"), ("cores-per-socket", REQUIRED, ""),
    ("cpu-freq", REQUIRED, ""), ("cpus-per-gpu", REQUIRED, ""), ("cpus-per-task", REQUIRED, "c"),
    ("deadline", REQUIRED, ""), ("delay-boot", REQUIRED, ""), ("dependency", REQUIRED, "d"),
    ("distribution", REQUIRED, "m"), ("error", REQUIRED, "e"), ("exclude", REQUIRED, "x"),
    ("exclusive", OPTIONAL, ""), ("export", REQUIRED, ""), ("export-file", REQUIRED, ""),
    ("extra-node-info", REQUIRED, "B"), ("get-user-env", OPTIONAL, ""), ("gid", REQUIRED, ""),
    ("gpu-bind", REQUIRED, ""), ("gpu-freq", REQUIRED, ""), ("gpus", REQUIRED, "G"), ("gpus-per-node", REQUIRED, ""),
    ("gpus-per-socket", REQUIRED, ""), ("gpus-per-task", REQUIRED, ""), ("gres", REQUIRED, ""),
    ("gres-flags", REQUIRED, ""), ("help", NO, "h"), ("hint", REQUIRED, ""), ("hold", NO, "H"),
    ("ignore-pbs", NO, ""), ("input", REQUIRED, "i"), ("job-name", REQUIRED, "J"),
    ("kill-on-invalid-dep", REQUIRED, ""), ("licenses", REQUIRED, "L"), ("mail-type", REQUIRED, ""),
    ("mail-user", REQUIRED, ""), ("mcs-label", REQUIRED, ""), ("mem", REQUIRED, ""), ("mem-bind", REQUIRED, ""),
    ("mem-per-cpu", REQUIRED, ""), ("mem-per-gpu", REQUIRED, ""), ("mincpus", REQUIRED, ""),
    ("network", REQUIRED, ""), ("nice", OPTIONAL, ""), ("no-kill", OPTIONAL, "k"), ("no-requeue", NO, ""),
    ("nodefile", REQUIRED, "F"), ("nodelist", REQUIRED, "w"), ("nodes", REQUIRED, "N"), ("ntasks", REQUIRED, "n"),
    ("ntasks-per-core", REQUIRED, ""), ("ntasks-per-gpu", REQUIRED, ""), ("ntasks-per-node", REQUIRED, ""),
    ("ntasks-per-socket", REQUIRED, ""), ("ntasks-per-tres", REQUIRED, ""), ("open-mode", REQUIRED, ""),
    ("output", REQUIRED, "o"), ("overcommit", NO, "O"), ("oversubscribe", NO, "s"), ("parsable", NO, ""),
    ("partition", REQUIRED, "p"), ("power", REQUIRED, ""), ("prefer", REQUIRED, ""), ("priority", REQUIRED, ""),
    ("profile", REQUIRED, ""), ("propagate", OPTIONAL, ""), ("qos", REQUIRED, "q"), ("quiet", NO, "Q"),
    ("reboot", NO, ""), ("requeue", NO, ""), ("reservation", REQUIRED, ""), ("signal", REQUIRED, ""),
    ("sockets-per-node", REQUIRED, ""), ("spread-job", NO, ""), ("switches", REQUIRED, ""),
    ("tasks-per-node", REQUIRED, ""), ("test-only", NO, ""), ("thread-spec", REQUIRED, ""),
    ("threads-per-core", REQUIRED, ""), ("time", REQUIRED, "t"), ("time-min", REQUIRED, ""), ("tmp", REQUIRED, ""),
    ("uid", REQUIRED, ""), ("usage", NO, ""), ("use-min-nodes", NO, ""), ("verbose", NO, "v"), ("version", NO, "V"),
    ("wait", NO, "W"), ("wait-all-nodes", REQUIRED, ""), ("wckey", REQUIRED, ""), ("wrap", REQUIRED, ""),
)  # fmt: skip
_MOVES_OUTPUT = "the job's output goes to the run's run.log, in build/"
#: the options the launcher refuses, and why
REFUSED: dict[str, str] = {
    "output": _MOVES_OUTPUT,
    "error": _MOVES_OUTPUT,
    "open-mode": _MOVES_OUTPUT + ", afresh for each job",
    "chdir": "the job starts in its own folder and enters the working directory itself",
    "job-name": "every job of a system has one name, so that --dependency=singleton keeps its runs apart",
    "dependency": "--dependency=singleton keeps runs of one system apart; another dependency would replace it",
    "comment": "the job's comment holds the token that finds it again after a crash",
    "parsable": "sbatch is already asked for the job id alone",
    "wait": "the job is followed by the tool (sbatch --wait would block for the whole run)",
    "array": "a run is one job: an array would run the command more than once",
    "wrap": "the job script, which stages the audit.config, would be replaced",
    "requeue": "a command runs at most once per job (--no-requeue); the tool resubmits a preempted run itself",
    "hold": "a held job would wait for ever",
    "test-only": "sbatch would submit nothing",
    "signal": "the job script removes the audit.config on TERM, INT and HUP; an early signal could end it first",
    "export": "the job receives its run's data in its environment (sbatch's own, --export=ALL); use env: for "
    "the command's variables",
    "export-file": "the job receives its run's data in its environment (sbatch's own); use env: for the command's",
    "clusters": "the tool follows its jobs on the cluster sbatch submits to by default",
    "cluster": "the tool follows its jobs on the cluster sbatch submits to by default",
    "help": "sbatch would print its help and submit nothing",
    "usage": "sbatch would print its usage and submit nothing",
    "version": "sbatch would print its version and submit nothing",
}
_BY_NAME = {name: (name, arg, short) for name, arg, short in OPTIONS}
_BY_SHORT = {short: (name, arg, short) for name, arg, short in OPTIONS if short}


@dataclass(frozen=True)
class Read:
    """One option as sbatch reads it from an item: the flag as written (``--out``, ``-o``), the options it can be
    (one, or several for an ambiguous abbreviation; none when sbatch has no such option), its value."""

    flag: str
    meanings: tuple[str, ...]
    value: str | None
    problem: str = ""  # why sbatch would not take it as one option with its value in this item


def _long(item: str) -> Read:
    written, eq, value = item[2:].partition("=")
    flag = f"--{written}"
    meanings: tuple[str, ...]
    if written in _BY_NAME:
        meanings = (written,)
    else:
        meanings = tuple(name for name, _, _ in OPTIONS if written and name.startswith(written))
    if not meanings:
        return Read(flag, (), value if eq else None)  # not sbatch's own (a site's plugin may add options)
    if len(meanings) > 1:
        return Read(flag, meanings, None, f"sbatch reads {flag} as any of --{', --'.join(meanings)}: write one")
    has_arg = _BY_NAME[meanings[0]][1]
    if has_arg == NO and eq:
        return Read(flag, meanings, value, f"--{meanings[0]} takes no value")
    if has_arg == REQUIRED and not eq:
        return Read(flag, meanings, None, f"--{meanings[0]} needs its value in the same item (--{meanings[0]}=...)")
    return Read(flag, meanings, value if eq else None)


def read(item: str) -> list[Read]:
    """The options sbatch reads in one item of ``sbatch_options``."""
    if item == "--":
        return [Read(item, (), None, "'--' ends sbatch's options: what follows would be taken as the script")]
    if item.startswith("--"):
        return [_long(item)]
    if not item.startswith("-") or item == "-":
        return [Read(item, (), None, "not an option: each item is one option, with its value (--mem=0)")]
    found = []
    rest = item[1:]
    while rest:
        letter, rest = rest[0], rest[1:]
        flag = f"-{letter}"
        if letter not in _BY_SHORT:
            found.append(Read(flag, (), None, f"sbatch has no option {flag}"))
            continue
        name, has_arg, _ = _BY_SHORT[letter]
        if has_arg == NO:
            found.append(Read(flag, (name,), None))
            continue
        if has_arg == REQUIRED and not rest:
            found.append(Read(flag, (name,), None, f"{flag} (--{name}) needs its value in the same item ({flag}...)"))
        else:
            found.append(Read(flag, (name,), rest or None))
        break
    return found


def problems(items: tuple[str, ...] | list[str]) -> list[str]:
    """Why the launcher refuses items of a spec's ``sbatch_options``, one sentence per problem (empty: none)."""
    out = []
    for item in items:
        for option in read(item):
            refused = [name for name in option.meanings if name in REFUSED]
            if refused:
                name = refused[0]
                if len(option.meanings) > 1:
                    how = f" ({option.flag} abbreviates --{', --'.join(option.meanings)} alike)"
                elif option.flag in (f"--{name}", f"-{_BY_NAME[name][2]}"):
                    how = ""
                else:
                    how = f" (sbatch reads {option.flag} as --{name})"
                out.append(f"{item!r}: the launcher refuses --{name}{how}: {REFUSED[name]}")
            elif option.problem:
                out.append(f"{item!r}: {option.problem}")
    return out


def doc_problems(doc: YamlDoc) -> list[Problem]:
    """The refused ``sbatch_options`` of a system spec (its launcher's and its benchmarks'), each at its item; checked
    beside the schema (the document need not be valid: what is not a list of strings is the schema's to report)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    blocks: list[tuple[list[PathPart], Any]] = [(["launcher"], data.get("launcher"))]
    benchmarks = data.get("benchmarks")
    if isinstance(benchmarks, dict):
        blocks += [
            (["benchmarks", key, "launcher"], b.get("launcher")) for key, b in benchmarks.items() if isinstance(b, dict)
        ]
    found = []
    for path, launcher in blocks:
        items = launcher.get("sbatch_options") if isinstance(launcher, Mapping) else None
        for i, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, str) and item.startswith("-"):  # the schema refuses the rest
                found += [doc.problem([*path, "sbatch_options", i], message) for message in problems([item])]
    return found
