"""Settling a conflict: one resolution applied to every registration involved, at once.

The desk picks a resolution on a registration whose check found other claims. In one
transaction: the registration and every still-active rival registration move as the
resolution says, each move is audited with the desk's reason (the precedent), and each
party is told its own story: the winner, the other partners (neutral words, no names),
the direct team (a direct message to the owners of the direct claims in the case and to
whoever said "I'm working this"). Direct claims (accounts, opportunities) live in the CRM;
a resolution never changes them, it only tells their owners.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from domain.actor import Actor
from domain.audit_trail import moved_by
from domain.conflicts import ACTIVE_STATUSES, Claim, ClaimKind
from domain.errors import ConcurrentUpdate, DomainError, InvalidInput, NotAllowed, NotFound
from domain.matching import Strength
from domain.messages import (
    MessageKind,
    Notice,
    OutboxMessage,
    claims_moved,
    evidence_refresh,
    working_notices,
)
from domain.ownership import (
    Dispute,
    Recommendation,
    Resolution,
    StoredFinding,
    recommend,
    rejection_reason_for,
    resolutions_offered,
    second_owners,
)
from domain.policy import DeskPolicy, ProgramPolicy, can_decide, is_internal
from domain.ports import UnitOfWork
from domain.registration import Registration, RegistrationStatus, RejectionReason

logger = logging.getLogger(__name__)

REASON_LIMIT = 2000

# What a partner that lost a resolution reads besides the closed-list reason: what it still
# holds on the customer (never who won, why, or that another claim exists at all).
STILL_OWN_EARLIER = "own_earlier"  # its own earlier registration, left as it was, holds
STILL_OWN_OTHER = "own_other"  # another registration of its own holds (one the desk approved)
STILL_NOTHING = "nothing"  # nothing is protected for it on this customer
STILL_PROTECTION_ENDED = "protection_ended"  # its approval was withdrawn


class AdjudicationRaced(ConcurrentUpdate):
    """Another decision changed a registration involved first; nothing was applied. `by` is
    who moved it where it stands, when the audit trail says."""

    def __init__(self, registration: Registration, *, by: Actor | None = None) -> None:
        super().__init__(
            f"{registration.reference} is already {registration.status.label.lower()}"
            " (someone decided first); nothing was changed."
        )
        self.registration = registration
        self.by = by


@dataclass(frozen=True, slots=True)
class Adjudicate:
    """The desk's resolution of the conflicts found for `registration_id` (as seen at
    `version`), with the reason every party's record keeps."""

    registration_id: int
    version: int
    by: Actor
    resolution: Resolution
    reason: str


@dataclass(frozen=True, slots=True)
class Adjudication:
    """What a resolution did: the registration, the rivals it moved, and the rule advice."""

    registration: Registration
    changed: tuple[Registration, ...]
    recommendation: Recommendation | None


@dataclass(frozen=True, slots=True)
class ConflictCase:
    """A registration with its findings as they are now, and what the rules recommend."""

    registration: Registration
    findings: tuple[StoredFinding, ...]
    recommendation: Recommendation | None
    disputes: tuple[Dispute, ...]
    moved_by: Actor | None = None
    """Who moved it where it stands, once it is out of review (a stale click names them)."""


async def conflict_case(registration_id: int, *, uow: UnitOfWork, now: datetime) -> ConflictCase:
    """Everything the desk weighs for one registration (internal eyes only)."""
    async with uow:
        registration = await _load(uow, registration_id)
        findings = await uow.findings.for_registration(registration_id)
        disputes = await uow.findings.disputes(registration_id)
        by = None
        if registration.status is not RegistrationStatus.under_review:
            by = await moved_by(uow, registration)
    return ConflictCase(
        registration,
        tuple(findings),
        recommend(registration, findings, now=now),
        tuple(disputes),
        by,
    )


async def adjudicate(
    cmd: Adjudicate,
    *,
    uow: UnitOfWork,
    now: datetime,
    program: ProgramPolicy,
    desk: DeskPolicy,
    host_team_id: str,
) -> Adjudication:
    """Apply the resolution to every registration involved in one transaction.

    Racing decisions (an approve click, a second resolution) leave exactly one outcome:
    whichever commits first wins, the other raises AdjudicationRaced and changes nothing.
    """
    if not can_decide(cmd.by, desk=desk, host_team_id=host_team_id):
        raise NotAllowed("Only the deal desk's approvers can settle conflicts.")
    reason = cmd.reason.strip()
    if not reason:
        raise InvalidInput("Say why: the reason is kept as a precedent.", field="reason")
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(f"Keep the reason under {REASON_LIMIT} characters.", field="reason")
    versions: dict[int, int] = {cmd.registration_id: cmd.version}  # as this decision saw them
    try:
        async with uow:
            subject = await _load(uow, cmd.registration_id)
            if subject.version != cmd.version or subject.status is not (
                RegistrationStatus.under_review
            ):
                raise AdjudicationRaced(subject, by=await moved_by(uow, subject))
            findings = await uow.findings.for_registration(cmd.registration_id)
            advice = recommend(subject, findings, now=now)
            rivals = await _rivals(uow, subject, findings, now=now)
            if cmd.resolution not in resolutions_offered(findings, now=now):
                raise InvalidInput(_NOT_OFFERED[cmd.resolution], field="reason")
            if cmd.resolution is Resolution.award_existing and (
                existing_owner(advice, findings, now=now) is None
            ):
                raise await _no_owner_left(uow, findings)
            versions.update({_Plan._id(r): r.version for r in rivals})
            disputes = [d for rid in versions for d in await uow.findings.disputes(rid)]
            plan = _Plan(cmd, reason, subject, rivals, findings, advice, now, program, disputes)
            plan.apply()
            await _require_one_owner(uow, plan)
            # In id order, so two resolutions sharing registrations lock rows in the same
            # order (PostgreSQL would otherwise abort one of them as a deadlock).
            for registration in sorted((subject, *plan.changed), key=_Plan._id):
                await uow.registrations.save(
                    registration, expected_version=versions[_Plan._id(registration)]
                )
            # Registrations in review whose evidence names one moved show it as it is now.
            moved = [_Plan._id(r) for r in (subject, *plan.changed)]
            citing = sorted(await uow.findings.citing(moved))
            await uow.outbox.put([*plan.messages(), *claims_moved(citing)], now=now)
            await uow.commit()
    except ConcurrentUpdate as race:
        if isinstance(race, AdjudicationRaced):
            raise
        raise await _first_changed(uow, cmd, versions) from race
    logger.info(
        "registration %s settled %s by %s/%s; %d rivals moved",
        cmd.registration_id,
        cmd.resolution,
        cmd.by.team_id,
        cmd.by.user_id,
        len(plan.changed),
    )
    return Adjudication(subject, tuple(plan.changed), advice)


@dataclass(frozen=True, slots=True)
class ClaimWork:
    """A direct rep's "I'm working this", with the evidence they add."""

    registration_id: int
    by: Actor
    note: str
    link: str | None = None


async def dispute(cmd: ClaimWork, *, uow: UnitOfWork, now: datetime, host_team_id: str) -> Dispute:
    """Mark the case disputed by an internal user and tell the desk (never the partner)."""
    if not is_internal(cmd.by, host_team_id=host_team_id):
        raise NotAllowed("Only the vendor's own team can claim a customer.")
    note = cmd.note.strip()
    if not note:
        raise InvalidInput("Say what you are working on with this customer.", field="note")
    link = (cmd.link or "").strip() or None
    if link is not None and not link.startswith(("https://", "http://")):
        raise InvalidInput("Paste a link that starts with https://.", field="link")
    async with uow:
        registration = await _load(uow, cmd.registration_id)
        if registration.is_decided:
            raise InvalidInput(f"{registration.reference} is already decided.")
        record = Dispute(
            registration_id=cmd.registration_id,
            by_user_id=cmd.by.user_id,
            by_team_id=cmd.by.team_id,
            at=now,
            note=note,
            link=link,
        )
        await uow.findings.add_dispute(record)
        registration.note_event(by=cmd.by, now=now, action="dispute", reason=note)
        await uow.registrations.save(registration, expected_version=registration.version)
        await uow.outbox.put(
            [
                OutboxMessage(MessageKind.review_card, registration_id=cmd.registration_id),
                OutboxMessage(
                    MessageKind.desk_notice,
                    registration_id=cmd.registration_id,
                    notice=Notice.disputed,
                    data={"by": cmd.by.user_id, "note": note, "link": link or ""},
                ),
                # The evidence message lists who is working the customer.
                OutboxMessage(MessageKind.evidence, registration_id=cmd.registration_id),
            ],
            now=now,
        )
        await uow.commit()
    return record


# ---------------------------------------------------------------------------- the plan


@dataclass(slots=True)
class _Plan:
    """How one resolution moves the subject and its rivals, and whom it tells what."""

    cmd: Adjudicate
    reason: str
    subject: Registration
    rivals: list[Registration]
    findings: list[StoredFinding]
    advice: Recommendation | None
    now: datetime
    program: ProgramPolicy
    disputes: list[Dispute] = field(default_factory=list)
    changed: list[Registration] = field(default_factory=list)
    notices: dict[int, Notice] = field(default_factory=dict)
    still: dict[int, str] = field(default_factory=dict)
    lost: list[tuple[Registration, bool]] = field(default_factory=list)
    """Each registration the plan rejected or cancelled, with whether it had been approved."""
    approved: list[Registration] = field(default_factory=list)
    """Each registration the plan approved (the customer's one owner among them)."""

    @property
    def action(self) -> str:
        return f"adjudicate:{self.cmd.resolution.value}"

    @property
    def precedent(self) -> str:
        rule = f" [{self.advice.rule.value}]" if self.advice else ""
        return f"{self.cmd.resolution.label}{rule}: {self.reason}"

    def apply(self) -> None:
        resolution = self.cmd.resolution
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
                by=self.cmd.by, now=self.now, action=self.action, reason=self.precedent
            )
            self.subject.request_info(by=self.cmd.by, now=self.now, question=self.reason)
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
            by=self.cmd.by,
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
            by=self.cmd.by,
            now=self.now,
            reason=reason,
            action=self.action,
            detail=self.precedent,
        )
        self.lost.append((registration, was_approved))
        self._changed(registration, Notice.conflict_lost)

    def _still(self, registration: Registration, was_approved: bool) -> str:
        """What the losing partner still holds on the customer once the whole plan is applied
        (a registration of its own that this plan rejected as well holds nothing)."""
        if was_approved:
            return STILL_PROTECTION_ENDED
        rid = self._id(registration)
        moved = {self._id(r): r for r in (self.subject, *self.changed)}
        # The partner's other registrations here: (made earlier, left as they were, hold).
        own = [
            (r.created_at < registration.created_at, False, _holds(r, self.now))
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
            return STILL_OWN_EARLIER
        if any(holds for _, _, holds in own):
            return STILL_OWN_OTHER
        return STILL_NOTHING

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
        desk = {
            "resolution": self.cmd.resolution.value,
            "subject": str(subject_id),
            "subject_reference": self.subject.reference,
            "reason": self.reason,
            "rule": self.advice.rule.value if self.advice else "",
        }
        out: list[OutboxMessage] = []
        for rid, notice in self.notices.items():
            partner_data = {"still": self.still[rid]} if rid in self.still else {}
            out += [
                OutboxMessage(MessageKind.partner_card, registration_id=rid),
                OutboxMessage(MessageKind.review_card, registration_id=rid),
                OutboxMessage(
                    MessageKind.partner_notice,
                    registration_id=rid,
                    notice=notice,
                    data=partner_data,
                ),
                OutboxMessage(
                    MessageKind.desk_notice, registration_id=rid, notice=notice, data=desk
                ),
            ]
        out.append(OutboxMessage(MessageKind.evidence, registration_id=subject_id))
        # A rival's own evidence (under its own review card) shows the outcome, not buttons.
        out += [evidence_refresh(self._id(r)) for r in self.changed]
        out += self._direct_notices(desk)
        return out

    def _direct_notices(self, desk: dict[str, str]) -> list[OutboxMessage]:
        """One direct message per person on the direct team the resolution concerns: the
        owners of the direct claims in the case (conflicts that still hold, and the claim
        awarded), and whoever said "I'm working this" on a registration it moved. Owners of
        weak likenesses or of ended claims were mentioned in the thread; they get no DM.
        Someone who is both hears once, as the person working it; an owner known by e-mail
        only is matched to a Slack user on delivery, so it carries who is told already."""
        moved = {self._id(r) for r in (self.subject, *self.changed)}
        working = list(
            dict.fromkeys(d.by_user_id for d in self.disputes if d.registration_id in moved)
        )
        claims = [
            f.claim
            for f in self.findings
            if f.strength is Strength.conflict and f.claim.is_active(self.now)
        ]
        if self.cmd.resolution is Resolution.award_existing:
            awarded = existing_owner(self.advice, self.findings, now=self.now)
            claims += [awarded] if awarded is not None else []
        owners = {
            (c.owner_slack_id or "", c.owner_email or "")
            for c in claims
            if c.kind is not ClaimKind.registration and c.owner and c.owner_slack_id not in working
        }
        told = ",".join([*working, *sorted({s for s, _ in owners if s})])
        subject_id = self._id(self.subject)
        out: list[OutboxMessage] = []
        for slack_id, email in sorted(owners):
            data = {**desk, "owner_slack_id": slack_id, "owner_email": email}
            if not slack_id:  # skipped on delivery if the address is someone told already
                data["told"] = told
            out.append(
                OutboxMessage(MessageKind.direct_notice, registration_id=subject_id, data=data)
            )
        out += working_notices(subject_id, working, **desk)
        return out


_NOT_OFFERED = {
    Resolution.co_sell: "Co-sell is with the direct team, and no direct claim on this customer"
    " holds: choose another resolution.",
    Resolution.award_partner: "A direct claim on this customer holds, and it stays an owner:"
    " the partner can have the customer only beside it. Choose Co-sell, or another resolution.",
}
"""Why a resolution the case does not offer is refused (see `resolutions_offered`)."""


async def _require_one_owner(uow: UnitOfWork, plan: _Plan) -> None:
    """Refuse a plan that would approve a registration beside another owner of its customer:
    an approved registration it conflicts with that the plan leaves approved (its own case,
    not this one, has to settle that), or a direct claim other than by a co-sell."""
    moved = {_Plan._id(r): r for r in (plan.subject, *plan.changed)}
    for winner in plan.approved:
        found = (
            plan.findings
            if winner is plan.subject
            else await uow.findings.for_registration(_Plan._id(winner))
        )
        co_sell = winner is plan.subject and plan.cmd.resolution is Resolution.co_sell
        owners = second_owners(winner, found, now=plan.now, co_sell=co_sell, moved=moved)
        if owners:
            names = ", ".join(claim.label for claim in owners[:3])
            raise InvalidInput(
                f"{winner.reference} cannot be approved: {names} already holds this customer"
                f" and would stay an owner too. Settle {winner.reference}'s own conflict"
                " thread first.",
                field="reason",
            )


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


async def _no_owner_left(uow: UnitOfWork, findings: list[StoredFinding]) -> DomainError:
    """Why "Award to the existing owner" cannot be applied: the registration that was the
    owner was decided by someone else first, or no claim on the customer holds any more."""
    ended = [f.claim.id for f in findings if f.claim.kind is ClaimKind.registration]
    if ended:
        registration = await uow.registrations.get(ended[0])
        if registration is not None:
            return AdjudicationRaced(registration, by=await moved_by(uow, registration))
    return InvalidInput(
        "No existing claim on this customer holds any more: choose another resolution.",
        field="reason",
    )


def _holds(registration: Registration, now: datetime) -> bool:
    """Whether a registration still holds a claim (as `Claim.is_active` judges one)."""
    until = registration.protected_until
    return registration.status in ACTIVE_STATUSES and (until is None or until > now)


async def _rivals(
    uow: UnitOfWork, subject: Registration, findings: list[StoredFinding], *, now: datetime
) -> list[Registration]:
    """The other registrations still holding a claim that this check found as a conflict.

    A possible conflict (a weak likeness) is shown to the desk but never moved by a
    resolution: it may well be another customer, and it never blocks a partner on its own.
    """
    ids = {
        f.claim.id
        for f in findings
        if f.claim.kind is ClaimKind.registration
        and f.strength is Strength.conflict
        and f.claim.id != subject.id
        and f.claim.is_active(now)
    }
    found = await uow.registrations.get_many(ids)
    return [found[i] for i in sorted(found) if found[i].status in ACTIVE_STATUSES]


async def _first_changed(
    uow: UnitOfWork, cmd: Adjudicate, seen: dict[int, int]
) -> AdjudicationRaced:
    """The race lost: the registration another decision changed first (the subject, else a
    rival), and who changed it."""
    async with uow:
        current = await uow.registrations.get_many(seen)
        subject = current.get(cmd.registration_id) or await _load(uow, cmd.registration_id)
        order = [cmd.registration_id, *sorted(set(seen) - {cmd.registration_id})]
        moved = next(
            (current[rid] for rid in order if rid in current and current[rid].version != seen[rid]),
            subject,
        )
        return AdjudicationRaced(moved, by=await moved_by(uow, moved))


async def _load(uow: UnitOfWork, registration_id: int) -> Registration:
    registration = await uow.registrations.get(registration_id)
    if registration is None:
        raise NotFound("That registration does not exist.")
    return registration
