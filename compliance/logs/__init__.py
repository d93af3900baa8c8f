"""Readers of LoadGen's logs (docs/rules.md §4): the detail log, the summary log, and the accuracy log as a stream.

Layer: imports only the standard library and :mod:`compliance.logs.scan` (and its compiled twin). Readers turn a
file into plain objects or raise :class:`LogError` naming the file and where it goes wrong; they know nothing of
tests, specs or the pipeline.
"""

from __future__ import annotations


class LogError(Exception):
    """A log's content is not what LoadGen writes; the message says what and where."""
