"""A company name's normalisation levels: the full name, its core without legal forms, its
base without group words, and its regional form without a trailing place."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from rapidfuzz import fuzz

from domain.matching import wordlists as words
from domain.matching.folding import tokens


@dataclass(frozen=True, slots=True)
class NameForms:
    """One folding of a company name at each normalisation level (tuples of tokens)."""

    full: tuple[str, ...]
    core: tuple[str, ...]
    base: tuple[str, ...]
    regional: tuple[str, ...] | None


def forms_of(raw: str, *, german: bool) -> NameForms | None:
    """All normalisation levels of one folding, or None when nothing word-like remains."""
    full = tokens(raw, german=german)
    if not full:
        return None
    core = _strip_legal(full)
    base = _strip_start(_strip_end(core, _GROUP_LAST), _GROUP_FIRST)
    return NameForms(full=full, core=core, base=base, regional=_strip_geography(base))


Level = tuple[str, str]
"""One normalisation level of a name: its words space-separated, and without spaces."""

T = TypeVar("T")


def level_pairs(core: T, base: T) -> tuple[T, ...]:
    """A name's core and base level (or the pairs of two names' levels), the core alone when
    the base is the same (most names have no group word to drop, so their base is their
    core)."""
    return (core,) if base == core else (core, base)


_Phrases = dict[str, tuple[tuple[str, ...], ...]]


def _by_end(seqs: tuple[tuple[str, ...], ...], end: int) -> _Phrases:
    """The phrases grouped by their first (`end=0`) or last (`end=-1`) word, order kept."""
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for seq in seqs:
        grouped.setdefault(seq[end], []).append(seq)
    return {word: tuple(group) for word, group in grouped.items()}


# The word lists by the word a phrase ends or starts with: a name is compared only with the
# phrases that can match it (the same first match as scanning every phrase in order).
_LEGAL_LAST = _by_end(words.LEGAL_SUFFIXES, -1)
_LEGAL_FIRST = _by_end(words.LEGAL_PREFIXES, 0)
_GROUP_LAST = _by_end(words.GROUP_WORDS, -1)
_GROUP_FIRST = _by_end(words.GROUP_WORDS, 0)
_GEOGRAPHY_LAST = _by_end(words.GEOGRAPHY, -1)


def _strip_end(toks: tuple[str, ...], by_last: _Phrases) -> tuple[str, ...]:
    """Remove phrases from the end, repeatedly, always keeping at least one token."""
    while len(toks) > 1:
        for seq in by_last.get(toks[-1], ()):
            n = len(seq)
            if len(toks) > n and toks[-n:] == seq:
                toks = toks[:-n]
                break
        else:
            return toks
    return toks


def _strip_start(toks: tuple[str, ...], by_first: _Phrases) -> tuple[str, ...]:
    """Remove phrases from the start, repeatedly, always keeping at least one token."""
    while len(toks) > 1:
        for seq in by_first.get(toks[0], ()):
            n = len(seq)
            if len(toks) > n and toks[:n] == seq:
                toks = toks[n:]
                break
        else:
            return toks
    return toks


def _strip_legal(toks: tuple[str, ...]) -> tuple[str, ...]:
    """Legal forms as prefix or suffix, a leading "The", and a misspelt trailing legal word."""
    toks = _strip_start(_strip_end(toks, _LEGAL_LAST), _LEGAL_FIRST)
    if len(toks) > 1 and len(toks[-1]) >= 7 and _misspelt_legal(toks[-1]):
        toks = _strip_end(toks[:-1], _LEGAL_LAST)
    return toks


@lru_cache(maxsize=4096)
def _misspelt_legal(word: str) -> bool:
    """A long legal word with a typo ("Corporatoin"); cached: the words that ask repeat
    ("solutions", "systems" are asked about in every other name)."""
    return any(fuzz.ratio(word, legal) >= 88 for legal in words.LEGAL_LONG)


def _strip_geography(toks: tuple[str, ...]) -> tuple[str, ...] | None:
    """The name without a trailing place ("Siemens Schweiz" → "siemens"), or None."""
    for seq in _GEOGRAPHY_LAST.get(toks[-1], ()):
        n = len(seq)
        if len(toks) > n and toks[-n:] == seq and toks[-n - 1] not in words.GEO_GUARDS:
            return toks[:-n]
    return None
