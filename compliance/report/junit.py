"""JUnit XML for CI systems other than GitHub's: one test case per item.

FAIL (and STALE) is a ``<failure>``, NOT CHECKABLE, NOT RUN and NOT REQUIRED are ``<skipped>`` with the reason, PASS
is a plain test case; the findings go into the case's ``<system-out>``. The class name is the item's columns but the
last, joined with dots; the case name is the last column (a test, a submission run).
"""

from __future__ import annotations

from compliance.report import escape
from compliance.report.model import FAIL, PASS, STALE, Item, Report


def _case(item: Item, report: Report) -> str:
    values = [item.fields.get(c.key, "") for c in report.columns]
    name = values[-1] if values else item.path
    classname = ".".join(v for v in values[:-1] if v) or report.title
    head = f'  <testcase classname="{escape.xml(classname)}" name="{escape.xml(name)}" file="{escape.xml(item.path)}"'
    body = []
    if item.status in (FAIL, STALE):
        body.append(f'    <failure message="{escape.xml(item.reason)}" type="{escape.xml(item.status)}"/>')
    elif item.status != PASS:
        body.append(f'    <skipped message="{escape.xml(f"{item.status}: {item.reason}".rstrip(": "))}"/>')
    if item.findings:
        text = "\n".join(  # a line per finding (a line break inside one is shown, as every control character)
            escape.xml(f"{f.severity.value} {f.rule}: {f.message}" + (f" (remedy: {f.remedy})" if f.remedy else ""))
            for f in item.findings
        )
        body.append(f"    <system-out>{text}</system-out>")
    if not body:
        return head + "/>"
    return "\n".join([head + ">", *body, "  </testcase>"])


def junit(report: Report) -> str:
    """The report as one JUnit ``<testsuite>``."""
    failures = sum(item.status in (FAIL, STALE) for item in report.items)
    skipped = sum(item.status not in (FAIL, STALE, PASS) for item in report.items)
    stamp = report.when.replace(" UTC", "").replace(" ", "T")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="{escape.xml(report.title)}" tests="{len(report.items)}" failures="{failures}" '
        f'errors="0" skipped="{skipped}" timestamp="{stamp}">',
        "  <properties>",
        f'    <property name="tool" value="{escape.xml(report.tool)} {escape.xml(report.version)}"/>',
        *(
            f'    <property name="{escape.xml(k)}" value="{escape.xml(v)}"/>'
            for k, v in report.meta.items()
            if isinstance(v, (str, int, float))
        ),
        "  </properties>",
        *(_case(item, report) for item in report.items),
        "</testsuite>",
    ]
    return "\n".join(lines) + "\n"
