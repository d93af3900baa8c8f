"""The docs stay true: every path, function, command, option and link they name exists, every CLI option and spec key
is documented, the generated reference pages are current, and the README stays short.

When one of these fails, its message says what is missing and where (``page:line: ...``), and, for a generated page,
the command that refreshes it (``python docs/gen_reference.py``). The checker itself is ``tests/helpers/docrefs.py``;
the last tests plant stale references and show that it reports each one.
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

import pytest

from compliance.status import RowKind, RowStatus
from tests.helpers import docrefs
from tests.helpers.paths import PROJECT

GENERATED = docrefs.generator().generate()


def _report(problems: list[object]) -> str:
    return "\n".join(str(p) for p in problems)


@pytest.mark.parametrize("page", sorted(GENERATED))
def test_the_generated_reference_page_is_up_to_date(page: str) -> None:
    path = PROJECT / page
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if current != GENERATED[page]:
        diff = difflib.unified_diff(current.splitlines(), GENERATED[page].splitlines(), page, "generated", lineterm="")
        lines = "\n".join(list(diff)[:40])
        pytest.fail(f"{page} is out of date: run `{docrefs.generator().REFRESH}`\n{lines}", pytrace=False)


@pytest.mark.parametrize("page", [p.relative_to(PROJECT).as_posix() for p in docrefs.pages()])
def test_every_path_function_command_and_link_the_page_names_exists(page: str) -> None:
    problems = docrefs.check_page(PROJECT, PROJECT / page)
    if problems:
        pytest.fail("stale references (fix the page, or the code it names):\n" + _report(problems), pytrace=False)


def test_every_cli_option_is_documented() -> None:
    missing = docrefs.undocumented_options(docrefs.generator().cli_commands(), docrefs.docs_text())
    if missing:
        pytest.fail("\n".join(missing), pytrace=False)


def test_every_spec_key_is_documented() -> None:
    names = list(docrefs.generator().SPEC_SCHEMAS)
    missing = docrefs.undescribed_keys(PROJECT / "schemas", names, docrefs.docs_text())
    if missing:
        pytest.fail("\n".join(missing), pytrace=False)


def test_every_status_reason_kind_and_demo_fault_is_documented() -> None:
    statuses = (PROJECT / "docs" / "reference" / "statuses.md").read_text(encoding="utf-8")
    missing = [f"status {s.value}" for s in RowStatus if f"| {s.value} |" not in statuses]
    missing += [f"reason kind {k.value}" for k in RowKind if k.value and f"| `{k.value}` |" not in statuses]
    harness = ast.parse((PROJECT / "compliance" / "demo" / "harness.py").read_text(encoding="utf-8"))
    faults = next(
        n.value
        for n in harness.body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "FAULTS" for t in n.targets)
    )
    demo = (PROJECT / "docs" / "demo.md").read_text(encoding="utf-8")
    missing += [f"demo fault {f}" for f in ast.literal_eval(faults) if f"`{f}`" not in demo]
    if missing:
        pytest.fail(
            "documented nowhere (docs/reference/statuses.md, docs/demo.md): " + ", ".join(missing), pytrace=False
        )


def test_the_architecture_names_every_layer_in_order_and_every_part_of_the_package() -> None:
    from tests.unit.test_layers import LAYERS

    text = (PROJECT / "docs" / "architecture.md").read_text(encoding="utf-8")
    order = " → ".join(", ".join(f"`{m.removeprefix('compliance.')}`" for m in layer) for layer in LAYERS)
    if order not in " ".join(text.split()):
        pytest.fail(f"docs/architecture.md must give the layers of tests/unit/test_layers.py: {order}", pytrace=False)
    parts = [
        p.name
        for p in sorted((PROJECT / "compliance").iterdir())
        if (p.suffix in (".py", ".c") and p.name != "__init__.py") or (p / "__init__.py").exists()
    ]
    missing = [f"compliance/{name}" for name in parts if f"compliance/{name}" not in text]
    if missing:
        pytest.fail("docs/architecture.md does not name: " + ", ".join(missing), pytrace=False)


def test_every_page_is_in_the_index() -> None:
    index = PROJECT / "docs" / "index.md"
    linked = {
        (index.parent / target.split("#")[0]).resolve()
        for _, line in docrefs.split(index.read_text(encoding="utf-8"))[0]
        for target in __import__("re").findall(r"\]\(([^)#\s]+)", line)
    }
    pages = [p for p in docrefs.pages() if p.parent != PROJECT and p != index]
    missing = [p.relative_to(PROJECT).as_posix() for p in pages if p.resolve() not in linked]
    if missing:
        pytest.fail("add these pages to docs/index.md: " + ", ".join(missing), pytrace=False)


def test_the_readme_fits_its_job() -> None:
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Quick start", "## Exit status", "## Where to go next"], headings
    assert len(text.splitlines()) <= 130, "the README is for what it is, install, the quick start, exit status and "
    "where to go next; move the rest into docs/ (docs/index.md)"


PLANTED = """# A page gone stale

See `compliance/verify/gone.py`, `compliance/verify/test*.py` and docs/nothere.md for it, and
`specs/round/v5.0.yaml`; `docs/rules.md §3` is fine. The threshold is applied in
`compliance/verify/checks/performance.py::no_such_check` and `compliance.verify.registry.lost`, `records.NO_SUCH`
holds it and `Result.no_such_field` says so.
Run `mlperf-compliance validate --no-such-option`, `mlperf-compliance frobnicate`, `doit system=demo nosuch=1` and
`doit info cook:demo/resnet/Offline/TEST01`.

```sh
mlperf-compliance verify TEST01 --results-dir r -c c -o o --no-such-flag
```

Links: [a page](missing.md), [an anchor](#no-such-heading), [the architecture](architecture.md#nope).
"""


def test_the_checker_reports_each_planted_stale_reference() -> None:
    page = PROJECT / "docs" / "stale.md"  # never written: the checker reads the text given
    found = [p.message for p in docrefs.check_page(PROJECT, page, PLANTED)]
    expected = [
        "compliance/verify/gone.py: no such file or folder in the repository",
        "docs/nothere.md: no such file or folder in the repository",
        "compliance/verify/test*.py: matches nothing in the repository",
        "specs/round/v5.0.yaml: no folder specs/round/ in specs/",
        "compliance/verify/checks/performance.py has no no_such_check",
        "compliance.verify.registry has no lost",
        "records.NO_SUCH: no module named records in the package defines it",
        "Result.no_such_field: class Result has no no_such_field",
        "`mlperf-compliance validate` has no option --no-such-option",
        "`mlperf-compliance frobnicate`: no such command or task",
        "nosuch= is no variable of the pipeline",
        "cook:demo/resnet/Offline/TEST01: no task step cook",
        "`mlperf-compliance verify TEST01` has no option --no-such-flag",
        "link to missing.md: missing.md does not exist",
        "link to #no-such-heading: docs/stale.md has no heading #no-such-heading",
        "link to architecture.md#nope: architecture.md has no heading #nope",
    ]
    for message in expected:
        assert any(f.startswith(message) for f in found), f"not reported: {message}\nreported:\n" + "\n".join(found)
    assert len(found) == len(expected), "\n".join(found)


GOOD = """# Good references

`compliance/verify/checks/performance.py::not_faster`, `compliance/specs/loader.py::_Loader._test`,
`compliance.verify.registry.all_verifiers`, `layout.RunFiles.rerun_request`, `Result.from_dict`, `records.read_cell`,
`integration/test_kills.py`, the official `compliance/TEST01/README.md`, an example `specs/systems/mine.yaml`,
`doit/control.py::set_implicit_deps`, `build/<cell>/run.log`, `verify.json`, the key `test01.dtype`,
a dotted word `plan.cell.id`.
`mlperf-compliance verify TEST01 -r R -c C -o O --strict`, `mlperf-compliance list`, `doit -n 2 system=demo`,
`doit info run:demo/resnet/Offline/TEST01`, `mlperf-compliance verify TEST ...`,
[the index](../index.md#tutorials-learn-by-doing).
"""


def test_the_checker_accepts_every_form_of_a_good_reference() -> None:
    assert docrefs.check_page(PROJECT, PROJECT / "docs" / "reference" / "good.md", GOOD) == []


def test_an_undocumented_option_and_an_undescribed_key_are_reported(tmp_path: Path) -> None:
    gen = docrefs.generator()
    command = gen.CliCommand(("brew",), "", "", [gen.CliOption(("--strength",), "N", "how strong")])
    command.options.append(gen.CliOption(("--silent",), "", "", takes_value=False))
    assert docrefs.undocumented_options([command], "use `--strength` wisely") == [
        "`mlperf-compliance brew` --silent: no help text (give its add_argument a help=)"
    ]
    assert any(
        m.startswith("`mlperf-compliance brew` --strength: named on no page")
        for m in docrefs.undocumented_options([command], "nothing")
    )
    (tmp_path / "tea.schema.json").write_text(
        '{"type": "object", "properties": {"leaf": {"type": "string", "description": "a leaf"}, "pot": '
        '{"type": "object", "properties": {"size": {"type": "integer"}}}}}'
    )
    missing = docrefs.undescribed_keys(tmp_path, ["tea.schema.json"], "`leaf`")
    assert missing == [
        "schemas/tea.schema.json: pot has no description (add one to the schema)",
        "schemas/tea.schema.json: pot.size has no description (add one to the schema)",
    ]
