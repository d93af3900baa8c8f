"""Which model spec a benchmark name of a submission tree stands for, open-division names included.

Closed-division folders use the checker's benchmark names (or their aliases: ``resnet50``, ``llama3_1-405b``). The
open division's names are free (review.md §1): ``llama3_1-405b_finetuned``, ``llama2-70b-fp8_quark``,
``llama3_1-70b-fp8_dyn``. :func:`resolve` maps such a name to its base model when the name says which (it starts
with a model's name or alias, then ``-`` or ``_``), else, for a test that needs only some facts of a model (a test
spec's ``model_fields``: TEST06's tokens), to any model of its family (the part before the first ``-``) when every
model of that family has the same such facts. Otherwise the name is unknown, and the checks that need the model's
facts are NOT CHECKABLE (:attr:`compliance.verify.base.Request.model_name`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from compliance.specs.types import Model

EXACT = "exact"  # the name, or an alias, of a model
BASE = "base"  # an open-division name that starts with a model's name or alias
FAMILY = "family"  # a name of a family whose models share the facts a test needs


@dataclass(frozen=True)
class ModelMatch:
    """What a benchmark name resolved to: the model (None when unknown), how, and a sentence saying so."""

    name: str
    model: Model | None
    how: str = ""  # EXACT, BASE, FAMILY or "" (unknown)
    note: str = ""  # for people: how the name was taken (empty for an exact match)
    family: tuple[str, ...] = ()  # the models of the name's family (by name), when it has one


def _norm(name: str) -> str:
    """Names compare case-insensitively, with ``.`` and ``_`` alike (``llama3.1-405b`` is ``llama3_1-405b``)."""
    return name.strip().lower().replace(".", "_")


def _family(name: str) -> str:
    return _norm(name).split("-", 1)[0]


def _names(model: Model) -> tuple[str, ...]:
    return (model.name, *model.aliases)


def _base(models: Mapping[str, Model], name: str) -> Model | None:
    """The model whose name or alias is the longest that ``name`` starts with, followed by ``-`` or ``_``."""
    wanted = _norm(name)
    best: tuple[int, Model] | None = None
    for model in models.values():
        for known in map(_norm, _names(model)):
            if wanted.startswith(known) and wanted[len(known) : len(known) + 1] in ("-", "_"):
                if best is None or len(known) > best[0]:
                    best = (len(known), model)
    return best[1] if best else None


def resolve(
    models: Mapping[str, Model], name: str, hints: Iterable[str] = (), needs: Collection[str] = ()
) -> ModelMatch:
    """The model a benchmark ``name`` of a submission tree stands for.

    Args:
        models: the model specs, by name.
        name: the benchmark folder's name.
        hints: other names the tree gives for it (tried after ``name``), e.g. from a system description.
        needs: the model facts the test needs (a test spec's ``model_fields``, e.g. ``("tokens",)``): with some,
            a name of a known family maps to a model of it when every model of the family has the same facts.
    """
    tried = [name, *hints]
    for candidate in tried:
        for model in models.values():
            if _norm(candidate) in map(_norm, _names(model)):
                how = "" if candidate == name else f" (as the tree's {candidate!r})"
                return ModelMatch(name, model, EXACT, f"{name} is {model.name}{how}" if how else "")
    for candidate in tried:
        base = _base(models, candidate)
        if base is not None:
            return ModelMatch(name, base, BASE, f"{name} is taken as {base.name}, the model it starts with")
    family = tuple(sorted(m.name for m in models.values() if _family(m.name) == _family(name)))
    if needs and family:
        facts = {tuple(repr(getattr(models[m], field, None)) for field in sorted(needs)) for m in family}
        if len(facts) == 1 and all(getattr(models[family[0]], field, None) is not None for field in needs):
            model = models[family[0]]
            return ModelMatch(
                name,
                model,
                FAMILY,
                f"{name} is of the {_family(name)} family; its {', '.join(sorted(needs))} are taken from "
                f"{model.name} (every model of the family has the same: {', '.join(family)})",
                family,
            )
    return ModelMatch(name, None, "", f"no model spec is known for {name}", family)
