"""Typo blocks: short strings two names with a typo between them still share, so that a
fuzzy likeness is looked up by key and accepted only between names that share one."""

from __future__ import annotations

from functools import lru_cache

from domain.matching import wordlists as words
from domain.matching.forms import NameForms

BLOCK_PREFIX = 8
"""Typo blocks are the one-deletion neighbourhood of a name's first 8 letters, past any common
business words that lead it (see `_blocks`).

Eight, not five: at CRM scale a short block ("olut" of "Kolu Trading") is shared by so many
names that it says nothing, while "olutrad" is shared by the few "?olu Trading"."""

_OWN_LETTERS = 3
"""A block that starts with common words holds at least this many letters of the others."""


def typo_blocks(variants: tuple[NameForms, ...], prefix: int) -> set[str]:
    """The typo blocks of a name's variants, worked out afresh (for a record keyed once,
    e.g. by an import: caching costs more than it saves there)."""
    if len(variants) == 1:
        return _blocks(variants[0], prefix)
    return {block for forms in variants for block in _blocks(forms, prefix)}


@lru_cache(maxsize=131072)
def name_blocks(variants: tuple[NameForms, ...], prefix: int) -> frozenset[str]:
    """`typo_blocks`, cached for names compared again and again (a lookup's subject)."""
    return frozenset(typo_blocks(variants, prefix))


def forget_blocks() -> None:
    """Empty `name_blocks`' cache."""
    name_blocks.cache_clear()


def any_block_in(blocks: frozenset[str], variants: tuple[NameForms, ...], prefix: int) -> bool:
    """Whether ``typo_blocks(variants, prefix) & blocks`` is not empty, trying the variants'
    blocks one by one instead of working them all out (the first one usually decides)."""
    for forms in variants:
        for toks in _block_orders(forms):
            own, whole = _block_texts(toks, prefix)
            if own in blocks or (whole is not None and whole in blocks):
                return True
            if len(own) > _OWN_LETTERS and any(
                own[:i] + own[i + 1 :] in blocks for i in range(len(own))
            ):
                return True
    return False


def _deletions(text: str) -> set[str]:
    """The text and every string made by deleting one of its characters."""
    found = {text[:i] + text[i + 1 :] for i in range(len(text))}
    found.add(text)
    return found


# Common words of 5+ letters and their one-deletion neighbourhoods: a word sharing one of
# these strings is a common word with a typo ("Gllobal", "Sytems").
_COMMON_NEAR = frozenset(s for w in words.COMMON_WORDS if len(w) >= 5 for s in _deletions(w))
# Their first three letters. A token's one-deletion strings start with its own first three
# letters, or (deleting one of them) with one of three others: when none of those four is
# here, none of its deletions is in _COMMON_NEAR, and they need not be worked out.
_COMMON_NEAR_HEADS = frozenset(s[:3] for s in _COMMON_NEAR)


@lru_cache(maxsize=65536)
def _is_common(token: str) -> bool:
    """A common business word, or one with a typo (one edit, words of five letters or more)."""
    if token in words.COMMON_WORDS:
        return True
    if len(token) < 5:
        return False
    heads = _COMMON_NEAR_HEADS
    t = token
    if (
        t[:3] not in heads
        and t[1:4] not in heads
        and t[0] + t[2:4] not in heads
        and t[:2] + t[3] not in heads
    ):
        return False  # most names' first words: a CRM's are mostly distinct, uncached
    return not _COMMON_NEAR.isdisjoint(_deletions(token))


def _block_texts(toks: tuple[str, ...], prefix: int) -> tuple[str, str | None]:
    """(the first `prefix` letters after any leading common business words, the last word
    always kept; the first `prefix` letters of all the words when they lead with common
    words yet hold `_OWN_LETTERS` of the others, else None).

    "global madasena" gives ("madasena", None): at CRM scale "globalma" is shared by too
    many names to narrow anything. "group vodaphone" gives ("vodaphon", "groupvod")."""
    skipped = 0
    while skipped < len(toks) - 1 and _is_common(toks[skipped]):
        skipped += 1
    own = "".join(toks[skipped:])[:prefix]
    if not skipped:
        return own, None
    whole = "".join(toks)[:prefix]
    lead = sum(len(token) for token in toks[:skipped])
    return own, whole if len(whole) - lead >= _OWN_LETTERS else None


def _block_orders(forms: NameForms) -> set[tuple[str, ...]]:
    """The word sequences typo blocks are cut from: core and base, in word order and sorted."""
    return {forms.core, forms.base, tuple(sorted(forms.core)), tuple(sorted(forms.base))}


def _blocks(forms: NameForms, prefix: int) -> set[str]:
    """Typo-tolerant blocking keys of each form, in word order and sorted: the one-deletion
    neighbourhood of its prefix past common leading words, and the prefix with them, exact
    (see `_block_texts`)."""
    out: set[str] = set()
    owns: set[str] = set()  # the orders often share one: "tuza global" and "global tuza"
    for toks in _block_orders(forms):
        own, whole = _block_texts(toks, prefix)
        owns.add(own)
        if whole is not None:
            out.add(whole)
    for own in owns:
        # "ona" and "nna" share only "na": at CRM scale a block of so many names that no
        # lookup can use it. A text this short is a block as it is, not a typo.
        out |= _deletions(own) if len(own) > _OWN_LETTERS else {own}
    return out
