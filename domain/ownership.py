"""Who owns the deal: the desk's decisions and resolutions, and the rules' recommendation.

The rules are DESIGN.md's "Who owns the deal", applied in order to the claims a
registration's conflict check found. They recommend; the desk decides. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from domain.conflicts import Claim, ClaimKind, FindingCounts
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


class Decision(StrEnum):
    """The desk's plain decision on a review card (a conflict takes a `Resolution`)."""

    approve = "approve"
    reject = "reject"
    request_info = "request_info"


class OwnershipRule(StrEnum):
    """The rule of "who owns the deal" behind a recommendation."""

    named_account = "named_account"
    existing_customer = "existing_customer"
    direct_opportunity = "direct_opportunity"
    direct_account = "direct_account"
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
    OwnershipRule.direct_account: "The direct team holds this account: co-sell, or it stays direct",
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
    active = [f for f in findings if _holds(f.claim, subject.id, now)]
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
        # The first registration wins; the subject is a duplicate of it where that one is
        # the partner's own, or where a direct account means the first can only co-sell on
        # its own case (awarding it here would make it a second owner beside the account).
        first = min(earlier, key=_created)
        own = first.partner_id == subject.partner_id
        resolution = Resolution.duplicate if own or accounts else Resolution.award_existing
        return Recommendation(resolution, OwnershipRule.first_registered, first)
    if accounts:
        return Recommendation(Resolution.co_sell, OwnershipRule.direct_account, accounts[0])
    return Recommendation(Resolution.award_partner, OwnershipRule.first_registered)


def resolutions_offered(
    findings: Sequence[StoredFinding], *, now: datetime | None = None
) -> tuple[Resolution, ...]:
    """The resolutions the desk may choose for a case. A direct claim (a CRM account or an
    open opportunity) among the conflicts stays an owner whatever the desk decides, so the
    partner can be protected only beside it, as a co-sell, never alone ("Award to this
    partner" would leave two owners); between partners co-selling means nothing."""
    direct = any(
        f.claim.kind is not ClaimKind.registration
        and f.strength is Strength.conflict
        and f.claim.is_active(now)
        for f in findings
    )
    left_out = Resolution.award_partner if direct else Resolution.co_sell
    return tuple(r for r in Resolution if r is not left_out)


def live_conflicts(
    subject_id: int | None, findings: Sequence[StoredFinding], *, now: datetime
) -> list[StoredFinding]:
    """The conflicts (not mere likenesses) whose claim still holds: while there is one, the
    registration is a case for the desk to settle, never a plain approval."""
    return [
        f for f in findings if f.strength is Strength.conflict and _holds(f.claim, subject_id, now)
    ]


def likenesses(
    subject_id: int | None, findings: Sequence[StoredFinding], *, now: datetime
) -> list[StoredFinding]:
    """The possible conflicts (weak likenesses) whose claim still holds: they never block an
    approval, but the approver is shown them first."""
    return [
        f for f in findings if f.strength is Strength.possible and _holds(f.claim, subject_id, now)
    ]


def live_counts(
    subject_id: int | None, findings: Sequence[StoredFinding], *, now: datetime
) -> FindingCounts:
    """Conflicts and possible conflicts that still hold, and how many claims found ended."""
    conflicts = len(live_conflicts(subject_id, findings, now=now))
    possible = len(likenesses(subject_id, findings, now=now))
    ended = sum(not _holds(f.claim, subject_id, now) for f in findings)
    return FindingCounts(conflicts=conflicts, possible=possible, ended=ended)


def second_owners(
    winner: Registration,
    findings: Sequence[StoredFinding],
    *,
    now: datetime,
    co_sell: bool = False,
    moved: Mapping[int, Registration] | None = None,
) -> list[Claim]:
    """The claims that would make a second owner of the customer if `winner` were approved
    now: a conflicting registration that is approved (as `moved` leaves it, where the same
    decision moves it too), and a direct claim that still holds unless the desk chose a
    co-sell with it. One owner per customer means this list is empty for every approval."""
    moved = moved or {}
    owners: list[Claim] = []
    for finding in findings:
        claim = finding.claim
        if finding.strength is not Strength.conflict:
            continue
        if claim.kind is ClaimKind.registration:
            if claim.id == winner.id:
                continue
            if (now_as := moved.get(claim.id)) is not None:
                claim = replace(claim, status=now_as.status, protected_until=now_as.protected_until)
            if claim.status is RegistrationStatus.approved and claim.is_active(now):
                owners.append(claim)
        elif not co_sell and claim.is_active(now):
            owners.append(claim)
    return owners


def _holds(claim: Claim, subject_id: int | None, now: datetime) -> bool:
    """Whether a claim found for `subject_id` still holds (the subject never claims itself)."""
    if claim.kind is ClaimKind.registration and claim.id == subject_id:
        return False
    return claim.is_active(now)


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


_UNKNOWN = datetime.max.replace(tzinfo=UTC)


def _created(claim: Claim) -> datetime:
    """When the claim was made (unknown dates sort last: they never win "who was first")."""
    return claim.created_at or _UNKNOWN
