"""What the tree says about its benchmark folders' models: the checker's ``model_mapping.json``.

Open-division benchmark names are free (review.md §1); the checker expects a ``model_mapping.json`` at the tree's
root (or an organisation's folder) saying which benchmark each derives from (domain.md §5.2). Its word is given to
:func:`compliance.verify.models.resolve` as a hint, after the folder's own name (which the resolver maps to a model
by name, alias, or the model it starts with).
"""

from __future__ import annotations

import json
import os

MAPPING_FILE = "model_mapping.json"


def read_mapping(root: str, division: str, org: str) -> tuple[dict[str, str], str]:
    """The tree's own ``model_mapping.json`` (the organisation's, else the root's): ({folder: model}, its path)."""
    for path in (os.path.join(root, division, org, MAPPING_FILE), os.path.join(root, MAPPING_FILE)):
        if os.path.isfile(path):
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                return {str(k): str(v) for k, v in data.items()}, path
    return {}, ""
