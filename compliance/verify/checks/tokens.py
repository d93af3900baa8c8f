"""Token facts shared by the tests of LLM outputs (TEST06, TEST07, TEST09): the token types, the official scripts'
defaults, the ``--dtype`` options, and the token width a log shows.

LoadGen logs an LLM's output tokens as the bytes of their integer type (docs/rules.md §4.3); most harnesses write
int32, some int64 (``len(data) / 2 == 8 * token_count``: review.md §2). The official TEST06 script defaults to
int32 and EOS 2 (docs/rules.md §2.3); TEST09's reads every output as 4-byte tokens (§3 item 40).
"""

from __future__ import annotations

import struct
from typing import Any

from compliance.logs.accuracy import AccuracyLog, HexField
from compliance.verify.base import Option

#: token type -> struct format of one token (little-endian, as LoadGen's hosts write them)
TOKEN_FORMATS = {"int16": "<h", "int32": "<i", "int64": "<q", "float32": "<f"}
#: the official TEST06 script's defaults, used when no model is given (docs/rules.md §2.3): EOS id 2, int32 tokens
OFFICIAL_EOS = 2
OFFICIAL_DTYPE = "int32"
#: token width in bytes -> the type read when no option gives one (4 bytes: int32)
_WIDTHS = {2: "int16", 4: "int32", 8: "int64"}

DTYPE_OPTION = Option(
    "dtype", "--dtype", "token type (default: the model's, else int32)", choices=tuple(sorted(TOKEN_FORMATS))
)
#: the option of a test that reads the token width from its log when no option gives it (TEST06)
LOG_DTYPE_OPTION = Option(
    "dtype",
    "--dtype",
    "token type (default: read from the log, bytes per token_count; else the model's, else int32)",
    choices=tuple(sorted(TOKEN_FORMATS)),
)


def token_bytes(dtype: str) -> int:
    """Bytes of one token of ``dtype``."""
    return struct.calcsize(TOKEN_FORMATS[dtype])


def decode(raw: bytes, dtype: str) -> list[Any]:
    """The tokens of ``raw`` (a trailing part of a token is dropped)."""
    fmt = TOKEN_FORMATS[dtype]
    size = struct.calcsize(fmt)
    return [struct.unpack_from(fmt, raw, i)[0] for i in range(0, len(raw) - len(raw) % size, size)]


def log_dtype(path: str, default: str) -> tuple[str, str]:
    """The token type of an accuracy log when no option gives it: the width every entry's bytes per
    ``token_count`` shows, else ``default``; (dtype, how it was chosen).

    Raises:
        LogError: the log is malformed.
    """
    widths: set[float] = set()
    for entry in AccuracyLog(path, check_all_hex=False):
        data, count = entry.fields.get("data"), entry.fields.get("token_count")
        if isinstance(data, HexField) and isinstance(count, int) and not isinstance(count, bool) and count > 0:
            widths.add(data.n_bytes / count)
    if len(widths) == 1 and (width := widths.pop()) in _WIDTHS:
        dtype = default if token_bytes(default) == width else _WIDTHS[int(width)]
        return dtype, f"read from the log ({int(width)} bytes per token)"
    return default, "the default (the log shows no single width)" if widths else "the default"
