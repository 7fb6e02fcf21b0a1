"""A resolution applied to a case: how it moves the registration and its rivals, and whom it
tells what. Pure: `domain.services.conflicts` loads the case, applies the plan, checks that
the customer keeps one owner, and saves what the plan moved in one transaction.

Each party hears its own story: the winner, the other partners (their own registration's
fate and what they still hold, nothing of the others), the desk (the reason and the rule),
the direct team (a direct message to the owners of the direct claims in the case and to
whoever left a working note). Direct claims live in the CRM: a resolution never changes
them, it only tells their owners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.actor import Actor
from domain.cases import WorkingNote
from domain.conflicts import Claim, ClaimKind
from domain.matching import Strength
from domain.messages import (
    DirectNotice,
    EvidenceHead,
    Notice,
    OutboxMessage,
    ResolutionDetail,
    Still,
    cards_for,
    evidence_refresh,
    working_notices,
)
from domain.ownership import (
    Recommendation,
    Resolution,
    StoredFinding,
    rejection_reason_for,
)
from domain.policy import ProgramPolicy
from domain.registration import Registration, RegistrationStatus, RejectionReason

REASON_LIMIT = 2000
"""Characters of a resolution's reason at most (kept as a precedent in the audit trail)."""


@dataclass(slots=True)
class ResolutionPlan:
    """How one resolution moves the subject and its rivals, and whom it tells what."""

    by: Actor
    resolution: Resolution
    reason: str
    subject: Registration
    rivals: list[Registration]
    findings: list[StoredFinding]
    advice: Recommendation | None
    now: datetime
    program: ProgramPolicy
    working: list[WorkingNote] = field(default_factory=list)
    changed: list[Registration] = field(default_factory=list)
    notices: dict[int, Notice] = field(default_factory=dict)
    still: dict[int, Still] = field(default_factory=dict)
    lost: list[tuple[Registration, bool]] = field(default_factory=list)
    """Each registration the plan rejected or cancelled, with whether it had been approved."""
    approved: list[Registration] = field(default_factory=list)
    """Each registration the plan approved (the customer's one owner among them)."""

    @property
    def action(self) -> str:
        return f"adjudicate:{self.resolution.value}"

    @property
    def precedent(self) -> str:
        rule = f" [{self.advice.rule.value}]" if self.advice else ""
        return f"{self.resolution.label}{rule}: {self.reason}"

    def apply(self) -> None:
        resolution = self.resolution
        if resolution is Resolution.award_partner:
            self._win(self.subject, Notice.conflict_won)
            for rival in self.rivals:
                self._lose(rival, RejectionReason.duplicate)
        elif resolution is Resolution.award_existing:
            owner = existing_owner(self.advice, self.findings, now=self.now)
            self._lose(self.subject, rejection_reason_for(owner))
            for rival in self.rivals:
                if owner is not None and rival.id == owner.id:
                    if rival.status is RegistrationStatus.under_review:
                        self._win(rival, Notice.conflict_won)
                else:
                    self._lose(rival, RejectionReason.duplicate)
        elif resolution is Resolution.co_sell:
            self._win(self.subject, Notice.co_sell, note="Co-sell with the vendor's direct team.")
            for rival in self.rivals:
                self._lose(rival, RejectionReason.duplicate)
        elif resolution is Resolution.duplicate:
            self._lose(self.subject, RejectionReason.duplicate)
        elif resolution is Resolution.reject_both:
            reason = self._rejection_of_all()
            self._lose(self.subject, reason)
            for rival in self.rivals:
                self._lose(rival, reason)
        else:
            # The transition records the question; the precedent row records the resolution.
            self.subject.note_event(
                by=self.by, now=self.now, action=self.action, reason=self.precedent
            )
            self.subject.request_info(by=self.by, now=self.now, question=self.reason)
            self.notices[self._id(self.subject)] = Notice.info_requested
        # Only now: what a loser still holds depends on every move of the plan.
        for registration, was_approved in self.lost:
            self.still[self._id(registration)] = self._still(registration, was_approved)

    def _rejection_of_all(self) -> RejectionReason:
        """The closed-list reason "Reject both" gives every registration it rejects: the
        direct claim the rules found (named account, existing customer, direct pipeline),
        else a duplicate of the other registrations of the customer, else "Other" (nothing
        but weak likenesses: the desk's own judgement, which the partner never reads)."""
        claim = self.advice.claim if self.advice is not None else None
        if claim is not None and claim.kind is not ClaimKind.registration:
            return rejection_reason_for(claim)
        if claim is not None or self.rivals:
            return RejectionReason.duplicate
        return RejectionReason.other

    def _win(self, registration: Registration, notice: Notice, *, note: str | None = None) -> None:
        registration.approve(
            by=self.by,
            now=self.now,
            protection=self.program.protection,
            action=self.action,
            reason=self.precedent,
            note=note,
        )
        self.approved.append(registration)
        self._changed(registration, notice)

    def _lose(self, registration: Registration, reason: RejectionReason) -> None:
        was_approved = registration.status is RegistrationStatus.approved
        registration.lose_conflict(
            by=self.by,
            now=self.now,
            reason=reason,
            action=self.action,
            detail=self.precedent,
        )
        self.lost.append((registration, was_approved))
        self._changed(registration, Notice.conflict_lost)

    def _still(self, registration: Registration, was_approved: bool) -> Still:
        """What the losing partner still holds on the customer once the whole plan is applied
        (a registration of its own that this plan rejected as well holds nothing)."""
        if was_approved:
            return Still.protection_ended
        rid = self._id(registration)
        moved = {self._id(r): r for r in (self.subject, *self.changed)}
        # The partner's other registrations here: (made earlier, left as they were, hold).
        own = [
            (r.created_at < registration.created_at, False, r.holds(self.now))
            for i, r in moved.items()
            if i != rid and r.partner_id == registration.partner_id
        ]
        own += [
            (
                (f.claim.created_at or self.now) < registration.created_at,
                True,
                f.claim.is_active(self.now),
            )
            for f in self.findings
            if f.claim.kind is ClaimKind.registration
            and f.claim.partner_id == registration.partner_id
            and f.claim.id not in moved
            and f.claim.id != rid
        ]
        if any(earlier and untouched and holds for earlier, untouched, holds in own):
            return Still.own_earlier
        if any(holds for _, _, holds in own):
            return Still.own_other
        return Still.nothing

    def _changed(self, registration: Registration, notice: Notice) -> None:
        self.notices[self._id(registration)] = notice
        if registration is not self.subject:
            self.changed.append(registration)

    @staticmethod
    def _id(registration: Registration) -> int:
        assert registration.id is not None
        return registration.id

    def messages(self) -> list[OutboxMessage]:
        """Cards and evidence refreshed and a notice per party; the direct team gets direct
        messages (`_direct_notices`)."""
        subject_id = self._id(self.subject)
        told = ResolutionDetail(
            resolution=self.resolution,
            subject_id=subject_id,
            subject_reference=self.subject.reference,
            reason=self.reason,
            rule=self.advice.rule if self.advice else None,
        )
        out: list[OutboxMessage] = []
        for rid, notice in self.notices.items():
            out += cards_for(rid, notice=notice, still=self.still.get(rid), resolution=told)
        out.append(EvidenceHead(subject_id))
        # A rival's own evidence (under its own review card) shows the outcome, not buttons.
        out += [evidence_refresh(self._id(r)) for r in self.changed]
        out += self._direct_notices()
        return out

    def _direct_notices(self) -> list[OutboxMessage]:
        """One direct message per person on the direct team the resolution concerns: the
        owners of the direct claims in the case (conflicts that still hold, and the claim
        awarded), and whoever said "I'm working this" on a registration it moved. Owners of
        weak likenesses or of ended claims were mentioned in the thread; they get no DM.
        Someone who is both hears once, as the person working it; an owner known by e-mail
        only is matched to a Slack user on delivery, so it carries who is told already."""
        moved = {self._id(r) for r in (self.subject, *self.changed)}
        working = list(
            dict.fromkeys(d.by_user_id for d in self.working if d.registration_id in moved)
        )
        claims = [
            f.claim
            for f in self.findings
            if f.strength is Strength.conflict and f.claim.is_active(self.now)
        ]
        if self.resolution is Resolution.award_existing:
            awarded = existing_owner(self.advice, self.findings, now=self.now)
            claims += [awarded] if awarded is not None else []
        owners = {
            (c.owner_slack_id or "", c.owner_email or "")
            for c in claims
            if c.kind is not ClaimKind.registration and c.owner and c.owner_slack_id not in working
        }
        told = (*working, *sorted({s for s, _ in owners if s}))
        subject_id = self._id(self.subject)
        out: list[OutboxMessage] = [
            DirectNotice(
                subject_id,
                slack_id or None,
                email or None,
                resolution=self.resolution,
                reason=self.reason,
                # skipped on delivery if the address is someone told already
                told=() if slack_id else told,
            )
            for slack_id, email in sorted(owners)
        ]
        out += working_notices(subject_id, working, resolution=self.resolution, reason=self.reason)
        return out


def existing_owner(
    advice: Recommendation | None, findings: list[StoredFinding], *, now: datetime
) -> Claim | None:
    """The claim "the existing owner" means: the rules' pick, else the strongest claim that
    still holds (never one that has ended: awarding it would leave nobody the owner). Beside
    a direct claim that holds, a registration still waiting for the desk cannot be the owner
    (approving it would make two): the direct claim is."""
    holding = [f.claim for f in findings if f.claim.is_active(now)]
    strong = [f.claim for f in findings if f.strength is Strength.conflict and f.claim in holding]
    direct = [c for c in strong if c.kind is not ClaimKind.registration]
    pick = advice.claim if advice is not None else None
    if pick is not None and not (
        direct
        and pick.kind is ClaimKind.registration
        and pick.status is not RegistrationStatus.approved
    ):
        return pick
    candidates = direct or strong or holding
    return candidates[0] if candidates else None


NOT_OFFERED = {
    Resolution.co_sell: "Co-sell is with the direct team, and no direct claim on this customer"
    " holds: choose another resolution.",
    Resolution.award_partner: "A direct claim on this customer holds, and it stays an owner:"
    " the partner can have the customer only beside it. Choose Co-sell, or another resolution.",
}
"""Why a resolution the case does not offer is refused (see `resolutions_offered`)."""
