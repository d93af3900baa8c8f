"""Putting values into a command template as the shell will read them: nothing of a value ever runs.

A placeholder's value (a path, a name) is quoted for the place the template puts it (:func:`render`):

* bare (``--log-dir {log_dir}``): shell-quoted whole (``'/a b/logs'``);
* inside single quotes (``'{log_dir}'``, as users habitually write): each ``'`` of the value closes, escapes and
  reopens them (``'\\''``);
* inside double quotes (``"{log_dir}"``, ``RUN_ARGS="--dir={log_dir}"``): ``\\``, ``"``, ``$`` and `````` are
  escaped with a backslash, the only characters special there (POSIX 2.2.3).

A placeholder where the quoting cannot be told from the template's text (after a backtick, inside ``"$(...)"``,
right after a backslash) is refused when the specs are loaded (:func:`unquotable`, reported by ``validate`` with
the remedy). ``{mode}`` is inserted as the spec writes its words (a flag, or nothing). Layer: specs (pure).
"""

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Collection, Iterator, Mapping

RAW_FIELDS = ("mode",)  # inserted as written in the spec, not quoted
BARE, SINGLE, DOUBLE, BACKTICK, UNKNOWN = "", "'", '"', "`", "?"
_DOUBLE_SPECIAL = re.compile(r'([\\"$`])')


def _scan(text: str, state: str) -> str:
    """The quoting state after ``text`` (template text), starting in ``state``."""
    escaped = False
    i = 0
    while i < len(text) and state != UNKNOWN:
        char = text[i]
        if escaped:
            escaped = False
        elif state == SINGLE:
            if char == "'":
                state = BARE
        elif char == "\\":
            escaped = True
        elif state == BACKTICK:
            if char == "`":
                state = BARE
        elif char == "`" and state == BARE:
            state = BACKTICK  # `...`: its text is read again once the backslashes are taken out
        elif char == "`" or (state == DOUBLE and text.startswith("$(", i)):
            state = UNKNOWN  # a command substitution inside "...": quotes nest there; a flat reading cannot follow
        elif state == DOUBLE:
            if char == '"':
                state = BARE
        elif char in "'\"":
            state = char
        i += 1
    return UNKNOWN if escaped else state


def _fields(template: str, raw_values: Mapping[str, str]) -> Iterator[tuple[str, str | None, str]]:
    """(literal text, placeholder name or None, quoting state at the placeholder) along ``template``."""
    state = BARE
    for literal, name, _, _ in string.Formatter().parse(template):
        state = _scan(literal, state)
        yield literal, name, state
        if name is not None and name in raw_values:
            state = _scan(raw_values[name], state)


def quote(value: str, state: str) -> str:
    """``value`` written so that the shell reads it back unchanged in quoting ``state``."""
    if state == BARE:
        return shlex.quote(value)
    if state == SINGLE:
        return value.replace("'", "'\\''")
    if state == DOUBLE:
        return _DOUBLE_SPECIAL.sub(r"\\\1", value)
    raise ValueError("a placeholder where its quoting cannot be told")  # BACKTICK, UNKNOWN


def render(template: str, values: Mapping[str, str], raw: Collection[str] = RAW_FIELDS) -> str:
    """``template`` with each placeholder's value quoted for its place (see the module docstring).

    Raises:
        KeyError: a placeholder without a value.
        ValueError: a placeholder where its quoting cannot be told (:func:`unquotable` names it).
    """
    raw_values = {name: values[name] for name in raw if name in values}
    out = []
    for literal, name, state in _fields(template, raw_values):
        out.append(literal)
        if name is not None:
            out.append(values[name] if name in raw_values else quote(values[name], state))
    return "".join(out)


def unquotable(template: str, raw: Collection[str] = RAW_FIELDS) -> list[str]:
    """A sentence for each placeholder of ``template`` whose quoting cannot be told (empty: none); a template
    ``str.format`` cannot parse has none here (the loader reports it)."""
    try:
        fields = list(_fields(template, {name: "" for name in raw}))
    except ValueError:
        return []
    return [
        f"placeholder '{{{name}}}' stands where the tool cannot tell how the shell will quote it (inside "
        'backticks, after "$( or a backtick inside double quotes, or after a backslash), so its value could run '
        f'as a command; put it outside, e.g. in a variable: X={{{name}}} then "$X"'
        for _, name, state in fields
        if name is not None and name not in raw and state in (UNKNOWN, BACKTICK)
    ]
