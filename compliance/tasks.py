"""doit task generators built from the specs (used by dodo.py)."""

from __future__ import annotations

import os
import sys

from doit import get_var

from compliance.commands.validate import validate

BUILD_DIR = "build"


def doit_config() -> dict:
    """DOIT_CONFIG for dodo.py; creates the build folder, which doit needs before it opens its database."""
    os.makedirs(BUILD_DIR, exist_ok=True)
    return {
        "backend": "sqlite3",
        "dep_file": os.path.join(BUILD_DIR, ".doit.db"),
        "check_file_uptodate": "timestamp",
        "default_tasks": ["validate"],
        "verbosity": 2,
    }


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
