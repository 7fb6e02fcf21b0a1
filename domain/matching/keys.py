"""Candidate keys a database indexes so that any matching pair shares at least one key."""

from __future__ import annotations

from domain.matching.aliases import Aliases
from domain.matching.match import DEFAULT_RULES, CompanyRef, MatchRules, ref_domains
from domain.matching.names import analyse

CandidateKeys = frozenset[str]
"""Short strings: ``d:`` domain, ``n:`` name form, ``t:`` typo block, ``i:`` initialism,
``a:`` alias group. Whenever ``match(a, b)`` finds evidence, the key sets intersect."""

_MAX_LEN = 48


def candidate_keys(
    ref: CompanyRef,
    *,
    rules: MatchRules = DEFAULT_RULES,
    aliases: Aliases | None = None,
) -> CandidateKeys:
    """The index keys of one record (same ``rules`` and ``aliases`` as ``match`` uses)."""
    aliases = Aliases.default() if aliases is None else aliases
    keys = {f"d:{d}"[:_MAX_LEN] for d in ref_domains(ref) if d is not None}
    name = analyse(ref.name, rules.block_prefix)
    if not name.variants:
        return frozenset(keys)
    keys |= {f"n:{form}"[:_MAX_LEN] for form in name.exact | name.regional}
    keys |= {f"i:{form}"[:_MAX_LEN] for form in name.short_forms | name.initialisms}
    keys |= {f"a:{group}"[:_MAX_LEN] for group in aliases.groups(name)}
    if len(name.compact) >= rules.fuzzy_min_length:
        keys |= {f"t:{block}" for block in name.blocks}
    return frozenset(keys)
