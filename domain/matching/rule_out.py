"""Quick tests that rule a pair of records out before any evidence is built: they answer
"unlike" only when `match` would find nothing."""

from __future__ import annotations

from collections.abc import Iterable, Set
from enum import Enum
from functools import lru_cache

from rapidfuzz import fuzz

from domain.matching.aliases import Aliases
from domain.matching.forms import Level, level_pairs
from domain.matching.likeness import shares_block
from domain.matching.names import CompanyName
from domain.matching.records import CompanyRef, MatchRules, analysed_name, ref_domains


class Why(Enum):
    """Why `may_match` let a pair through: `fuzzy` only when a fuzzy likeness was the sole
    way left, which also means the pair shares a typo block."""

    unlike = 0
    fuzzy = 1
    other = 2


def may_match(a: CompanyRef, b: CompanyRef, rules: MatchRules, aliases: Aliases) -> Why:
    """`unlike` only when `match` would find nothing: no shared domain, name form, alias
    group, regional arm or initialism, and no fuzzy score that could clear a threshold.

    Most candidates a key lookup brings are strangers; this rules them out with set
    intersections and two cut-off rapidfuzz calls instead of the full evidence.
    """
    if _may_share_domain(a, b):
        return Why.other
    x, y = analysed_name(a, rules), analysed_name(b, rules)
    if not x.variants or not y.variants:
        return Why.unlike
    if forms_meet(x, y.exact, y.regional, y.short_forms, y.initialisms):
        return Why.other
    if not alias_groups(x, aliases).isdisjoint(alias_groups(y, aliases)):
        return Why.other
    return Why.fuzzy if _may_be_fuzzy(x, y, rules) else Why.unlike


@lru_cache(maxsize=65536)
def alias_groups(name: CompanyName, aliases: Aliases) -> frozenset[str]:
    """`aliases.groups(name)`, cached."""
    return aliases.groups(name)


@lru_cache(maxsize=65536)
def org_domains(ref: CompanyRef) -> frozenset[str]:
    """The record's organisation domains (`ref_domains`) as a set, cached."""
    return frozenset(d for d in ref_domains(ref) if d is not None)


def forms_meet(
    x: CompanyName,
    exact: Set[str],
    regional: Set[str],
    short_forms: Iterable[str],
    initialisms: Iterable[str],
) -> bool:
    """Whether `x` and another name's forms share a name form, a regional arm or an
    initialism (one the other's abbreviation)."""
    if not x.exact.isdisjoint(exact):
        return True
    if not (x.regional.isdisjoint(exact) and x.exact.isdisjoint(regional)):
        return True
    return not (x.short_forms.isdisjoint(initialisms) and x.initialisms.isdisjoint(short_forms))


Levels = list[tuple[Level, Level]]
"""Each variant's core and base `Level` of a name (see `levels_of`)."""


def levels_of(name: CompanyName) -> Levels:
    """Each variant's core and base level, with and without spaces."""
    return [
        ((" ".join(f.core), "".join(f.core)), (" ".join(f.base), "".join(f.base)))
        for f in name.variants
    ]


def may_score(a: Levels, b: Levels, rules: MatchRules) -> bool:
    """False only when no fuzzy score of `similarity` can clear its threshold (checked
    before the blocks, which a candidate ruled out here never has to work out)."""
    aligned_cut = rules.fuzzy_threshold * 100 - 1e-6
    compact_cut = rules.fuzzy_compact_threshold * 100 - 1e-6
    if min(aligned_cut, compact_cut) <= 0:
        return True
    for core_a, base_a in a:
        for core_b, base_b in b:
            pairs = level_pairs((core_a, core_b), (base_a, base_b))
            for (words_a, compact_a), (words_b, compact_b) in pairs:
                if fuzz.ratio(compact_a, compact_b, score_cutoff=compact_cut):
                    return True
                if words_a.count(" ") == words_b.count(" ") and fuzz.token_sort_ratio(
                    words_a, words_b, score_cutoff=aligned_cut
                ):
                    return True
    return False


def _may_share_domain(a: CompanyRef, b: CompanyRef) -> bool:
    """False only when the records share no organisation domain. A registrable domain is a
    piece of the website or address it came from, so most strangers are ruled out without
    parsing the other record's domains."""
    mine = org_domains(a)
    if not mine or not (b.domain or b.email):
        return False
    typed = f"{b.domain or ''} {b.email or ''}".casefold()
    if not any(domain in typed for domain in mine):
        return False
    return not mine.isdisjoint(org_domains(b))


def _may_be_fuzzy(a: CompanyName, b: CompanyName, rules: MatchRules) -> bool:
    """False only when `match` would find no fuzzy likeness (its scores with rapidfuzz
    cut-offs, then the typo-block gate)."""
    if min(len(a.compact), len(b.compact)) < rules.fuzzy_min_length:
        return False
    return may_score(levels_of(a), levels_of(b), rules) and shares_block(a, b)
