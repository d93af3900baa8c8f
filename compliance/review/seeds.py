"""Each round's LoadGen seeds, and the round of a tree decided from the seeds its logs carry.

Every round's mlperf.conf sets three seeds (``qsl_rng_seed``, ``sample_index_rng_seed``, ``schedule_rng_seed``) that
the detail log shows in force (``effective_*_rng_seed``); the checker requires them (domain.md §5.3), so they identify
the round a run was made for (review.md §2). v4.1's TEST05 runs use the round's other seeds (``test05_*``).

The round specs carry ``seeds: {qsl, sample_index, schedule}`` (``Round.seeds``); where a spec does not yet, the
values below are used: facts of the official checker's tables (``tools/submission``: ``seeds`` and ``test05_seeds``
of each version, v4.0 and v4.1 from the checker of that era, commit 725b3c0a of mlcommons/inference).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from compliance.errors import InputError
from compliance.specs.types import Round, System

Seeds = tuple[int, int, int]

#: round -> (qsl, sample_index, schedule), from the official checker's tables
KNOWN: dict[str, Seeds] = {
    "v4.0": (13281865557512327830, 198141574272810017, 7575108116881280410),
    "v4.1": (3066443479025735752, 10688027786191513374, 14962580496156340209),
    "v5.0": (6023615788873153749, 15036839855038426416, 9933818062894767841),
    "v5.1": (1780908523862526354, 14771362308971278857, 18209322760996052031),
    "v6.0": (2465351861681999779, 14276810075590677512, 3936089224930324775),
    "v6.1": (2085463073848966840, 2747215439041700203, 16159082839903944936),
}
#: round -> the seeds of its TEST05 runs (``test05_seeds``; rounds up to v4.1 had TEST05)
TEST05: dict[str, Seeds] = {
    "v4.0": (2376919268182438552, 11176391829184272374, 3911940905271271337),
    "v4.1": (16799458546791641818, 5453809927556429288, 5435552105434836064),
}


def _from_spec(value: Any) -> Seeds | None:
    """``Round.seeds`` as a triple, whatever its shape (a mapping or an object with the three names)."""
    if value is None:
        return None
    get = value.get if isinstance(value, Mapping) else lambda k: getattr(value, k, None)
    qsl, sample_index, schedule = (get(k) for k in ("qsl", "sample_index", "schedule"))
    if isinstance(qsl, int) and isinstance(sample_index, int) and isinstance(schedule, int):
        return qsl, sample_index, schedule
    return None


def table(rounds: Mapping[str, Round]) -> dict[str, Seeds]:
    """Round -> its seeds: the spec's when it has them, else the checker's table (rounds of either)."""
    found = dict(KNOWN)
    for name, rnd in rounds.items():
        seeds = _from_spec(getattr(rnd, "seeds", None))
        if seeds is not None:
            found[name] = seeds
    return found


def round_of(seeds: Any, known: Mapping[str, Seeds]) -> tuple[str, bool] | None:
    """(round, is_test05) whose seeds these are, or None."""
    if not isinstance(seeds, tuple):
        return None
    for name, value in known.items():
        if value == seeds:
            return name, False
    for name, value in TEST05.items():
        if value == seeds:
            return name, True
    return None


@dataclass(frozen=True)
class Decision:
    """The round a review uses, and the evidence that decided it."""

    round: str
    evidence: str  # a sentence: "--round" or the counts of logs per round


def of_specs(systems: Iterable[str], specs: Mapping[str, System]) -> Decision | None:
    """The round of the system specs named like the tree's systems, when they agree: the round of the user's own
    tree whose runs carry no round's seeds (a demo, a dry run)."""
    named = sorted({s for s in systems if s in specs})
    rounds = {specs[s].round for s in named}
    if len(rounds) != 1:
        return None
    which = f"system spec{'s' if len(named) > 1 else ''} {', '.join(named)}"
    return Decision(rounds.pop(), f"the round of the {which}: no detail log carries a known round's seeds")


def decide(
    given: str | None,
    seen: Iterable[Any],
    known: Mapping[str, Seeds],
    available: Iterable[str],
    fallback: Decision | None = None,
) -> Decision:
    """The round: ``given`` (``--round``), else the one whose seeds the detail logs carry, else ``fallback`` (the
    round of the tree's system specs: :func:`of_specs`) when no log carries a known round's seeds.

    A round is decided from the logs when at least one log carries its seeds and every other known round's seeds
    are in at most 5% of the identified logs (those are then reported as seeds of another round).

    Raises:
        InputError: the round is unknown, or the logs do not decide it (none identified, or several rounds).
    """
    names = sorted(set(available))
    if given is not None:
        if given not in names:
            raise InputError(f"--round {given}: no round spec of that name (known: {', '.join(names)})")
        return Decision(given, "given with --round")
    counts: Counter[str] = Counter()
    unknown = 0
    for seeds in seen:
        found = round_of(seeds, known)
        if found is None:
            unknown += 1
        else:
            counts[found[0]] += 1
    total = sum(counts.values())
    told = ", ".join(f"{name}: {n}" for name, n in counts.most_common())
    if not total and fallback is not None and fallback.round in names:
        return fallback
    if not total:
        raise InputError(
            f"the round cannot be told from the logs: none of the {unknown} detail logs carries the seeds of a known "
            f"round ({', '.join(sorted(known))}); say which with --round"
        )
    best, n = counts.most_common(1)[0]
    if n < 0.95 * total:
        raise InputError(
            f"the round cannot be told from the logs: their seeds are those of several rounds ({told}); "
            "say which with --round"
        )
    if best not in names:
        raise InputError(f"the logs carry the seeds of round {best} ({n} detail logs), which has no round spec here")
    other = f"; other seeds: {told}" if len(counts) > 1 else ""
    rest = f"; {unknown} carry no known round's seeds" if unknown else ""
    return Decision(best, f"the seeds of {best} in {n} of {total + unknown} detail logs{other}{rest}")
