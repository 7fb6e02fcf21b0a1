"""A company name analysed once: its normalisation levels, exact and regional forms, short
forms and initialisms (`CompanyName`), cached per distinct string (`analyse`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from domain.matching.blocking import BLOCK_PREFIX, forget_blocks, name_blocks
from domain.matching.forms import NameForms, forms_of
from domain.matching.initialisms import abbreviations


@dataclass(frozen=True, slots=True)
class CompanyName:
    """Everything the matcher compares about one name, computed once per distinct string."""

    raw: str
    variants: tuple[NameForms, ...]
    exact: frozenset[str]
    regional: frozenset[str]
    short_forms: frozenset[str]
    initialisms: frozenset[str]
    block_prefix: int

    @classmethod
    def of(
        cls,
        raw: str,
        variants: tuple[NameForms, ...],
        short_forms: frozenset[str],
        initialisms: frozenset[str],
        block_prefix: int,
    ) -> CompanyName:
        """The name with these forms, short forms and initialisms (the costly parts)."""
        exact: set[str] = set()
        regional: set[str] = set()
        for forms in variants:
            exact |= {"".join(forms.core), "".join(forms.base)}
            if forms.regional is not None:
                regional.add("".join(forms.regional))
        return cls(
            raw=raw,
            variants=variants,
            exact=frozenset(exact),
            regional=frozenset(regional),
            short_forms=short_forms,
            initialisms=initialisms,
            block_prefix=block_prefix,
        )

    @property
    def blocks(self) -> frozenset[str]:
        """Typo blocks (`blocking.typo_blocks`), worked out when first asked for: a lookup
        rules most candidates out by their scores and never needs theirs."""
        return name_blocks(self.variants, self.block_prefix)

    @property
    def key(self) -> str:
        """The normalised name shown to people, e.g. ``"walt disney"``."""
        return " ".join(self.variants[0].core) if self.variants else ""

    @property
    def compact(self) -> str:
        """The normalised name without spaces (``"walmart"`` for ``Wal-Mart Stores, Inc.``)."""
        return "".join(self.variants[0].core) if self.variants else ""


def analyse(raw: str, block_prefix: int = BLOCK_PREFIX) -> CompanyName:
    """Normalise a company name once; the result is cached per distinct string."""
    # One cache entry however it is called: `lru_cache` keys `analyse(x)` and
    # `analyse(x, 8)` apart, and an import analysed every name twice (keys, name_forms).
    return _analyse(raw, block_prefix)


def forget_analyses() -> None:
    """Empty the caches of `analyse` and of typo blocks (for a process that analyses each
    name once, such as a bulk import's worker, where kept entries would only grow it)."""
    _analyse.cache_clear()
    forget_blocks()


@lru_cache(maxsize=131072)
def _analyse(raw: str, block_prefix: int) -> CompanyName:
    variants: list[NameForms] = []
    # The German folding (ä → ae) differs from the plain one only when the name has an umlaut.
    umlaut = not raw.isascii() and any(ch in raw.casefold() for ch in "äöü")
    for german in (False, True) if umlaut else (False,):
        forms = forms_of(raw, german=german)
        if forms is not None and forms not in variants:
            variants.append(forms)
    shorts, inits = abbreviations(tuple(variants))
    return CompanyName.of(raw, tuple(variants), shorts, inits, block_prefix)
