"""A self-contained HTML report: no network, inline CSS and JavaScript; title, date, tool version, totals in colour,
one row per item with its findings (evidence, rule, remedy) and checks, its figures drawn against their bounds
(:mod:`compliance.report.bars`), its attempts and links to its logs, filterable by the report's filter columns
(organisation, system ...), status and severity.

The filters are kept in the URL's fragment (``report.html#organisation=Acme&severity=error``), so a filtered view
can be linked to; a row that a filter hides gets the ``hidden`` attribute. Every text is escaped
(:func:`compliance.report.escape.html`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from compliance.report import bars, escape
from compliance.report.model import STATUSES, Finding, Item, Link, Report, Severity
from compliance.report.text import finding_counts

COLOURS = {
    "PASS": "#1a7f37",
    "FAIL": "#cf222e",
    "NOT CHECKABLE": "#9a6700",
    "STALE": "#bc4c00",
    "NOT RUN": "#57606a",
    "NOT REQUIRED": "#8c959f",
    "error": "#cf222e",
    "warning": "#9a6700",
    "info": "#0969da",
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1f2328}
h1{font-size:20px;margin:0 0 4px}.meta{color:#57606a;margin:0 0 12px}.meta p{margin:2px 0}
.totals span{display:inline-block;margin:0 8px 6px 0;padding:2px 8px;border-radius:10px;color:#fff;font-weight:600}
.filters{margin:12px 0;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.filters label{font-size:12px;color:#57606a}select,input{font:inherit;padding:2px 4px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:4px 6px;text-align:left;
vertical-align:top}th{background:#f6f8fa;position:sticky;top:0}
.status{font-weight:700;white-space:nowrap}details{margin:2px 0}summary{cursor:pointer;color:#0969da}
.finding{border-left:4px solid #d0d7de;padding:2px 8px;margin:4px 0}.finding .rule{font-family:monospace}
.finding .sev{font-weight:700;text-transform:uppercase}ul.evidence{margin:2px 0 2px 16px;padding:0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;background:#f6f8fa;padding:0 2px}
.checks{font-size:12px;color:#57606a}.measure{white-space:nowrap;margin:2px 0}.measure svg{vertical-align:middle}
.measure .margin{font-size:12px;color:#57606a}ol.attempts{margin:4px 0 0 18px;padding:0;font-size:12px}
.links a{margin-right:10px;font-size:12px}.measure .margin{margin-left:4px}td code{overflow-wrap:anywhere}
"""

SCRIPT = """
(function(){
  var ids=FILTERS, rank={"":-1,"info":0,"warning":1,"error":2};
  function sel(id){return document.getElementById("filter-"+id);}
  function apply(){
    var want={}, parts=[];
    ids.forEach(function(id){var v=sel(id).value; want[id]=v; if(v){parts.push(id+"="+encodeURIComponent(v));}});
    var shown=0, rows=document.querySelectorAll("tr.item");
    rows.forEach(function(row){
      var ok=ids.every(function(id){
        var v=want[id]; if(!v){return true;}
        if(id==="severity"){return rank[row.dataset.severity||""]>=rank[v];}
        return row.dataset[id]===v;});
      if(ok){row.removeAttribute("hidden");shown++;}else{row.setAttribute("hidden","");}
    });
    document.getElementById("shown").textContent=shown+" of "+rows.length+" shown";
    var hash=parts.join("&");
    if(("#"+hash)!==location.hash && (hash||location.hash)){
      history.replaceState(null,"",hash?"#"+hash:location.pathname);}
  }
  function load(){
    location.hash.replace(/^#/,"").split("&").forEach(function(kv){
      var i=kv.indexOf("="); if(i<0){return;}
      var k=kv.slice(0,i), v=decodeURIComponent(kv.slice(i+1)), s=sel(k);
      if(s){if(![].some.call(s.options,function(o){return o.value===v;})){
        var o=document.createElement("option");o.value=v;o.textContent=v;s.appendChild(o);} s.value=v;}
    });
    apply();
  }
  ids.forEach(function(id){sel(id).addEventListener("change",apply);});
  window.addEventListener("hashchange",load);
  load();
})();
"""


def _badge(word: str, count: int) -> str:
    colour = COLOURS.get(word, "#57606a")
    return f'<span style="background:{colour}">{escape.html(word)}: {count}</span>'


def _finding(f: Finding) -> str:
    colour = COLOURS[f.severity.value]
    evidence = "".join(
        "<li><code>"
        + escape.html(e.file)
        + "</code>"
        + (f" <code>{escape.html(e.key)}</code>" if e.key else "")
        + (f" = <code>{escape.html(e.value)}</code>" if e.value is not None else "")
        + (
            " vs "
            + (f"<code>{escape.html(e.other_file)}</code> " if e.other_file else "")
            + (f"<code>{escape.html(e.other_key)}</code> " if e.other_key else "")
            + (f"= <code>{escape.html(e.other_value)}</code>" if e.other_value is not None else "")
            if (e.other_file or e.other_key or e.other_value is not None)
            else ""
        )
        + "</li>"
        for e in f.evidence
    )
    return (
        f'<div class="finding" style="border-color:{colour}"><span class="sev" style="color:{colour}">'
        f'{f.severity.value}</span> <span class="rule">{escape.html(f.rule)}</span>: {escape.html(f.title)}'
        f'<div class="message">{escape.html(f.message)}</div>'
        + (f"<div>at <code>{escape.html(f.path)}</code></div>" if f.path else "")
        + (f'<ul class="evidence">{evidence}</ul>' if evidence else "")
        + (f"<div>rests on: {escape.html(f.rests_on)}</div>" if f.rests_on else "")
        + (f"<div>remedy: {escape.html(f.remedy)}</div>" if f.remedy else "")
        + "</div>"
    )


def _checks(item: Item) -> str:
    checks: list[dict[str, Any]] = item.data.get("checks") or []
    if not checks:
        return ""
    lines = "".join(
        f"<li>{escape.html(c.get('outcome', ''))} {escape.html(c.get('name', ''))}"
        + (f": {escape.html(c['reason'])}" if c.get("reason") else "")
        + "</li>"
        for c in checks
    )
    return f'<ul class="checks">{lines}</ul>'


def href(path: str) -> str:
    """A link's target: the path as a URL path (``:`` included, so no path reads as a scheme), escaped for HTML."""
    return escape.html(quote(path, safe="/"))


def _link(link: Link) -> str:
    return f'<a href="{href(link.path)}">{escape.html(link.label)}</a>'


def _attempts(item: Item) -> str:
    if not item.attempts:
        return ""
    lines = "".join(
        f'<li data-verdict="{escape.html(a.verdict)}">attempt {a.number} of {a.of}: {escape.html(a.verdict)}'
        + (f" ({escape.html(a.reason)})" if a.reason and a.verdict != "PASS" else "")
        + (f"; {escape.html(a.figures)}" if a.figures else "")
        + (f" {_link(Link('logs', a.folder))}" if a.folder else "")
        + "</li>"
        for a in item.attempts
    )
    return f'<ol class="attempts">{lines}</ol>'


def _figures(item: Item) -> str:
    drawn = "".join(bars.svg(m) for m in item.measures)
    return f"<div>{escape.html(item.figures)}</div>{drawn}" if drawn else escape.html(item.figures)


def _row(item: Item, report: Report) -> str:
    worst = item.worst
    attributes = " ".join(
        f'data-{c.key}="{escape.html(item.fields.get(c.key, ""))}"' for c in report.columns if c.filter
    )
    cells = "".join(f"<td>{escape.html(item.fields.get(c.key, ''))}</td>" for c in report.columns)
    colour = COLOURS.get(item.status, "#57606a")
    details = "".join(_finding(f) for f in item.findings) + _checks(item)
    more = (
        f"<details><summary>{escape.html(finding_counts(item) or 'checks')}</summary>{details}</details>"
        if details
        else ""
    )
    return (
        f'<tr class="item" data-status="{escape.html(item.status)}" '
        f'data-severity="{worst.value if worst else ""}" {attributes}>{cells}'
        f'<td class="status" style="color:{colour}">{escape.html(item.status)}</td>'
        f"<td>{escape.html(item.reason)}<div><code>{escape.html(item.path)}</code></div>{_attempts(item)}"
        + (f'<div class="links">{"".join(_link(link) for link in item.links)}</div>' if item.links else "")
        + f"</td><td>{_figures(item)}</td><td>{more}</td></tr>"
    )


def _select(key: str, label: str, values: list[str]) -> str:
    options = "".join(f'<option value="{escape.html(v)}">{escape.html(v)}</option>' for v in values)
    return (
        f'<label for="filter-{key}">{escape.html(label)}</label>'
        f'<select id="filter-{key}"><option value="">all</option>{options}</select>'
    )


def html(report: Report) -> str:
    """The whole page."""
    filters = [c for c in report.columns if c.filter]
    selects = [
        _select(c.key, c.label, sorted({item.fields.get(c.key, "") for item in report.items} - {""})) for c in filters
    ]
    statuses = [s for s in STATUSES if any(item.status == s for item in report.items)]
    selects.append(_select("status", "status", statuses))
    selects.append(_select("severity", "severity at least", [s.value for s in Severity]))
    keys = [c.key for c in filters] + ["status", "severity"]
    totals = "".join(_badge(s, n) for s, n in report.status_counts().items())
    totals += "".join(_badge(s, n) for s, n in report.severity_counts().items())
    headers = "".join(f"<th>{escape.html(c.label)}</th>" for c in report.columns)
    rows = "\n".join(_row(item, report) for item in report.items)
    meta = "".join(f"<p>{escape.html(line)}</p>" for line in report.preamble)
    script = SCRIPT.replace("FILTERS", "[" + ",".join(f'"{k}"' for k in keys) + "]")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{escape.html(report.tool)} {escape.html(report.version)}">
<title>{escape.html(report.title)}</title><style>{CSS}</style></head>
<body>
<h1>{escape.html(report.title)}</h1>
<div class="meta"><p>{escape.html(report.tool)} {escape.html(report.version)}, {escape.html(report.when)}</p>
{meta}</div>
<div class="totals">{totals}</div>
<p id="totals-line">{escape.html(report.totals_line())}</p>
<div class="filters">{"".join(selects)}<span id="shown"></span></div>
<table><thead><tr>{headers}<th>status</th><th>reason</th><th>figures</th><th>findings</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<script>{script}</script>
</body></html>
"""
