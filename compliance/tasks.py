"""doit task generators built from the specs (used by dodo.py)."""

from __future__ import annotations

import os
import sys

from doit import get_var

from compliance.commands.validate import validate

BUILD_DIR = "build"
DOIT_CONFIG = {
    "backend": "sqlite3",
    "dep_file": os.path.join(BUILD_DIR, ".doit.db"),
    "check_file_uptodate": "timestamp",
    "default_tasks": ["validate"],
    "verbosity": 2,
}
os.makedirs(BUILD_DIR, exist_ok=True)  # doit needs the dep_file's folder before it opens the database


def specs_dir() -> str:
    """The specs folder chosen on the command line (``doit specs=DIR``), default ``specs``."""
    return get_var("specs", "specs")


def _validate_action(specs: str) -> bool:
    return validate(specs, sys.stdout, sys.stderr) == 0


def task_validate() -> dict:
    """Load and check every spec; report every problem at once."""
    specs = specs_dir()
    return {
        "actions": [(_validate_action, [specs])],
        "uptodate": [False],
        "verbosity": 2,
    }
