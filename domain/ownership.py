"""Who owns the deal: the desk's resolutions and the rule-based recommendation.

The rules are DESIGN.md's "Who owns the deal", applied in order to the claims a
registration's conflict check found. They recommend; the desk decides. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from domain.conflicts import Claim, ClaimKind
from domain.matching import Finding, Strength
from domain.registration import Registration, RegistrationStatus, RejectionReason


class Resolution(StrEnum):
    """How the desk settles a conflict (one button each)."""

    award_partner = "award_partner"
    award_existing = "award_existing"
    co_sell = "co_sell"
    duplicate = "duplicate"
    reject_both = "reject_both"
    request_info = "request_info"

    @property
    def label(self) -> str:
        return _RESOLUTION_LABELS[self]


_RESOLUTION_LABELS = {
    Resolution.award_partner: "Award to this partner",
    Resolution.award_existing: "Award to the existing owner",
    Resolution.co_sell: "Co-sell",
    Resolution.duplicate: "Mark duplicate",
    Resolution.reject_both: "Reject both",
    Resolution.request_info: "Request info",
}


class OwnershipRule(StrEnum):
    """The rule of "who owns the deal" behind a recommendation."""

    named_account = "named_account"
    existing_customer = "existing_customer"
    direct_opportunity = "direct_opportunity"
    first_approved = "first_approved"
    first_registered = "first_registered"
    weak_evidence = "weak_evidence"

    @property
    def label(self) -> str:
        return _RULE_LABELS[self]


_RULE_LABELS = {
    OwnershipRule.named_account: "Named and house accounts stay direct",
    OwnershipRule.existing_customer: "Existing customers go to the incumbent",
    OwnershipRule.direct_opportunity: "An active direct opportunity wins, or becomes co-sell",
    OwnershipRule.first_approved: "The first approved registration wins; later ones are duplicates",
    OwnershipRule.first_registered: "No approved claim yet: the first registration wins",
    OwnershipRule.weak_evidence: "Only a weak likeness: nothing blocks this partner on its own",
}


@dataclass(frozen=True, slots=True)
class ClaimDetails:
    """A claim with what the desk weighs beyond the match: amounts and the claimant."""

    claim: Claim
    amount: Decimal | None = None
    currency: str | None = None
    partner_name: str | None = None
    partner_tier: str | None = None
    partner_manager: str | None = None
    company_name: str | None = None


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding as stored with a registration, its claim loaded as it is now."""

    details: ClaimDetails
    strength: Strength
    evidence: tuple[Finding, ...]
    found_at: datetime

    @property
    def claim(self) -> Claim:
        return self.details.claim


@dataclass(frozen=True, slots=True)
class Recommendation:
    """What the rules suggest, which rule applied, and the claim it favours (if any)."""

    resolution: Resolution
    rule: OwnershipRule
    claim: Claim | None = None

    @property
    def reason(self) -> str:
        return self.rule.label


def recommend(
    subject: Registration, findings: Sequence[StoredFinding], *, now: datetime
) -> Recommendation | None:
    """Apply the ownership rules in order to the still-active claims; None without any.

    Strong findings (conflicts) decide; when only possible conflicts remain, a weak
    likeness never blocks the partner on its own.
    """
    active = [f for f in findings if f.claim.is_active(now) and not _is_subject(f, subject)]
    if not active:
        return None
    strong = [f.claim for f in active if f.strength is Strength.conflict]
    if not strong:
        return Recommendation(Resolution.award_partner, OwnershipRule.weak_evidence)
    accounts = [c for c in strong if c.kind is ClaimKind.account]
    if named := [c for c in accounts if c.is_named]:
        return Recommendation(Resolution.award_existing, OwnershipRule.named_account, named[0])
    if customers := [c for c in accounts if c.is_customer]:
        return Recommendation(
            Resolution.award_existing, OwnershipRule.existing_customer, customers[0]
        )
    if opportunities := [c for c in strong if c.kind is ClaimKind.opportunity]:
        first = min(opportunities, key=_created)
        partner_first = first.created_at is not None and subject.created_at < first.created_at
        resolution = Resolution.co_sell if partner_first else Resolution.award_existing
        return Recommendation(resolution, OwnershipRule.direct_opportunity, first)
    registrations = [c for c in strong if c.kind is ClaimKind.registration]
    if approved := [c for c in registrations if c.status is RegistrationStatus.approved]:
        first = min(approved, key=_created)
        return Recommendation(Resolution.duplicate, OwnershipRule.first_approved, first)
    earlier = [c for c in registrations if _created(c) < subject.created_at]
    if earlier:
        first = min(earlier, key=_created)
        resolution = (
            Resolution.duplicate
            if first.partner_id == subject.partner_id
            else Resolution.award_existing
        )
        return Recommendation(resolution, OwnershipRule.first_registered, first)
    return Recommendation(Resolution.award_partner, OwnershipRule.first_registered)


def resolutions_offered(findings: Sequence[StoredFinding]) -> tuple[Resolution, ...]:
    """The resolutions the desk may choose for a case: every one, but co-sell only where a
    direct claim (a CRM account or an open opportunity) is among the conflicts, as co-selling
    is working the customer with the vendor's direct team; between partners it means nothing."""
    direct = any(
        f.claim.kind is not ClaimKind.registration
        and f.strength is Strength.conflict
        and f.claim.is_active()
        for f in findings
    )
    return tuple(r for r in Resolution if direct or r is not Resolution.co_sell)


def rejection_reason_for(claim: Claim | None) -> RejectionReason:
    """The closed-list reason a registration loses for, given the claim that won."""
    if claim is None or claim.kind is ClaimKind.registration:
        return RejectionReason.duplicate
    if claim.kind is ClaimKind.opportunity:
        return RejectionReason.in_direct_pipeline
    if claim.is_named:
        return RejectionReason.named_account
    if claim.is_customer:
        return RejectionReason.existing_customer
    return RejectionReason.in_direct_pipeline


def _is_subject(finding: StoredFinding, subject: Registration) -> bool:
    claim = finding.claim
    return claim.kind is ClaimKind.registration and claim.id == subject.id


_UNKNOWN = datetime.max.replace(tzinfo=UTC)


def _created(claim: Claim) -> datetime:
    """When the claim was made (unknown dates sort last: they never win "who was first")."""
    return claim.created_at or _UNKNOWN


@dataclass(frozen=True, slots=True)
class Dispute:
    """A direct rep says they are working the customer ("I'm working this"), with evidence."""

    registration_id: int
    by_user_id: str
    by_team_id: str
    at: datetime
    note: str
    link: str | None = None
