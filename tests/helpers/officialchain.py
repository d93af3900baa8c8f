"""The official truncation (``tools/submission/truncate_accuracy_log.py``) emulated from its documented behaviour, for
the tests that have no checkout of mlcommons/inference; written from the facts (docs/rules.md §8.1), not from the
tool's own module, so that a test of the tool against it is not circular.

Two eras: ``round`` (the v5.0 round's commit c0b60cdb: results/ and, in closed and network, compliance/ with its
TEST01 folders, whose missing accuracy.txt it creates) and ``head`` (b66003e: results/ only, TEST01/TEST07/TEST09
folders there, TEST07/TEST09 always processed and their accuracy.txt written anew). ``truncate_tree`` returns what it
did, a line per folder, as the script logs it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ERAS = ("round", "head")


def _dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


def _cut(log: Path) -> None:
    size = log.stat().st_size
    if size < 4096:
        return
    with open(log, encoding="utf-8") as src:  # text mode, as the script reads it
        start = src.read(4096)
        src.seek(size - 4096, 0)
        end = src.read(4096)
    with open(log, "w", encoding="utf-8") as dst:
        dst.write(start + "\n\n...\n\n" + end)


def _hash_in(text_file: Path) -> str | None:
    with open(text_file, encoding="utf-8") as f:
        for line in f:
            found = re.match(r"^hash=([\w\d]+)$", line)
            if found:
                return found.group(1)
    return None


def _process(folder: Path, test: str, compliance: bool, era: str, done: list[str]) -> None:
    acc = folder / "accuracy"
    log, txt = acc / "mlperf_log_accuracy.json", acc / "accuracy.txt"
    if not log.exists():
        done.append(f"{log} missing")
        return
    rehash = era == "head" and test in ("TEST07", "TEST09")
    recorded = None
    if not rehash:
        if not txt.exists() and not compliance:
            done.append(f"{txt} missing, generate to continue")
            return
        recorded = _hash_in(txt) if txt.exists() else None
        if recorded and log.stat().st_size < 10 * 1024:
            done.append(f"{acc} already has hash and size seems truncated")
            return
    digest = hashlib.sha256(log.read_bytes()).hexdigest()
    if rehash:
        txt.write_text(f"hash={digest}\n", encoding="utf-8")
    else:
        with open(txt, "a", encoding="utf-8") as f:
            f.write(f"\nhash={digest}\n")
    _cut(log)
    done.append(f"{log} truncated")


def truncate_tree(root: str | Path, submitter: str, era: str) -> list[str]:
    """Truncate the tree at ``root`` in place as the official script of ``era`` does; what it did, by folder."""
    assert era in ERAS
    done: list[str] = []
    for division in _dirs(Path(root)):
        if division.name not in ("closed", "open", "network"):
            continue
        org = division / submitter
        places = ["results", "compliance"] if era == "round" and division.name != "open" else ["results"]
        for place in places:
            for system in _dirs(org / place):
                for model in _dirs(system):
                    for scenario in _dirs(model):
                        if place == "compliance":
                            for test in _dirs(scenario):
                                if test.name == "TEST01":
                                    _process(test, "TEST01", True, era, done)
                            continue
                        if era == "round":
                            _process(scenario, "", False, era, done)
                            continue
                        _process(scenario, "", False, era, done)
                        for test in _dirs(scenario):
                            if test.name in ("TEST01", "TEST07", "TEST09"):
                                _process(test, test.name, False, era, done)
    return done


def snapshot(root: str | Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes), to compare a tree before and after."""
    base = Path(root)
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}
