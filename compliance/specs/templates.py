"""Placeholder templates of the specs: which placeholders each field may use, and what is wrong with a template.

A template is a ``str.format`` string (``{scenario}``, ``{{`` for a literal brace). Commands are run by
``/bin/sh -c`` after formatting, so a shell variable is written ``${{VAR}}`` there; spec *paths* take ``~`` and
``$VAR`` instead (:mod:`compliance.specs.paths`).

Layer: the specs layer; imports :mod:`compliance.errors` and the YAML document type only.
"""

from __future__ import annotations

import os
import string

from compliance.errors import Problem, did_you_mean
from compliance.specs import quoting
from compliance.specs.yamldoc import YamlDoc

#: Placeholders each template may use ({audit_config}: the path of the staged audit.config, docs/harnesses.md).
PATH_FIELDS = ("system", "benchmark", "scenario", "loadgen_scenario")
COMMAND_FIELDS = ("python", *PATH_FIELDS, "test", "mode", "log_dir", "workdir", "audit_config")
LOG_DIR_FIELDS = PATH_FIELDS + ("test", "mode")
#: Placeholders of an accuracy command (compliance.verify.scoring).
ACCURACY_FIELDS = ("python", "benchmark", "scenario", "test", "accuracy_log", "output_file")
TEST_DIR_FIELDS = ("division", "submitter", "system", "benchmark", "scenario", "test")
RESULTS_DIR_FIELDS = TEST_DIR_FIELDS[:-1]


def template_fields(template: str) -> tuple[list[str], list[str]]:
    """The placeholder names of a ``str.format`` template, and what is wrong with it (empty when nothing)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        return [], [f"{exc} (write '{{{{' and '}}}}' for literal braces)"]
    names, errors = [], []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            literal = (
                "" if name.isidentifier() else " (for literal braces, as in awk '{{print $1}}', write '{{' and '}}')"
            )
            errors.append(f"placeholder '{{{shown}}}' must be a plain name like {{scenario}}{literal}")
        else:
            names.append(name)
    return names, errors


def check_template(
    doc: YamlDoc, path: list, template: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> list[Problem]:
    """Every problem of ``template`` at ``path`` of ``doc``: its syntax, unknown and missing placeholders."""
    names, errors = template_fields(template)
    problems = [doc.problem(path, error) for error in errors]
    command = allowed in (COMMAND_FIELDS, ACCURACY_FIELDS)  # a shell command: braces may be the shell's
    problems += [
        doc.problem(
            path,
            f"unknown placeholder '{{{n}}}'{did_you_mean(n, allowed)}; "
            f"known: {', '.join('{' + a + '}' for a in allowed)}"
            + (
                f" (for the shell's own braces, as in ${{{{{n}}}}}, write '{{{{' and '}}}}')"
                if command and not did_you_mean(n, allowed)
                else ""
            ),
        )
        for n in names
        if n not in allowed
    ]
    if not errors:
        problems += [doc.problem(path, f"must contain the placeholder '{{{r}}}'") for r in required if r not in names]
    if not problems and command:  # each value is quoted for its place: refuse a place where that cannot be told
        problems += [doc.problem(path, message) for message in quoting.unquotable(template)]
    return problems


#: the templates of a benchmark entry of a system spec, and the placeholders each may use
BENCHMARK_TEMPLATES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (("command",), COMMAND_FIELDS, ()),
    (("workdir",), PATH_FIELDS, ()),
    (("log_dir",), LOG_DIR_FIELDS, ()),
    (("results",), PATH_FIELDS, ()),
    (("accuracy_command",), ACCURACY_FIELDS, ("accuracy_log",)),
    (("reference", "command"), COMMAND_FIELDS, ()),
)


def system_template_problems(doc: YamlDoc) -> list[Problem]:
    """The template problems of a system document: its inputs and every template field of each benchmark entry
    that is a string (also in a document with schema problems: validate reports everything in one pass)."""
    problems: list[Problem] = []
    data = doc.data
    if not isinstance(data, dict):
        return problems
    problems += _inputs_problems(doc, ["inputs"], data.get("inputs"))
    benchmarks = data.get("benchmarks")
    for key, entry in benchmarks.items() if isinstance(benchmarks, dict) else ():
        if not isinstance(entry, dict):
            continue
        for keys, allowed, required in BENCHMARK_TEMPLATES:
            value: object = entry
            for part in keys:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str):
                problems += check_template(doc, ["benchmarks", key, *keys], value, allowed, required)
        problems += _inputs_problems(doc, ["benchmarks", key, "inputs"], entry.get("inputs"))
    return problems


def _inputs_problems(doc: YamlDoc, where: list, inputs: object) -> list[Problem]:
    problems: list[Problem] = []
    for i, pattern in enumerate(inputs if isinstance(inputs, list) else []):
        if isinstance(pattern, str):
            problems += check_template(doc, [*where, i], pattern, PATH_FIELDS)
    return problems


def layout_problems(doc: YamlDoc, test_dir: str, results_dir: str) -> list[Problem]:
    """Containment of a round's layout: both templates stay inside the submission folder (relative, no '..'), a TEST
    folder is a folder of its own named after the test, and it never is, holds or sits in a run folder of the
    results (a TEST folder is replaced whole: anything it covered would be lost)."""
    problems = []
    for key, template in (("test_dir", test_dir), ("results_dir", results_dir)):
        parts = template.replace("\\", "/").split("/")
        if template.startswith("/") or ".." in parts or "." in parts or "" in parts[:-1]:
            problems.append(
                doc.problem(
                    [key],
                    f"'{template}' must be a relative path inside the submission folder, "
                    "without '.', '..' or empty parts",
                )
            )
    if problems:
        return problems
    if test_dir.rsplit("/", 1)[-1] != "{test}":
        problems.append(
            doc.problem(
                ["test_dir"],
                f"'{test_dir}' must end with '/{{test}}': a TEST folder is a folder of its own, named after the test",
            )
        )
    sample = {"division": "d", "submitter": "s", "system": "y", "benchmark": "b", "scenario": "c"}
    try:
        tests = os.path.normpath(test_dir.format(**sample, test="TEST01"))
        results = os.path.normpath(results_dir.format(**sample))
    except (KeyError, ValueError, IndexError):
        return problems  # a bad template: reported by check_template
    runs = [os.path.join(results, "accuracy"), os.path.join(results, "performance")]
    if (
        tests == results
        or results.startswith(tests + os.sep)
        or any(tests == r or tests.startswith(r + os.sep) for r in runs)
    ):
        problems.append(
            doc.problem(
                ["test_dir"],
                f"'{test_dir}' puts TEST folders on the results of '{results_dir}' (they would replace them)",
            )
        )
    return problems
