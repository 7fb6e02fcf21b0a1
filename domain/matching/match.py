"""Whether two customer records are the same company, and the evidence a human can check."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz

from domain.matching.aliases import Aliases
from domain.matching.domains import (
    email_domain,
    is_country_sibling,
    org_domain,
    registrable_domain,
)
from domain.matching.names import (
    BLOCK_PREFIX,
    CompanyName,
    analyse,
    initialism_hit,
    shares_block,
    similarity,
)


class Strength(StrEnum):
    """How much a finding says: ``conflict`` is strong, ``possible`` asks for review."""

    conflict = "conflict"
    possible = "possible"
    support = "support"


class Signal(StrEnum):
    """What a finding is about, strongest kinds first."""

    same_domain = "same_domain"
    same_email_domain = "same_email_domain"
    name_equal = "name_equal"
    alias = "alias"
    regional_arm = "regional_arm"
    initialism = "initialism"
    fuzzy_name = "fuzzy_name"
    sibling_domain = "sibling_domain"
    country_agrees = "country_agrees"
    country_differs = "country_differs"
    domain_differs = "domain_differs"
    product_overlap = "product_overlap"


@dataclass(frozen=True, slots=True)
class CompanyRef:
    """A customer as a registration, CRM account or opportunity names it."""

    name: str
    domain: str | None = None
    email: str | None = None
    country: str | None = None
    products: frozenset[str] = field(default_factory=frozenset)
    analysed: CompanyName | None = field(default=None, compare=False, repr=False)
    """`name` already analysed (read back from the forms its record stored, see
    `names.load_forms`), so that matching need not analyse it again; else None."""


_ACROSS_BORDERS = frozenset({Signal.regional_arm, Signal.alias})
"""Name signals that still count between records of different countries."""


@dataclass(frozen=True, slots=True)
class MatchRules:
    """Tunable thresholds (built from settings in bootstrap).

    ``names_across_countries=False`` (the default) keeps, between records whose countries
    differ and that share no domain, only regional-arm and alias evidence: an equal or
    similar name alone is a homonym there (the issue's "same name in different countries").
    ``True`` keeps every name signal for review (more homonym alarms).
    """

    fuzzy_threshold: float = 0.85
    fuzzy_compact_threshold: float = 0.92
    fuzzy_min_token: float = 0.75
    fuzzy_min_length: int = 5
    block_prefix: int = BLOCK_PREFIX
    names_across_countries: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """One signal, how strong it is, its score in 0..1 and what matched."""

    signal: Signal
    strength: Strength
    score: float = 1.0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why two records look like the same customer; never empty of a conflict/possible."""

    findings: tuple[Finding, ...]

    @property
    def strength(self) -> Strength:
        """``conflict`` when any finding is strong, else ``possible``."""
        strong = any(f.strength is Strength.conflict for f in self.findings)
        return Strength.conflict if strong else Strength.possible

    @property
    def score(self) -> float:
        """The best score among the conflict/possible findings."""
        return max(f.score for f in self.findings if f.strength is not Strength.support)

    @property
    def signals(self) -> frozenset[Signal]:
        """The signals present."""
        return frozenset(f.signal for f in self.findings)

    def has(self, signal: Signal) -> bool:
        """True when the evidence includes ``signal``."""
        return signal in self.signals


DEFAULT_RULES = MatchRules()
_COUNTRY_FIXES = {"UK": "GB", "EL": "GR"}


def normal_country(country: str | None) -> str | None:
    """Upper-case ISO code (``uk`` → ``GB``), or None when blank."""
    if not country or not country.strip():
        return None
    code = country.strip().upper()
    return _COUNTRY_FIXES.get(code, code)


def ref_domains(ref: CompanyRef) -> tuple[str | None, str | None]:
    """(website, e-mail) organisation domains of a record; free-mail ones dropped."""
    return org_domain(registrable_domain(ref.domain)), org_domain(email_domain(ref.email))


def match(
    a: CompanyRef,
    b: CompanyRef,
    *,
    rules: MatchRules = DEFAULT_RULES,
    aliases: Aliases | None = None,
) -> Evidence | None:
    """Evidence that ``a`` and ``b`` are the same customer, or None. Symmetric and pure."""
    aliases = Aliases.default() if aliases is None else aliases
    if not _may_match(a, b, rules, aliases):
        return None
    ca, cb = normal_country(a.country), normal_country(b.country)
    countries_differ = ca is not None and cb is not None and ca != cb
    findings = _domain_findings(a, b)
    shared_domain = bool(findings)
    names = _name_findings(
        analysed_name(a, rules),
        analysed_name(b, rules),
        rules=rules,
        aliases=aliases,
        countries_differ=countries_differ,
    )
    findings += names
    if not findings:
        return None
    support = _support_findings(a, b, ca, cb)
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


def analysed_name(ref: CompanyRef, rules: MatchRules = DEFAULT_RULES) -> CompanyName:
    """The record's name analysed with `rules`: its stored analysis when it has one."""
    stored = ref.analysed
    if stored is not None and stored.block_prefix == rules.block_prefix:
        return stored
    return analyse(ref.name, rules.block_prefix)


@lru_cache(maxsize=65536)
def _groups(name: CompanyName, aliases: Aliases) -> frozenset[str]:
    return aliases.groups(name)


@lru_cache(maxsize=65536)
def _org_domains(ref: CompanyRef) -> frozenset[str]:
    return frozenset(d for d in ref_domains(ref) if d is not None)


def _may_share_domain(a: CompanyRef, b: CompanyRef) -> bool:
    """False only when the records share no organisation domain. A registrable domain is a
    piece of the website or address it came from, so most strangers are ruled out without
    parsing the other record's domains."""
    mine = _org_domains(a)
    if not mine or not (b.domain or b.email):
        return False
    typed = f"{b.domain or ''} {b.email or ''}".casefold()
    if not any(domain in typed for domain in mine):
        return False
    return not mine.isdisjoint(_org_domains(b))


def _may_match(a: CompanyRef, b: CompanyRef, rules: MatchRules, aliases: Aliases) -> bool:
    """False only when `match` would find nothing: no shared domain, name form, alias group,
    regional arm or initialism, and no fuzzy score that could clear a threshold.

    Most candidates a key lookup brings are strangers; this rules them out with set
    intersections and two cut-off rapidfuzz calls instead of the full evidence.
    """
    if _may_share_domain(a, b):
        return True
    x, y = analysed_name(a, rules), analysed_name(b, rules)
    if not x.variants or not y.variants:
        return False
    if not x.exact.isdisjoint(y.exact):
        return True
    if not (x.regional.isdisjoint(y.exact) and y.regional.isdisjoint(x.exact)):
        return True
    if not (x.short_forms.isdisjoint(y.initialisms) and y.short_forms.isdisjoint(x.initialisms)):
        return True
    if not _groups(x, aliases).isdisjoint(_groups(y, aliases)):
        return True
    return _may_be_fuzzy(x, y, rules)


def _may_be_fuzzy(a: CompanyName, b: CompanyName, rules: MatchRules) -> bool:
    """False only when `_fuzzy` would return None (its scores with rapidfuzz cut-offs)."""
    if min(len(a.compact), len(b.compact)) < rules.fuzzy_min_length:
        return False
    return _may_score(a, b, rules) and shares_block(a, b)


def _may_score(a: CompanyName, b: CompanyName, rules: MatchRules) -> bool:
    """False only when no fuzzy score of `similarity` can clear its threshold (checked
    before the blocks, which a candidate ruled out here never has to work out)."""
    aligned_cut = rules.fuzzy_threshold * 100 - 1e-6
    compact_cut = rules.fuzzy_compact_threshold * 100 - 1e-6
    if min(aligned_cut, compact_cut) <= 0:
        return True
    for fa in a.variants:
        for fb in b.variants:
            for ta, tb in ((fa.core, fb.core), (fa.base, fb.base)):
                if fuzz.ratio("".join(ta), "".join(tb), score_cutoff=compact_cut):
                    return True
                if len(ta) == len(tb) and fuzz.token_sort_ratio(
                    " ".join(ta), " ".join(tb), score_cutoff=aligned_cut
                ):
                    return True
    return False


def _domain_findings(a: CompanyRef, b: CompanyRef) -> list[Finding]:
    """Shared organisation domains: website, e-mail, or one's website the other's e-mail."""
    (web_a, mail_a), (web_b, mail_b) = ref_domains(a), ref_domains(b)
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
) -> list[Finding]:
    """Name equality, alias, regional arm, initialism and fuzzy likeness, strongest first."""
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
    score = _fuzzy(a, b, rules)
    if score is not None:
        detail = " ~ ".join(sorted((a.key, b.key)))
        found.append(Finding(Signal.fuzzy_name, Strength.possible, score, detail))
    return found


def _fuzzy(a: CompanyName, b: CompanyName, rules: MatchRules) -> float | None:
    """The fuzzy name score when it clears the thresholds (and the blocking gate), else None."""
    if min(len(a.compact), len(b.compact)) < rules.fuzzy_min_length:
        return None
    if not shares_block(a, b):
        return None
    aligned, compact = similarity(a, b, min_token=rules.fuzzy_min_token)
    if aligned >= rules.fuzzy_threshold:
        return round(max(aligned, compact), 3)
    if compact >= rules.fuzzy_compact_threshold:
        return round(compact, 3)
    return None


def _support_findings(
    a: CompanyRef, b: CompanyRef, ca: str | None, cb: str | None
) -> list[Finding]:
    """Qualifiers: country agreement, sibling or differing websites, product overlap."""
    found: list[Finding] = []
    doms_a = {d for d in ref_domains(a) if d is not None}
    doms_b = {d for d in ref_domains(b) if d is not None}
    siblings = sorted(
        " / ".join(sorted((x, y))) for x in doms_a for y in doms_b if is_country_sibling(x, y)
    )
    if siblings:
        found.append(Finding(Signal.sibling_domain, Strength.support, 1.0, siblings[0]))
    web_a, web_b = ref_domains(a)[0], ref_domains(b)[0]
    if web_a and web_b and web_a != web_b and not doms_a & doms_b and not siblings:
        detail = " / ".join(sorted((web_a, web_b)))
        found.append(Finding(Signal.domain_differs, Strength.support, 0.0, detail))
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
