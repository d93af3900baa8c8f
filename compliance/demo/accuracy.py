"""The demo's accuracy script: scores a demo accuracy log and prints the line the submission checker's regex reads.

``python -m compliance.demo.accuracy --benchmark resnet LOG`` prints ``accuracy=XX.XXX%, good=G, total=T`` (as the
reference ``accuracy-imagenet.py`` does: each qsl_idx counted once, the first element of ``data`` an int32 class).
``--output-file F`` writes that line to F instead of stdout (as rgat's ``accuracy_igbh.py``). An empty log, or
one that is not a JSON list of entries, is an error (exit 1, a message naming the file), as a real script would
fail. Like the harness it imports nothing of the tool.
"""

from __future__ import annotations

import argparse
import json
import struct
from collections.abc import Sequence

from compliance.demo.outputs import classifier_label

SCORED = ("resnet",)


def _entries(path: str) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: {path}: cannot read the accuracy log ({exc})") from None
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise SystemExit(f"error: {path}: not a list of accuracy-log entries")
    return data


def classifier(path: str) -> str:
    """The ImageNet script's line for a demo resnet log."""
    seen: set[int] = set()
    good = 0
    for entry in _entries(path):
        qsl = entry.get("qsl_idx")
        if not isinstance(qsl, int) or qsl in seen:
            continue  # accuracy-imagenet.py counts each sample once
        seen.add(qsl)
        raw = bytes.fromhex(str(entry.get("data", "")))
        if len(raw) >= 4 and struct.unpack("<i", raw[:4])[0] == classifier_label(qsl):
            good += 1
    if not seen:
        raise SystemExit(f"error: {path}: no entries to score")
    return f"accuracy={100.0 * good / len(seen):.3f}%, good={good}, total={len(seen)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compliance.demo.accuracy", description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", required=True, choices=SCORED)
    parser.add_argument("--output-file", help="write the result here instead of stdout")
    parser.add_argument("accuracy_log")
    args = parser.parse_args(argv)
    line = classifier(args.accuracy_log)
    if args.output_file:
        with open(args.output_file, "w", encoding="utf-8") as f:
            f.write(line + "\n")
    else:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
