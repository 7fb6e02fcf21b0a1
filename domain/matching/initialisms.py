"""Abbreviations of a company name: the name as a short form ("IBM", "3M") and the
initialisms its longer forms abbreviate to ("International Business Machines" → ibm)."""

from __future__ import annotations

import re

from domain.matching import wordlists as words
from domain.matching.forms import NameForms, level_pairs

_REPEAT = re.compile(r"^([2-9])([a-z])$")


def abbreviations(variants: tuple[NameForms, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """(short forms, initialisms) of a name's variants."""
    shorts: set[str] = set()
    inits: set[str] = set()
    for forms in variants:
        core, base = forms.core, forms.base
        for toks in level_pairs(core, base):
            if short := _short_form(toks):
                shorts.add(short)
            if initials := _initials(toks):
                inits.add(initials)
        if len(core) > 1:  # one word has no initials; it is not widened either
            inits |= {i for toks in _widened(forms.full, core) if (i := _initials(toks))}
            if initials := _initials(core, min_len=4):
                inits.add(initials)
    return frozenset(shorts), frozenset(inits)


def _initials(toks: tuple[str, ...], *, min_len: int = 1) -> str | None:
    """First letters of the significant words (two or more), or None for fewer than two."""
    picked = [t for t in toks if t not in words.STOPWORDS and len(t) >= min_len]
    return "".join(t[0] for t in picked) if len(picked) >= 2 else None


def _short_form(toks: tuple[str, ...]) -> str | None:
    """The name as an abbreviation ("IBM", "P&G", "3M" → "mmm"), or None if it is not one."""
    compact = "".join(toks)
    if not 2 <= len(compact) <= 4 or not (len(toks) == 1 or all(len(t) <= 2 for t in toks)):
        return None
    repeated = _REPEAT.match(compact)
    return repeated[2] * int(repeated[1]) if repeated else compact


def _widened(full: tuple[str, ...], core: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The core plus the word after it (…Banking *Corporation*: HSBC) or before it (KLM)."""
    n = len(core)
    for i in range(len(full) - n + 1):
        if full[i : i + n] == core:
            return [full[i : i + n + 1], full[max(i - 1, 0) : i + n]]
    return []
