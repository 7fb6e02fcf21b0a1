"""The conflict desk: a case as it stands, the desk's resolution of it, and the direct team's
working notes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from domain.actor import Caller
from domain.cases import Case, WorkingNote
from domain.conflicts import ClaimKind
from domain.errors import (
    AlreadyDecided,
    ConcurrentUpdate,
    DomainError,
    InvalidInput,
    NotAllowed,
)
from domain.matching import Strength
from domain.messages import (
    DeskNotice,
    EvidenceHead,
    Notice,
    ReviewCard,
    WorkingDetail,
    claims_moved,
)
from domain.ownership import (
    Recommendation,
    Resolution,
    StoredFinding,
    recommend,
    resolutions_offered,
    second_owners,
)
from domain.policy import can_decide
from domain.ports import UnitOfWork
from domain.registration import Registration, RegistrationStatus
from domain.resolution import NOT_OFFERED, REASON_LIMIT, ResolutionPlan, existing_owner
from domain.services._shared import decided_first, load, moved_by
from domain.services.context import ServiceContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Resolve:
    """The desk's resolution of the case of `registration_id` (as seen at `version`), with
    the reason every party's record keeps (for Request info, the question)."""

    registration_id: int
    version: int
    resolution: Resolution
    reason: str


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a resolution did: the registration, the rivals it moved, and the rules' advice."""

    registration: Registration
    changed: tuple[Registration, ...]
    recommendation: Recommendation | None


@dataclass(frozen=True, slots=True)
class AddWorkingNote:
    """A direct rep's "I'm working this" on a registration's customer, with evidence."""

    registration_id: int
    note: str
    link: str | None = None


class Conflicts:
    """Cases, their resolution by the desk, and the direct team's working notes."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def case(self, registration_id: int) -> Case:
        """Everything the desk weighs for one registration (internal eyes only)."""
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            registration = await load(uow, registration_id)
            findings = await uow.findings.for_registration(registration_id)
            notes = await uow.findings.working_notes(registration_id)
            by = None
            if registration.status is not RegistrationStatus.under_review:
                by = await moved_by(uow, registration)
        advice = recommend(registration, findings, now=now)
        return Case(registration, tuple(findings), advice, tuple(notes), by)

    async def resolve(self, cmd: Resolve, caller: Caller) -> Resolved:
        """Apply the resolution to every registration involved in one transaction. Of racing
        decisions (an approve click, a second resolution) whichever commits first wins; the
        other raises AlreadyDecided and changes nothing. A resolution that would leave the
        customer two owners is refused."""
        ctx, now = self._ctx, self._ctx.clock()
        if not can_decide(caller, ctx.desk):
            raise NotAllowed(NotAllowed.APPROVERS_SETTLE)
        reason = cmd.reason.strip()
        if not reason:
            raise InvalidInput("Say why: the reason is kept as a precedent.", field="reason")
        if len(reason) > REASON_LIMIT:
            raise InvalidInput(f"Keep the reason under {REASON_LIMIT} characters.", field="reason")
        seen: dict[int, int] = {cmd.registration_id: cmd.version}  # versions as the desk saw
        try:
            async with ctx.uow() as uow:
                subject = await load(uow, cmd.registration_id)
                if subject.version != cmd.version or subject.status is not (
                    RegistrationStatus.under_review
                ):
                    raise await decided_first(uow, subject)
                findings = await uow.findings.for_registration(cmd.registration_id)
                advice = recommend(subject, findings, now=now)
                if cmd.resolution not in resolutions_offered(findings, now=now):
                    raise InvalidInput(NOT_OFFERED[cmd.resolution], field="reason")
                owner = existing_owner(advice, findings, now=now)
                if cmd.resolution is Resolution.award_existing and owner is None:
                    raise await _no_owner_left(uow, findings)
                rivals = await _rivals(uow, subject, findings, now=now)
                seen.update({ResolutionPlan._id(r): r.version for r in rivals})
                notes = [n for rid in seen for n in await uow.findings.working_notes(rid)]
                plan = ResolutionPlan(
                    caller.actor,
                    cmd.resolution,
                    reason,
                    subject,
                    rivals,
                    findings,
                    advice,
                    now,
                    ctx.program,
                    notes,
                )
                plan.apply()
                await _require_one_owner(uow, plan)
                # In id order, so two resolutions sharing registrations lock rows in the same
                # order (PostgreSQL would otherwise abort one of them as a deadlock).
                for registration in sorted((subject, *plan.changed), key=ResolutionPlan._id):
                    await uow.registrations.save(
                        registration, expected_version=seen[ResolutionPlan._id(registration)]
                    )
                # Registrations in review whose evidence names one moved show it as it is now.
                moved = [ResolutionPlan._id(r) for r in (subject, *plan.changed)]
                citing = sorted(await uow.findings.citing(moved))
                await uow.outbox.put([*plan.messages(), *claims_moved(citing)], now=now)
                await uow.commit()
        except ConcurrentUpdate as race:
            if isinstance(race, AlreadyDecided):
                raise
            raise await self._first_changed(cmd.registration_id, seen) from race
        logger.info(
            "registration %s resolved %s by %s/%s; %d rivals moved",
            cmd.registration_id,
            cmd.resolution,
            caller.actor.team_id,
            caller.actor.user_id,
            len(plan.changed),
        )
        return Resolved(subject, tuple(plan.changed), advice)

    async def note_working(self, cmd: AddWorkingNote, caller: Caller) -> WorkingNote:
        """Record a direct rep's working note and tell the desk (never the partner)."""
        ctx, now = self._ctx, self._ctx.clock()
        if not caller.internal:
            raise NotAllowed(NotAllowed.STAFF_CLAIM)
        note = cmd.note.strip()
        if not note:
            raise InvalidInput("Say what you are working on with this customer.", field="note")
        link = (cmd.link or "").strip() or None
        if link is not None and not link.startswith(("https://", "http://")):
            raise InvalidInput("Paste a link that starts with https://.", field="link")
        async with ctx.uow() as uow:
            registration = await load(uow, cmd.registration_id)
            if registration.is_decided:
                raise InvalidInput(f"{registration.reference} is already decided.")
            record = WorkingNote(
                registration_id=cmd.registration_id,
                by_user_id=caller.actor.user_id,
                by_team_id=caller.actor.team_id,
                at=now,
                note=note,
                link=link,
            )
            await uow.findings.add_working_note(record)
            registration.note_event(by=caller.actor, now=now, action="dispute", reason=note)
            await uow.registrations.save(registration, expected_version=registration.version)
            rid = cmd.registration_id
            await uow.outbox.put(
                [
                    ReviewCard(rid),
                    DeskNotice(
                        rid,
                        Notice.working,
                        working=WorkingDetail(caller.actor.user_id or None, note, link),
                    ),
                    # The evidence message lists who is working the customer.
                    EvidenceHead(rid),
                ],
                now=now,
            )
            await uow.commit()
        return record

    async def _first_changed(self, subject_id: int, seen: dict[int, int]) -> AlreadyDecided:
        """The race lost: the registration another decision changed first (the subject, else
        a rival), and who changed it."""
        async with self._ctx.uow() as uow:
            current = await uow.registrations.get_many(seen)
            subject = current.get(subject_id) or await load(uow, subject_id)
            order = [subject_id, *sorted(set(seen) - {subject_id})]
            moved = next(
                (current[i] for i in order if i in current and current[i].version != seen[i]),
                subject,
            )
            return await decided_first(uow, moved)


async def _require_one_owner(uow: UnitOfWork, plan: ResolutionPlan) -> None:
    """Refuse a plan that would approve a registration beside another owner of its customer:
    an approved registration it conflicts with that the plan leaves approved (its own case,
    not this one, has to resolve that), or a direct claim other than by a co-sell."""
    moved = {ResolutionPlan._id(r): r for r in (plan.subject, *plan.changed)}
    for winner in plan.approved:
        found = (
            plan.findings
            if winner is plan.subject
            else await uow.findings.for_registration(ResolutionPlan._id(winner))
        )
        co_sell = winner is plan.subject and plan.resolution is Resolution.co_sell
        owners = second_owners(winner, found, now=plan.now, co_sell=co_sell, moved=moved)
        if owners:
            names = ", ".join(claim.label for claim in owners[:3])
            raise InvalidInput(
                f"{winner.reference} cannot be approved: {names} already holds this customer"
                f" and would stay an owner too. Settle {winner.reference}'s own conflict"
                " thread first.",
                field="reason",
            )


async def _no_owner_left(uow: UnitOfWork, findings: list[StoredFinding]) -> DomainError:
    """Why "Award to the existing owner" cannot be applied: the registration that was the
    owner was decided by someone else first, or no claim on the customer holds any more."""
    ended = [f.claim.id for f in findings if f.claim.kind is ClaimKind.registration]
    if ended:
        registration = await uow.registrations.get(ended[0])
        if registration is not None:
            return await decided_first(uow, registration)
    return InvalidInput(
        "No existing claim on this customer holds any more: choose another resolution.",
        field="reason",
    )


async def _rivals(
    uow: UnitOfWork, subject: Registration, findings: list[StoredFinding], *, now: datetime
) -> list[Registration]:
    """The other registrations still holding a claim that the check found as a conflict (a
    likeness is shown to the desk but never moved: it may well be another customer)."""
    ids = {
        f.claim.id
        for f in findings
        if f.claim.kind is ClaimKind.registration
        and f.strength is Strength.conflict
        and f.claim.id != subject.id
        and f.claim.is_active(now)
    }
    found = await uow.registrations.get_many(ids)
    return [found[i] for i in sorted(found) if found[i].status.holds_claim]
