"""'Did you mean' suggestions for typos (unknown fields, step names, outputs)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from difflib import get_close_matches


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``word``, or None when nothing is close enough."""
    return _closest(word, tuple(candidates))


# A pure function of its arguments, memoised: difflib is slow, and some hints are built for
# warnings of valid workflows too (KN043, no contract known), so every compile of a workflow
# with an uncontracted action type in a busy controller asked difflib the same question again.
@functools.lru_cache(maxsize=1024)
def _closest(word: str, candidates: tuple[str, ...]) -> str | None:
    matches = get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in candidates}
    return lowered.get(word.lower())


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A ready-made hint sentence, or None."""
    best = suggest(word, candidates)
    return f"did you mean '{best}'?" if best else None
