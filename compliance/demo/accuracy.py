"""The demo's accuracy script: scores a demo accuracy log and prints the line the submission checker's regex reads.

``python -m compliance.demo.accuracy --benchmark resnet LOG`` prints ``accuracy=XX.XXX%, good=G, total=T`` (as the
reference ``accuracy-imagenet.py`` does: each qsl_idx counted once, the first element of ``data`` an int32 class).
``--benchmark gpt-oss-120b --test TEST07 LOG`` prints ``Total samples evaluated: N`` then ``'exact_match': NN.NNN``
last (as ``eval_mlperf_accuracy.py``: every entry counted, repeats included): an output is right when its answer,
the last token before the EOS (``token_data`` first when the run reported a first token), is
:func:`compliance.demo.outputs.gpt_oss_answer` of the dataset ``--test`` names (TEST07's compliance set).
``--output-file F`` writes that line to F instead of stdout (as rgat's ``accuracy_igbh.py``). An empty log, or
one that is not a JSON list of entries, is an error (exit 1, a message naming the file), as a real script would
fail. Like the harness it imports nothing of the tool.
"""

from __future__ import annotations

import argparse
import json
import struct
from collections.abc import Sequence

from compliance.demo.outputs import GPT_OSS_EOS, classifier_label, gpt_oss_answer

SCORED = ("resnet", "gpt-oss-120b")


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


def gpt_oss(path: str, test: str) -> str:
    """The gpt-oss script's last line for a demo gpt-oss-120b log (the questions of ``test``'s dataset)."""
    entries = _entries(path)
    if not entries:
        raise SystemExit(f"error: {path}: no entries to score")
    right = 0
    for entry in entries:
        raw = bytes.fromhex(str(entry.get("token_data", ""))) + bytes.fromhex(str(entry.get("data", "")))
        tokens = struct.unpack(f"<{len(raw) // 4}i", raw[: len(raw) // 4 * 4])
        qsl = entry.get("qsl_idx")
        if len(tokens) >= 2 and tokens[-1] == GPT_OSS_EOS and isinstance(qsl, int):
            right += tokens[-2] == gpt_oss_answer(qsl, test)
    return f"Total samples evaluated: {len(entries)}\n'exact_match': {100.0 * right / len(entries):.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compliance.demo.accuracy", description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", required=True, choices=SCORED)
    parser.add_argument("--test", default="", help="the compliance test whose dataset the log answers (gpt-oss-120b)")
    parser.add_argument("--output-file", help="write the result here instead of stdout")
    parser.add_argument("accuracy_log")
    args = parser.parse_args(argv)
    line = classifier(args.accuracy_log) if args.benchmark == "resnet" else gpt_oss(args.accuracy_log, args.test)
    if args.output_file:
        with open(args.output_file, "w", encoding="utf-8") as f:
            f.write(line + "\n")
    else:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
