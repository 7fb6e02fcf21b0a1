"""A customer record as matching sees it (`CompanyRef`), the rules it is matched under
(`MatchRules`), and what every comparison reads of a record: domains, country, name."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.matching.blocking import BLOCK_PREFIX
from domain.matching.domains import email_domain, org_domain, registrable_domain
from domain.matching.names import CompanyName, analyse


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


DEFAULT_RULES = MatchRules()
_COUNTRY_FIXES = {"UK": "GB", "EL": "GR"}

Domains = tuple[str | None, str | None]
"""A record's (website, e-mail) organisation domains (`ref_domains`)."""


def ref_domains(ref: CompanyRef) -> Domains:
    """(website, e-mail) organisation domains of a record; free-mail ones dropped."""
    return org_domain(registrable_domain(ref.domain)), org_domain(email_domain(ref.email))


def normal_country(country: str | None) -> str | None:
    """Upper-case ISO code (``uk`` → ``GB``), or None when blank."""
    if not country or not country.strip():
        return None
    code = country.strip().upper()
    return _COUNTRY_FIXES.get(code, code)


def analysed_name(ref: CompanyRef, rules: MatchRules = DEFAULT_RULES) -> CompanyName:
    """The record's name analysed with `rules`: its stored analysis when it has one."""
    stored = ref.analysed
    if stored is not None and stored.block_prefix == rules.block_prefix:
        return stored
    return analyse(ref.name, rules.block_prefix)
