"""Which model a benchmark folder stands for: the round's benchmark, its alias, or an open-division variant's base.

The submission checker maps folder names to its model names (``model_mapping``: ``resnet50`` -> ``resnet``,
``llama3_1-405b`` -> ``llama3.1-405b``; domain.md §5.2); open-division names are free (``llama3_1-405b_finetuned``,
``llama2-70b-fp8_quark``: review.md §1), and the checker expects a ``model_mapping.json`` at the tree's root (or an
organisation's folder) to say which benchmark they derive from. Review takes, in order: that file's word, the model's
name or alias, the checker's spelling (``_`` for ``.`` in ``llama3_1``), then the longest model name or alias the
folder name starts with (followed by ``-`` or ``_``). Anything else is unresolved: the checks that need the model's
facts (its EOS token, its audit settings) say they could not be made.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from compliance.specs.types import Model, Specs

MAPPING_FILE = "model_mapping.json"


@dataclass(frozen=True)
class Resolution:
    """The model a benchmark folder stands for, and what says so."""

    folder: str
    model: Model | None
    how: str  # "name", "alias", "checker spelling", "model_mapping.json (<path>)", "prefix", "" (unresolved)

    @property
    def exact(self) -> bool:
        """The folder is the model's own name or alias (not a variant inferred from its name)."""
        return self.how in ("name", "alias", "checker spelling")


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


def _by_name(specs: Specs, name: str) -> Model | None:
    try:
        return specs.model(name)
    except KeyError:
        return None


def _checker_spelling(folder: str) -> str:
    """The checker's ``model_mapping`` spellings: ``llama3_1-405b`` is ``llama3.1-405b``."""
    return re.sub(r"(llama\d)_(\d)", r"\1.\2", folder)


def resolve(specs: Specs, folder: str, mapping: dict[str, str] | None = None, mapping_path: str = "") -> Resolution:
    """The model of benchmark folder ``folder`` (see the module's docstring for the order)."""
    if mapping and folder in mapping:
        model = _by_name(specs, mapping[folder])
        if model is not None:
            return Resolution(folder, model, f"{MAPPING_FILE} ({mapping_path})")
    if folder in specs.models:
        return Resolution(folder, specs.models[folder], "name")
    model = _by_name(specs, folder)
    if model is not None:
        return Resolution(folder, model, "alias")
    spelled = _checker_spelling(folder)
    model = _by_name(specs, spelled)
    if model is not None:
        return Resolution(folder, model, "checker spelling")
    candidates = []
    for model in specs.models.values():
        for name in (model.name, *model.aliases):
            if len(spelled) > len(name) and spelled.startswith(name) and spelled[len(name)] in "-_":
                candidates.append((len(name), model.name, model))
    if candidates:
        candidates.sort(key=lambda c: (-c[0], c[1]))
        return Resolution(folder, candidates[0][2], "prefix")
    return Resolution(folder, None, "")
