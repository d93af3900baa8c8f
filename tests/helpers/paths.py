"""Where the project's files are, for tests, and a helper that turns a nested dict into files."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent.parent
SHIPPED_SPECS = PROJECT / "specs"
SPEC_EXAMPLES = PROJECT / "tests" / "spec_examples"
SHARED_SAMPLES = PROJECT.parent / "shared" / "fixtures" / "mlperf-samples"
PUBLISHED = PROJECT.parent / "shared" / "fixtures" / "published"


def write_tree(root: Path, tree: dict) -> None:
    """Create files from a nested dict: a str value is a file's text, a dict a folder."""
    for name, content in tree.items():
        path = root / name
        if isinstance(content, dict):
            path.mkdir(parents=True, exist_ok=True)
            write_tree(path, content)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
