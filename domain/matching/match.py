"""Whether two customer records are the same company, and the evidence a human can check."""

from __future__ import annotations

from domain.matching.aliases import Aliases
from domain.matching.domains import is_country_sibling
from domain.matching.evidence import Evidence, Finding, Signal, Strength
from domain.matching.likeness import initialism_hit, shares_block, similarity
from domain.matching.names import CompanyName
from domain.matching.records import (
    DEFAULT_RULES,
    CompanyRef,
    Domains,
    MatchRules,
    analysed_name,
    normal_country,
    ref_domains,
)
from domain.matching.rule_out import Why, may_match

_ACROSS_BORDERS = frozenset({Signal.regional_arm, Signal.alias})
"""Name signals that still count between records of different countries."""


def match(
    a: CompanyRef,
    b: CompanyRef,
    *,
    rules: MatchRules = DEFAULT_RULES,
    aliases: Aliases | None = None,
) -> Evidence | None:
    """Evidence that ``a`` and ``b`` are the same customer, or None. Symmetric and pure.

    Strangers are ruled out first by quick tests (`rule_out.may_match`), then `judge`
    builds the evidence.
    """
    aliases = Aliases.default() if aliases is None else aliases
    why = may_match(a, b, rules, aliases)
    if why is Why.unlike:
        return None
    return _judge(a, b, rules, aliases, block_shared=why is Why.fuzzy or None)


def judge(a: CompanyRef, b: CompanyRef, rules: MatchRules, aliases: Aliases) -> Evidence | None:
    """`match` without its quick tests: the same answer for any pair, built in full. For
    pairs that are likely alike, such as those a `Screen` let through, where the tests
    would only repeat its work; strangers cost more here than through `match`."""
    return _judge(a, b, rules, aliases, block_shared=None)


def _judge(
    a: CompanyRef,
    b: CompanyRef,
    rules: MatchRules,
    aliases: Aliases,
    *,
    block_shared: bool | None,
) -> Evidence | None:
    """The evidence (`block_shared`: whether the names share a typo block, when the quick
    tests found out; None: work it out)."""
    ca, cb = normal_country(a.country), normal_country(b.country)
    countries_differ = ca is not None and cb is not None and ca != cb
    domains = ref_domains(a), ref_domains(b)
    findings = _domain_findings(*domains)
    shared_domain = bool(findings)
    names = _name_findings(
        analysed_name(a, rules),
        analysed_name(b, rules),
        rules=rules,
        aliases=aliases,
        countries_differ=countries_differ,
        block_shared=block_shared,
    )
    findings += names
    if not findings:
        return None
    support = _support_findings(a, b, domains, (ca, cb))
    differs = any(f.signal is Signal.domain_differs for f in support)
    if not shared_domain and countries_differ:
        if differs:
            return None
        if not rules.names_across_countries:
            # Across borders a name alone is a homonym (Target US / Target Australia);
            # a regional arm or a known alias still names the same group.
            findings = [f for f in findings if f.signal in _ACROSS_BORDERS]
            if not findings:
                return None
    return Evidence(findings=tuple(findings + support))


def _domain_findings(a: Domains, b: Domains) -> list[Finding]:
    """Shared organisation domains: website, e-mail, or one's website the other's e-mail."""
    (web_a, mail_a), (web_b, mail_b) = a, b
    found: list[Finding] = []
    if web_a is not None and web_a == web_b:
        found.append(Finding(Signal.same_domain, Strength.conflict, 1.0, web_a))
    mails = {d for d in (mail_a,) if d is not None and d in (mail_b, web_b)}
    mails |= {d for d in (mail_b,) if d is not None and d == web_a}
    if mails and not (found and mails == {web_a}):
        detail = min(mails)
        found.append(Finding(Signal.same_email_domain, Strength.conflict, 1.0, detail))
    return found


def _name_findings(
    a: CompanyName,
    b: CompanyName,
    *,
    rules: MatchRules,
    aliases: Aliases,
    countries_differ: bool,
    block_shared: bool | None = None,
) -> list[Finding]:
    """Name equality, alias, regional arm, initialism and fuzzy likeness, strongest first
    (`block_shared`: whether the names share a typo block, when the caller knows)."""
    if not a.variants or not b.variants:
        return []
    strong = Strength.possible if countries_differ else Strength.conflict
    equal = a.exact & b.exact
    if equal:
        return [Finding(Signal.name_equal, strong, 1.0, min(equal))]
    found: list[Finding] = []
    shared_groups = aliases.groups(a) & aliases.groups(b)
    if shared_groups:
        found.append(Finding(Signal.alias, strong, 1.0, min(shared_groups)))
    regional = (a.regional & b.exact) | (b.regional & a.exact)
    if regional:
        found.append(Finding(Signal.regional_arm, Strength.possible, 1.0, min(regional)))
    if countries_differ:
        return found
    hit = initialism_hit(a, b)
    if hit is not None:
        found.append(Finding(Signal.initialism, Strength.possible, 1.0, f"{hit[0]} = {hit[1]}"))
    score = _fuzzy(a, b, rules, block_shared=block_shared)
    if score is not None:
        detail = " ~ ".join(sorted((a.key, b.key)))
        found.append(Finding(Signal.fuzzy_name, Strength.possible, score, detail))
    return found


def _fuzzy(
    a: CompanyName, b: CompanyName, rules: MatchRules, *, block_shared: bool | None = None
) -> float | None:
    """The fuzzy name score when it clears the thresholds (and the blocking gate), else None."""
    if min(len(a.compact), len(b.compact)) < rules.fuzzy_min_length:
        return None
    if not (block_shared if block_shared is not None else shares_block(a, b)):
        return None
    aligned, compact = similarity(a, b, min_token=rules.fuzzy_min_token)
    if aligned >= rules.fuzzy_threshold:
        return round(max(aligned, compact), 3)
    if compact >= rules.fuzzy_compact_threshold:
        return round(compact, 3)
    return None


def _support_findings(
    a: CompanyRef,
    b: CompanyRef,
    domains: tuple[Domains, Domains],
    countries: tuple[str | None, str | None],
) -> list[Finding]:
    """Qualifiers: country agreement, sibling or differing websites, product overlap."""
    found: list[Finding] = []
    (web_a, mail_a), (web_b, mail_b) = domains
    doms_a = {d for d in (web_a, mail_a) if d is not None}
    doms_b = {d for d in (web_b, mail_b) if d is not None}
    siblings = sorted(
        " / ".join(sorted((x, y))) for x in doms_a for y in doms_b if is_country_sibling(x, y)
    )
    if siblings:
        found.append(Finding(Signal.sibling_domain, Strength.support, 1.0, siblings[0]))
    if web_a and web_b and web_a != web_b and not doms_a & doms_b and not siblings:
        detail = " / ".join(sorted((web_a, web_b)))
        found.append(Finding(Signal.domain_differs, Strength.support, 0.0, detail))
    ca, cb = countries
    if ca is not None and ca == cb:
        found.append(Finding(Signal.country_agrees, Strength.support, 1.0, ca))
    elif ca is not None and cb is not None:
        detail = " / ".join(sorted((ca, cb)))
        found.append(Finding(Signal.country_differs, Strength.support, 0.0, detail))
    common = a.products & b.products
    if common:
        found.append(
            Finding(Signal.product_overlap, Strength.support, 1.0, ", ".join(sorted(common)))
        )
    return found
