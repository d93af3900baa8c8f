"""A system's launcher as the specs give it: its kind and settings, with the defaults its kind declares.

Layer: the specs layer (the schema is read through :mod:`.schemacheck`).
"""

from __future__ import annotations

from typing import Any

from compliance.specs import schemacheck
from compliance.specs.types import Launcher


def launcher(data: dict[str, Any]) -> Launcher:
    """The launcher of a valid spec, with the defaults its kind declares filled in (lists become tuples)."""
    settings = {**launcher_defaults(data["kind"]), **data}
    return Launcher(
        data["kind"],
        tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in settings.items() if k != "kind")),
    )


def launcher_defaults(kind: str) -> dict[str, Any]:
    """The defaults of a launcher kind's settings: the schema declares them in the kind's own branch
    (``$defs.launcher.allOf``: if kind is K then these keys), which the generic default filling does not enter."""
    for branch in schemacheck.schema("system")["$defs"]["launcher"].get("allOf", ()):
        if branch["if"]["properties"]["kind"].get("const") == kind:
            return {
                key: sub["default"]
                for key, sub in branch["then"]["properties"].items()
                if isinstance(sub, dict) and "default" in sub
            }
    return {}
