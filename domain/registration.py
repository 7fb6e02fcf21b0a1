"""The registration: one partner's claim on one deal, and the lifecycle that governs it.

Every move is a method that refuses illegal transitions, records who did it, when and
why (an `AuditEvent` waiting to be saved), and bumps `version` for optimistic concurrency.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.actor import SYSTEM, Actor
from domain.errors import InvalidInput, InvalidTransition


class RegistrationStatus(StrEnum):
    submitted = "submitted"
    under_review = "under_review"
    info_requested = "info_requested"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    won = "won"
    lost = "lost"
    expired = "expired"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        """Waiting for the desk (or the partner, for info requests)."""
        return self in _OPEN

    @property
    def awaits_desk(self) -> bool:
        """Waiting for the desk's decision (not for the partner's answer)."""
        return self in _AWAITING_DESK

    @property
    def holds_claim(self) -> bool:
        """A registration in this status claims its customer: while open, and once approved
        (until its protection ends: see `claim_holds`)."""
        return self in _OPEN or self is RegistrationStatus.approved


_STATUS_LABELS = {
    RegistrationStatus.submitted: "Submitted",
    RegistrationStatus.under_review: "In review",
    RegistrationStatus.info_requested: "Info requested",
    RegistrationStatus.approved: "Approved",
    RegistrationStatus.rejected: "Rejected",
    RegistrationStatus.withdrawn: "Withdrawn",
    RegistrationStatus.won: "Won",
    RegistrationStatus.lost: "Lost",
    RegistrationStatus.expired: "Expired",
    RegistrationStatus.cancelled: "Cancelled",
}
_AWAITING_DESK = frozenset({RegistrationStatus.submitted, RegistrationStatus.under_review})
_OPEN = _AWAITING_DESK | {RegistrationStatus.info_requested}


def claim_holds(
    status: RegistrationStatus, protected_until: datetime | None, now: datetime | None
) -> bool:
    """Whether a registration in `status`, protected until `protected_until`, still claims
    its customer at `now` (without `now`, whatever its protection)."""
    if not status.holds_claim:
        return False
    return now is None or protected_until is None or protected_until > now


class RejectionReason(StrEnum):
    duplicate = "duplicate"
    existing_customer = "existing_customer"
    in_direct_pipeline = "in_direct_pipeline"
    named_account = "named_account"
    not_qualified = "not_qualified"
    no_partner_engagement = "no_partner_engagement"
    outside_territory = "outside_territory"
    other = "other"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    RejectionReason.duplicate: "Duplicate registration",
    RejectionReason.existing_customer: "Existing customer",
    RejectionReason.in_direct_pipeline: "In the direct pipeline",
    RejectionReason.named_account: "Named account",
    RejectionReason.not_qualified: "Not qualified",
    RejectionReason.no_partner_engagement: "No partner engagement",
    RejectionReason.outside_territory: "Outside territory",
    RejectionReason.other: "Other",
}


class DealStage(StrEnum):
    prospecting = "prospecting"
    qualification = "qualification"
    proposal = "proposal"
    negotiation = "negotiation"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True, slots=True)
class DealDetails:
    """What the partner tells us about the deal (already validated by the form)."""

    company: str
    website: str
    country: str
    amount: Decimal
    currency: str
    close_date: date
    products: tuple[str, ...]
    contact_name: str | None = None
    contact_email: str | None = None
    stage: DealStage | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One recorded move: who, when, from which status to which, and why."""

    at: datetime
    actor: Actor
    action: str
    from_status: RegistrationStatus | None
    to_status: RegistrationStatus
    reason: str | None = None


@dataclass(slots=True)
class Registration:
    """A partner's claim on a deal, moving through the lifecycle in DESIGN.md."""

    partner_id: int
    submitted_by: Actor
    details: DealDetails
    status: RegistrationStatus
    created_at: datetime
    updated_at: datetime
    decision_due_at: datetime
    id: int | None = None
    version: int = 1
    submission_key: str | None = None
    decided_at: datetime | None = None
    decided_by: Actor | None = None
    protected_until: datetime | None = None
    rejection_reason: RejectionReason | None = None
    decision_note: str | None = None
    info_request: str | None = None
    events: list[AuditEvent] = field(default_factory=list)
    assigned_reference: str | None = None
    """Given by storage with the id (`NW-0007`) and never changed: see `reference`."""

    @classmethod
    def submit(
        cls,
        *,
        partner_id: int,
        details: DealDetails,
        by: Actor,
        now: datetime,
        review_sla: timedelta,
        submission_key: str | None = None,
    ) -> Registration:
        """A new registration, submitted and put straight into review."""
        registration = cls(
            partner_id=partner_id,
            submitted_by=by,
            details=details,
            status=RegistrationStatus.submitted,
            created_at=now,
            updated_at=now,
            decision_due_at=now + review_sla,
            submission_key=submission_key,
        )
        registration.events.append(
            AuditEvent(now, by, "submit", None, RegistrationStatus.submitted)
        )
        registration._move(RegistrationStatus.under_review, "review", SYSTEM, now, bump=False)
        return registration

    @property
    def reference(self) -> str:
        """How everyone names it: `NW-0007`, the partner's code and its own sequence number
        (or `DR-0012`, given before partners had codes)."""
        if self.assigned_reference is None:
            raise ValueError("registration has no reference until it is stored")
        return self.assigned_reference

    @property
    def is_decided(self) -> bool:
        return not self.status.is_open

    def holds(self, now: datetime) -> bool:
        """Whether it still claims its customer at `now` (see `claim_holds`)."""
        return claim_holds(self.status, self.protected_until, now)

    def approve(
        self,
        *,
        by: Actor,
        now: datetime,
        protection: timedelta,
        action: str = "approve",
        reason: str | None = None,
        note: str | None = None,
    ) -> None:
        """Approve: the partner is protected for `protection`, counted from now.

        A conflict resolution approves under its own `action` (``adjudicate:co_sell``…),
        with the desk's `reason` in the audit trail and a `note` the partner may read.
        """
        self._require({RegistrationStatus.under_review}, "approved")
        self.protected_until = now + protection
        self._decide(RegistrationStatus.approved, action, by, now, reason, note=note)

    def reject(
        self, *, by: Actor, now: datetime, reason: RejectionReason, note: str | None = None
    ) -> None:
        """Reject for a reason from the closed list; `other` needs a note."""
        self._require({RegistrationStatus.under_review}, "rejected")
        note = (note or "").strip() or None
        if reason is RejectionReason.other and note is None:
            raise InvalidInput("Say why the registration is rejected.", field="note")
        self.rejection_reason = reason
        detail = reason.value if note is None else f"{reason.value}: {note}"
        self._decide(RegistrationStatus.rejected, "reject", by, now, detail, note=note)

    def request_info(self, *, by: Actor, now: datetime, question: str) -> None:
        """Ask the partner a question; the registration waits for its answer."""
        self._require({RegistrationStatus.under_review}, "sent an info request")
        question = question.strip()
        if not question:
            raise InvalidInput("Ask the partner a question.", field="question")
        self.info_request = question
        self._move(RegistrationStatus.info_requested, "request_info", by, now, reason=question)

    def resubmit(self, *, by: Actor, now: datetime, details: DealDetails) -> None:
        """The partner answered an info request with updated details; back to review."""
        self._require({RegistrationStatus.info_requested}, "resubmitted")
        self.details = details
        self._move(RegistrationStatus.under_review, "resubmit", by, now)

    def withdraw(self, *, by: Actor, now: datetime) -> None:
        """The partner takes the registration back before a decision."""
        self._require(_OPEN, "withdrawn")
        self._move(RegistrationStatus.withdrawn, "withdraw", by, now)

    def lose_conflict(
        self,
        *,
        by: Actor,
        now: datetime,
        reason: RejectionReason,
        action: str,
        detail: str,
        note: str | None = None,
    ) -> None:
        """The desk settled a conflict against this claim: an open registration is rejected
        for `reason`, an approved one loses its protection (cancelled). `detail` (the desk's
        reason, kept as a precedent) goes to the audit trail; `note` is what the partner
        may read."""
        if self.status is RegistrationStatus.approved:
            self.protected_until = None
            self._decide(RegistrationStatus.cancelled, action, by, now, detail, note=note)
            return
        self._require(_OPEN, "rejected")
        self.rejection_reason = reason
        self._decide(RegistrationStatus.rejected, action, by, now, detail, note=note)

    def note_event(self, *, by: Actor, now: datetime, action: str, reason: str) -> None:
        """Record something that happened to the registration without moving it (a working note,
        a precedent on a claim the resolution left as it was)."""
        self.events.append(AuditEvent(now, by, action, self.status, self.status, reason))
        self.updated_at = now

    def expire(self, *, now: datetime) -> None:
        """The protection window ran out without a result; the account is open again."""
        self._require({RegistrationStatus.approved}, "expired")
        self._move(RegistrationStatus.expired, "expire", SYSTEM, now)

    def pending_events(self) -> list[AuditEvent]:
        """Hand over the events recorded since the last save, and forget them."""
        events, self.events = self.events, []
        return events

    def _decide(
        self,
        to: RegistrationStatus,
        action: str,
        by: Actor,
        now: datetime,
        reason: str | None,
        *,
        note: str | None = None,
    ) -> None:
        self.decided_at = now
        self.decided_by = by
        self.decision_note = note
        self._move(to, action, by, now, reason=reason)

    def _require(self, allowed: Set[RegistrationStatus], done: str) -> None:
        if self.status not in allowed:
            what = self.reference if self.assigned_reference else "This registration"
            raise InvalidTransition(
                f"{what} is {self.status.label.lower()}, so it cannot be {done}."
            )

    def _move(
        self,
        to: RegistrationStatus,
        action: str,
        by: Actor,
        now: datetime,
        *,
        reason: str | None = None,
        bump: bool = True,
    ) -> None:
        self.events.append(AuditEvent(now, by, action, self.status, to, reason))
        self.status = to
        self.updated_at = now
        if bump:
            self.version += 1
