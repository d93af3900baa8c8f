"""Every string from a log is data: made safe for each output before it is written there.

Control characters (C0, DEL, C1) and the Unicode controls that reorder or hide text (bidirectional overrides and
isolates, zero-width marks) are made visible as ``\\xNN`` / ``\\uNNNN``, so a log cannot move a terminal's cursor,
colour its output, hide a word in a report or break a line where it should not. Then each output's own escapes:
Markdown (its punctuation and HTML), HTML and XML (entities), GitHub Actions workflow commands (GitHub's rules:
``%``, CR and LF in a message; also ``:`` and ``,`` in a property).
"""

from __future__ import annotations

import html as _html
import re

#: bidirectional overrides, embeddings, isolates, marks and zero-width characters: invisible, and able to make a
#: text read otherwise than it is (CVE-2021-42574)
_FORMAT_CONTROLS = "\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f" + _FORMAT_CONTROLS + "]")
_CONTROLS_KEEP_LINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f" + _FORMAT_CONTROLS + "]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object, keep_lines: bool = False) -> str:
    """``value`` as text with every control character shown as an escape (newlines kept when ``keep_lines``)."""
    text = value if isinstance(value, str) else str(value)
    return (_CONTROLS_KEEP_LINES if keep_lines else _CONTROLS).sub(_shown, text)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]|~>])")
#: what GitHub's Markdown turns into a link by itself (a URL's scheme, ``www.``, an e-mail address's ``@``)
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=\bwww)(\.)|(@)(?=[a-z0-9])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*\d*)([#+=.)-])")


def markdown(value: object, line_start: bool = False) -> str:
    """Text for a Markdown paragraph or table cell: on one line, the punctuation that makes emphasis, code, links,
    tables or quotes escaped, HTML turned into entities, what GitHub would make a link of by itself (``http://``,
    ``www.``, ``a@b``) broken by an entity, and (``line_start``: the text begins a line) what would
    make it a heading or a list."""
    text = visible(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = _AUTOLINK.sub(lambda m: f"&#{ord(m.group())};", text)  # shown as written, never a link
    if line_start:
        text = _MARKDOWN_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return text


def markdown_code(value: object) -> str:
    """Text for a Markdown code span (file names, keys): backticks and HTML cannot get out of it."""
    text = visible(value).replace("`", "'").replace("|", "\\|")
    return f"`{text}`" if text else ""


def html(value: object, keep_lines: bool = False) -> str:
    """Text for HTML content or a quoted attribute value."""
    return _html.escape(visible(value, keep_lines), quote=True)


_XML_INVALID = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml(value: object) -> str:
    """Text for XML content or a quoted attribute value (XML 1.0 allows no control character but tab and newlines)."""
    text = _XML_INVALID.sub("\ufffd", visible(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def github_message(value: object, keep_lines: bool = True) -> str:
    """The message of a workflow command (``::error ...::MESSAGE``): ``%``, CR and LF escaped as GitHub decodes them."""
    text = visible(value, keep_lines=keep_lines)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(value: object) -> str:
    """A property of a workflow command (``file=...,title=...``): also ``:`` and ``,`` escaped."""
    return github_message(value, keep_lines=False).replace(":", "%3A").replace(",", "%2C")


def one_line(value: object, limit: int = 0) -> str:
    """Text for a plain table cell: visible, on one line, cut to ``limit`` characters when one is given."""
    text = visible(value)
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text
