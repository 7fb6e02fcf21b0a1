"""Candidate keys a database indexes so that any matching pair is found by a key lookup."""

from __future__ import annotations

from domain.matching.aliases import Aliases
from domain.matching.blocking import typo_blocks
from domain.matching.names import CompanyName, analyse
from domain.matching.records import DEFAULT_RULES, CompanyRef, MatchRules, ref_domains

CandidateKeys = frozenset[str]
"""Short strings: ``d:`` domain, ``n:`` name form, ``t:`` typo block, ``a:`` alias group,
``i:`` initialism of a long name, ``s:`` a short name (an abbreviation).

A record is stored under its `candidate_keys` and looks others up by its `lookup_keys`;
whenever ``match(a, b)`` finds evidence, ``lookup_keys(a) & candidate_keys(b)`` is not
empty. The two sets differ only for initialisms: a long name posts ``i:ibm`` and looks up
``s:ibm``, a short name posts ``s:ibm`` and looks up ``i:ibm``. Two long names that merely
share their initials ("Sodamo Labs", "Sami Lu": ``sl``) never meet, since the initialism
signal needs one name to be the other's abbreviation.

At CRM scale a lookup skips keys shared by more than `key_cap` records, so the invariant
that matters is stronger: some shared key is selective. Typo blocks are therefore never cut
from common business words alone ("globalma" of "Madasena Global"; see
`blocking._block_texts`), and `match` accepts a fuzzy likeness only through a shared block."""

_MAX_LEN = 48


def candidate_keys(
    ref: CompanyRef,
    *,
    rules: MatchRules = DEFAULT_RULES,
    aliases: Aliases | None = None,
) -> CandidateKeys:
    """The keys a record is stored under (same ``rules`` and ``aliases`` as ``match`` uses)."""
    return _keys(ref, rules, aliases, lookup=False)


def lookup_keys(
    ref: CompanyRef,
    *,
    rules: MatchRules = DEFAULT_RULES,
    aliases: Aliases | None = None,
) -> CandidateKeys:
    """The keys to look up to find every stored record that may match ``ref``."""
    return _keys(ref, rules, aliases, lookup=True)


def _keys(
    ref: CompanyRef, rules: MatchRules, aliases: Aliases | None, *, lookup: bool
) -> CandidateKeys:
    aliases = Aliases.default() if aliases is None else aliases
    keys = {f"d:{d}"[:_MAX_LEN] for d in ref_domains(ref) if d is not None}
    name = analyse(ref.name, rules.block_prefix)
    if not name.variants:
        return frozenset(keys)
    keys |= {f"n:{form}"[:_MAX_LEN] for form in name.exact | name.regional}
    keys |= _initialism_keys(name, lookup=lookup)
    keys |= {f"a:{group}"[:_MAX_LEN] for group in aliases.groups(name)}
    if len(name.compact) >= rules.fuzzy_min_length:
        keys |= {f"t:{block}" for block in typo_blocks(name.variants, name.block_prefix)}
    return frozenset(keys)


def _initialism_keys(name: CompanyName, *, lookup: bool) -> set[str]:
    """``i:`` for what the name abbreviates to, ``s:`` for the name as an abbreviation;
    a lookup asks for the other side (see `CandidateKeys`)."""
    long, short = ("s:", "i:") if lookup else ("i:", "s:")
    keys = {f"{long}{form}"[:_MAX_LEN] for form in name.initialisms}
    keys |= {f"{short}{form}"[:_MAX_LEN] for form in name.short_forms}
    return keys
