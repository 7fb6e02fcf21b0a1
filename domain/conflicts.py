"""Who already has dibs on a customer: registrations, CRM accounts and open opportunities.

Pure. Storage narrows the candidates with indexed keys (`ConflictRules.keys`) and screens
them (`ConflictRules.screen_for`); this module judges each one as `domain.matching.match`
does and keeps the evidence a human can check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.crm import Account, Opportunity
from domain.matching import (
    Aliases,
    CandidateKeys,
    CompanyRef,
    Finding,
    MatchRules,
    Screen,
    Signal,
    Strength,
    candidate_keys,
    judge,
    lookup_keys,
    match,
)
from domain.registration import DealDetails, RegistrationStatus, claim_holds

ACTIVE_STATUSES = frozenset(status for status in RegistrationStatus if status.holds_claim)
"""The statuses of registrations that may still claim their customer (storage asks for
these; approved ones hold only until their protection ends: `claim_holds`)."""

DEFAULT_KEY_CAP = 200
"""A name key shared by more records than this says nothing (see `ConflictRules`)."""

DEFAULT_CANDIDATE_CAP = 100
"""At most this many typo/initialism-only candidates of each kind per check (`ConflictRules`)."""


class ClaimKind(StrEnum):
    """What kind of record holds a claim on a customer."""

    registration = "registration"
    account = "account"
    opportunity = "opportunity"


@dataclass(frozen=True, slots=True)
class ConflictRules:
    """Tunables of conflict detection (built in bootstrap).

    `key_cap`: a name-derived candidate key (``n:``, ``a:``, ``i:``, ``s:``, ``t:``) posted
    by more than this many records of one kind is skipped as too common to narrow anything
    (a typo block of a common word at CRM scale); a domain key is never skipped, only
    truncated to the first `key_cap` records of each kind. So one lookup reads a bounded
    number of rows. `candidate_cap`: every record sharing a domain, name or alias key is
    scored; of those sharing only initialism and typo-block keys, at most this many of each
    kind, the ones sharing the rarest keys first.
    """

    match: MatchRules = field(default_factory=MatchRules)
    aliases: Aliases = field(default_factory=Aliases.default)
    key_cap: int = DEFAULT_KEY_CAP
    candidate_cap: int = DEFAULT_CANDIDATE_CAP

    def keys(self, ref: CompanyRef) -> CandidateKeys:
        """The candidate keys a record is stored under with these rules."""
        return candidate_keys(ref, rules=self.match, aliases=self.aliases)

    def lookup_keys(self, ref: CompanyRef) -> CandidateKeys:
        """The keys that find every stored record `ref` may match (see `lookup_keys`)."""
        return lookup_keys(ref, rules=self.match, aliases=self.aliases)

    def screen_for(self, ref: CompanyRef) -> Screen:
        """What rules out, from their stored text, records that cannot match `ref`."""
        return Screen(ref, self.match, self.aliases)


@dataclass(frozen=True, slots=True)
class Claim:
    """One record that may already own the customer, with the facts the desk weighs.

    Registrations fill reference/partner_id/status/created_at/protected_until; accounts fill
    external_id/is_customer/is_named/owner; opportunities external_id/stage/owner/
    created_at/last_activity_at (and account_external_id).
    """

    kind: ClaimKind
    id: int
    company: CompanyRef
    partner_id: int | None = None
    status: RegistrationStatus | None = None
    created_at: datetime | None = None
    protected_until: datetime | None = None
    external_id: str | None = None
    account_external_id: str | None = None
    is_customer: bool = False
    is_named: bool = False
    owner_slack_id: str | None = None
    owner_email: str | None = None
    stage: str | None = None
    last_activity_at: datetime | None = None
    reference: str | None = None

    @property
    def label(self) -> str:
        """How the desk names it: ``NW-0007``, ``account 0015…``, ``opportunity 0063…``."""
        if self.kind is ClaimKind.registration and self.reference:
            return self.reference
        return f"{self.kind.value} {self.external_id or self.id}"

    @property
    def owner(self) -> str | None:
        """The direct owner (Slack id, else e-mail) of an account or opportunity."""
        return self.owner_slack_id or self.owner_email

    def is_active(self, now: datetime | None = None) -> bool:
        """Still a claim: an open or protected registration, or an opportunity not closed."""
        if self.kind is ClaimKind.registration:
            return self.status is not None and claim_holds(self.status, self.protected_until, now)
        if self.kind is ClaimKind.opportunity:
            return not (self.stage or "").strip().lower().startswith("closed")
        return True


@dataclass(frozen=True, slots=True)
class ConflictFinding:
    """One claim that looks like the same customer, how strongly, and the evidence."""

    claim: Claim
    strength: Strength
    score: float
    evidence: tuple[Finding, ...]

    @property
    def claim_kind(self) -> ClaimKind:
        return self.claim.kind

    @property
    def claim_id(self) -> int:
        return self.claim.id

    @property
    def signals(self) -> tuple[Signal, ...]:
        """The signals that made the finding (qualifiers left out), strongest first."""
        return tuple(f.signal for f in self.evidence if f.strength is not Strength.support)


@dataclass(frozen=True, slots=True)
class FindingCounts:
    """How many conflicts and possible conflicts a registration's check found (or, counted
    as they are now, still hold; `ended`: claims found that no longer hold)."""

    conflicts: int = 0
    possible: int = 0
    ended: int = 0

    @property
    def total(self) -> int:
        return self.conflicts + self.possible


def company_ref(details: DealDetails) -> CompanyRef:
    """The customer a registration names: website → domain, contact e-mail → email."""
    return CompanyRef(
        name=details.company,
        domain=details.website or None,
        email=details.contact_email or None,
        country=details.country or None,
        products=frozenset(details.products),
    )


def account_ref(account: Account) -> CompanyRef:
    """The customer a CRM account is (the owner's e-mail is ours, not the customer's)."""
    return CompanyRef(name=account.name, domain=account.domain, country=account.country)


def opportunity_ref(opportunity: Opportunity) -> CompanyRef:
    """The customer a direct opportunity is for."""
    return CompanyRef(name=opportunity.name, domain=opportunity.domain)


def find_conflicts(
    subject: CompanyRef,
    claims: Iterable[Claim],
    rules: ConflictRules,
    *,
    now: datetime | None = None,
    exclude_registration_id: int | None = None,
) -> list[ConflictFinding]:
    """Every active claim that matches `subject` (`domain.matching.match`), strongest first.

    The same partner's own earlier registrations count too (a duplicate is a finding).
    With `now`, approved registrations whose protection ended are no longer claims.
    Each claim is judged in full (`domain.matching.judge`), as suits the claims a lookup
    screened with ``rules.screen_for(subject)``: other claims get the same findings, and
    the strangers among them cost more.
    """
    found: list[ConflictFinding] = []
    seen: set[tuple[ClaimKind, int]] = set()
    for claim in claims:
        if (claim.kind, claim.id) in seen or not claim.is_active(now):
            continue
        seen.add((claim.kind, claim.id))
        if claim.kind is ClaimKind.registration and claim.id == exclude_registration_id:
            continue
        evidence = judge(subject, claim.company, rules.match, rules.aliases)
        if evidence is None:
            continue
        ordered = tuple(sorted(evidence.findings, key=_finding_order))
        found.append(ConflictFinding(claim, evidence.strength, evidence.score, ordered))
    return sorted(found, key=_strongest_first)


def warm_up(rules: ConflictRules) -> None:
    """Load now what the first check would load while someone waits for it: the public
    suffix list, the word lists and the alias table. For a process's start."""
    subject = CompanyRef("Dibs Warm-Up GmbH", domain="https://www.dibs.example/", email="a@b.de")
    rules.lookup_keys(subject)
    match(subject, CompanyRef("Dibs Warmup", domain="dibs.de"), rules=rules.match)


def count_findings(findings: Iterable[ConflictFinding]) -> FindingCounts:
    """Conflicts and possible conflicts among `findings`."""
    strengths = [f.strength for f in findings]
    return FindingCounts(
        conflicts=strengths.count(Strength.conflict), possible=strengths.count(Strength.possible)
    )


_SIGNAL_RANK = {signal: rank for rank, signal in enumerate(Signal)}
_STRENGTH_RANK = {Strength.conflict: 0, Strength.possible: 1, Strength.support: 2}


def _finding_order(finding: Finding) -> tuple[int, int]:
    return _STRENGTH_RANK[finding.strength], _SIGNAL_RANK[finding.signal]


def _kind_rank(claim: Claim) -> int:
    """The order of "who owns the deal": named, customer, opportunity, registration, account."""
    if claim.kind is ClaimKind.account:
        return 0 if claim.is_named else 1 if claim.is_customer else 4
    return 2 if claim.kind is ClaimKind.opportunity else 3


def _strongest_first(finding: ConflictFinding) -> tuple[int, int, float, int, int]:
    best = finding.evidence[0]
    return (
        _STRENGTH_RANK[finding.strength],
        _SIGNAL_RANK[best.signal],
        -finding.score,
        _kind_rank(finding.claim),
        finding.claim.id,
    )
