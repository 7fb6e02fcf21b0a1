"""The desk's plain decisions on the review card: approve, reject, ask for info; its queue."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.actor import Caller
from domain.cases import RegistrationWithPartner
from domain.errors import ConcurrentUpdate, ConflictToResolve, InvalidInput, NotAllowed
from domain.messages import Notice, OutboxMessage, working_notices
from domain.ownership import Decision, live_conflicts
from domain.policy import can_decide
from domain.ports import UnitOfWork
from domain.registration import Registration, RegistrationStatus, RejectionReason
from domain.services._shared import decided_first, load, require_version, save_move
from domain.services.context import ServiceContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decide:
    """A decision on a registration as the approver saw it (`version`): a rejection needs a
    `reason` (and, for "other", a `note`); an info request's `note` is the question."""

    registration_id: int
    version: int
    decision: Decision
    reason: RejectionReason | None = None
    note: str | None = None


class Decisions:
    """What the desk decides on a registration's review card (or App Home)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def decide(self, cmd: Decide, caller: Caller) -> Registration:
        """Approve, reject or ask for info. Of two racing decisions exactly one applies, the
        other raises AlreadyDecided naming the winner. Approving a registration whose check
        found a claim that still holds raises ConflictToResolve: the desk resolves the case."""
        ctx, now, by = self._ctx, self._ctx.clock(), caller.actor
        if not can_decide(caller, ctx.desk):
            raise NotAllowed(NotAllowed.APPROVERS_DECIDE)
        try:
            async with ctx.uow() as uow:
                registration = await load(uow, cmd.registration_id)
                require_version(registration, cmd.version)
                if cmd.decision is Decision.approve:
                    findings = await uow.findings.for_registration(cmd.registration_id)
                    waiting = registration.status is RegistrationStatus.under_review
                    if waiting and live_conflicts(cmd.registration_id, findings, now=now):
                        raise ConflictToResolve(registration)
                    registration.approve(by=by, now=now, protection=ctx.program.protection)
                    notice = Notice.approved
                elif cmd.decision is Decision.reject:
                    if cmd.reason is None:
                        raise InvalidInput("Pick a reason.", field="reason")
                    registration.reject(by=by, now=now, reason=cmd.reason, note=cmd.note)
                    notice = Notice.rejected
                else:
                    registration.request_info(by=by, now=now, question=cmd.note or "")
                    notice = Notice.info_requested
                told = await _working_told(uow, registration, cmd.decision)
                await save_move(uow, registration, cmd.version, notice, now=now, also=told)
        except ConcurrentUpdate as race:
            async with ctx.uow() as uow:
                raise await decided_first(uow, await load(uow, cmd.registration_id)) from race
        logger.info(
            "registration %s %s by %s/%s", registration.id, cmd.decision, by.team_id, by.user_id
        )
        return registration

    async def to_decide(self, registration_id: int, version: int) -> Registration:
        """The registration an approver is about to decide, still as they saw it (`version`);
        AlreadyDecided, naming who moved it, when it was decided or changed since."""
        async with self._ctx.uow() as uow:
            registration = await load(uow, registration_id)
            if registration.version == version and not registration.is_decided:
                return registration
            raise await decided_first(uow, registration)

    async def queue(self, *, limit: int = 50) -> list[RegistrationWithPartner]:
        """Registrations waiting for a decision, oldest first, with their partners and the
        claims their checks found (so the desk sees which ones are conflicts to resolve)."""
        async with self._ctx.uow() as uow:
            registrations = await uow.registrations.list_open(limit=limit)
            partners = await uow.partners.get_many({r.partner_id for r in registrations})
            found = await uow.findings.for_registrations([r.id for r in registrations if r.id])
        return [
            RegistrationWithPartner(r, partners[r.partner_id], tuple(found.get(r.id or 0, ())))
            for r in registrations
        ]


async def _working_told(
    uow: UnitOfWork, registration: Registration, decision: Decision
) -> list[OutboxMessage]:
    """A decision on the review card tells whoever left a working note on the registration
    how it went, once each, as a resolution would (a question to the partner decides
    nothing, so it tells nobody)."""
    if decision is Decision.request_info:
        return []
    assert registration.id is not None
    reason = registration.rejection_reason.label if registration.rejection_reason else ""
    if reason and registration.decision_note:
        reason += f": {registration.decision_note}"
    notes = await uow.findings.working_notes(registration.id)
    return working_notices(
        registration.id, (n.by_user_id for n in notes), decision=decision, reason=reason
    )
