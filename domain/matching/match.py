"""Whether two customer records are the same company, and the evidence a human can check."""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from functools import lru_cache

from rapidfuzz import fuzz

from domain.matching.aliases import Aliases
from domain.matching.blocking import BLOCK_PREFIX
from domain.matching.domains import (
    email_domain,
    is_country_sibling,
    org_domain,
    registrable_domain,
)
from domain.matching.forms import level_pairs
from domain.matching.likeness import initialism_hit, shares_block, similarity
from domain.matching.names import CompanyName, analyse
from domain.matching.stored_forms import Level, read_outline


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
    `stored_forms.load_forms`), so that matching need not analyse it again; else None."""


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
    screened: bool = False,
) -> Evidence | None:
    """Evidence that ``a`` and ``b`` are the same customer, or None. Symmetric and pure.

    Strangers are ruled out first by quick tests (`_may_match`). `screened`: ``b`` already
    passed ``Screen(a).may_match`` (as every candidate of a conflict check has), which ran
    the same tests; most such pairs match, and running the tests again would only repeat
    the screen's work (a fifth of judging a candidate), so they are skipped. The
    evidence is the same either way.
    """
    aliases = Aliases.default() if aliases is None else aliases
    block_shared: bool | None = None
    if not screened:
        why = _may_match(a, b, rules, aliases)
        if why is _Why.unlike:
            return None
        block_shared = why is _Why.fuzzy or None
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


class _Why(Enum):
    """Why `_may_match` let a pair through: `fuzzy` only when a fuzzy likeness was the sole
    way left, which also means the pair shares a typo block."""

    unlike = 0
    fuzzy = 1
    other = 2


def _may_match(a: CompanyRef, b: CompanyRef, rules: MatchRules, aliases: Aliases) -> _Why:
    """`unlike` only when `match` would find nothing: no shared domain, name form, alias
    group, regional arm or initialism, and no fuzzy score that could clear a threshold.

    Most candidates a key lookup brings are strangers; this rules them out with set
    intersections and two cut-off rapidfuzz calls instead of the full evidence.
    """
    if _may_share_domain(a, b):
        return _Why.other
    x, y = analysed_name(a, rules), analysed_name(b, rules)
    if not x.variants or not y.variants:
        return _Why.unlike
    if _forms_meet(x, y.exact, y.regional, y.short_forms, y.initialisms):
        return _Why.other
    if not _groups(x, aliases).isdisjoint(_groups(y, aliases)):
        return _Why.other
    return _Why.fuzzy if _may_be_fuzzy(x, y, rules) else _Why.unlike


def _forms_meet(
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


def _may_be_fuzzy(a: CompanyName, b: CompanyName, rules: MatchRules) -> bool:
    """False only when `_fuzzy` would return None (its scores with rapidfuzz cut-offs)."""
    if min(len(a.compact), len(b.compact)) < rules.fuzzy_min_length:
        return False
    return _may_score(_levels(a), _levels(b), rules) and shares_block(a, b)


Levels = list[tuple[Level, Level]]
"""Each variant's core and base `Level` of a name (see `_levels`)."""


def _levels(name: CompanyName) -> Levels:
    return [
        ((" ".join(f.core), "".join(f.core)), (" ".join(f.base), "".join(f.base)))
        for f in name.variants
    ]


def _may_score(a: Levels, b: Levels, rules: MatchRules) -> bool:
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


class Screen:
    """Rules out stored records that cannot match one subject, from the text they stored.

    A key lookup at CRM scale brings up to a hundred candidates that share only typo blocks
    with the subject, most of them strangers, and building one (its stored analysis read
    back, a `CompanyRef`, a claim) and judging it cost ~16 µs. `may_match` reads the stored
    analysis as text (`stored_forms.read_outline`) and answers False only when `match` would find
    nothing: the tests of `_may_match` (a domain the record's text contains, a shared name
    form, regional arm, initialism or alias group, a fuzzy score that could clear a
    threshold) but the typo-block gate, which `match` applies. When the text cannot tell
    (no stored analysis, or one of another version or name) it answers True.
    """

    __slots__ = ("_aliases", "_domains", "_groups", "_levels", "_name", "_rules")

    def __init__(
        self, subject: CompanyRef, rules: MatchRules = DEFAULT_RULES, aliases: Aliases | None = None
    ) -> None:
        self._aliases = Aliases.default() if aliases is None else aliases
        self._rules = rules
        self._domains = _org_domains(subject)
        self._name = analysed_name(subject, rules)
        self._groups = _groups(self._name, self._aliases)
        self._levels = _levels(self._name)

    def may_match(
        self, name: str, forms: str | None, domain: str | None = None, email: str | None = None
    ) -> bool:
        """False only when `match(subject, record)` is None for the stored record with this
        name, stored analysis (`stored_forms.dump_forms`), website domain and e-mail."""
        if self._domains and (domain or email):
            typed = f"{domain or ''} {email or ''}".casefold()
            if any(mine in typed for mine in self._domains):
                return True
        x = self._name
        if not x.variants:
            return False
        outline = read_outline(name, forms) if forms else None
        if outline is None:
            return True
        if not outline.levels:
            return False
        exact, regional = outline.exact, outline.regional
        if _forms_meet(x, exact, regional, outline.short_forms, outline.initialisms):
            return True
        if self._groups and not self._groups.isdisjoint(self._aliases.groups_of(exact)):
            return True
        shortest = min(len(x.compact), len(outline.levels[0][0][1]))
        return shortest >= self._rules.fuzzy_min_length and _may_score(
            self._levels, outline.levels, self._rules
        )


Domains = tuple[str | None, str | None]
"""A record's (website, e-mail) organisation domains (`ref_domains`)."""


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
