"""The verifier registry: one line per test this tool verifies. Adding a test is its module and one line here.

Everything that needs to know a test asks here (the verify command, the plan, the pipeline, the summary, and the
specs' check that a test spec without ``verifier: false`` has a verifier). An unknown name is an error, never a
fall-through to another verifier.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from compliance.errors import UnknownName, did_you_mean
from compliance.verify.base import Verifier
from compliance.verify.tests import test01, test04, test05, test06, test07, test08, test09

_VERIFIERS: dict[str, Verifier] = {
    v.name: v
    for v in (
        test01.VERIFIER,
        test04.VERIFIER,
        test05.VERIFIER,
        test06.VERIFIER,
        test07.VERIFIER,
        test08.VERIFIER,
        test09.VERIFIER,
    )
}


def names() -> tuple[str, ...]:
    """The tests this tool verifies, sorted."""
    return tuple(sorted(_VERIFIERS))


def get(name: str) -> Verifier:
    """The verifier of test ``name``.

    Raises:
        UnknownName: no verifier has that name (the message lists those that exist).
    """
    try:
        return _VERIFIERS[name]
    except KeyError:
        raise UnknownName(
            f"this tool has no verifier for '{name}'{did_you_mean(name, _VERIFIERS)}; it verifies {', '.join(names())}"
        ) from None


def all_verifiers() -> tuple[Verifier, ...]:
    return tuple(_VERIFIERS[name] for name in names())


@contextmanager
def registered(verifier: Verifier) -> Iterator[Verifier]:
    """Add ``verifier`` for the duration of a ``with`` block (tests of the registry itself)."""
    if verifier.name in _VERIFIERS:
        raise ValueError(f"{verifier.name} is already registered")
    _VERIFIERS[verifier.name] = verifier
    try:
        yield verifier
    finally:
        del _VERIFIERS[verifier.name]
