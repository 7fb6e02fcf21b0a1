"""Registrations, the partner's side: submit, answer an info request, withdraw, look up."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from domain.actor import Caller
from domain.cases import RegistrationWithPartner
from domain.conflicts import ConflictFinding, company_ref
from domain.errors import (
    AlreadyDecided,
    ConcurrentUpdate,
    DuplicateSubmission,
    InvalidInput,
    NotAllowed,
    NotFound,
)
from domain.messages import (
    Notice,
    PartnerCard,
    ReviewCard,
    case_grew,
    claims_moved,
    evidence_for,
)
from domain.partner import Partner
from domain.ports import AuditRecord, UnitOfWork
from domain.references import parse_reference
from domain.registration import DealDetails, Registration, RegistrationStatus
from domain.services._shared import (
    acting_partner,
    load,
    require_partner_side,
    require_version,
    save_move,
    screen,
    waiting_claims,
)
from domain.services.context import ServiceContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SubmitRegistration:
    """A filled-in form: for the caller's own organisation, or for `partner_id` picked by
    staff. `submission_key` (the form's view id) makes submitting it twice harmless."""

    details: DealDetails
    partner_id: int | None = None
    submission_key: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    registration: Registration
    partner: Partner
    duplicate: bool = False
    findings: tuple[ConflictFinding, ...] = ()


@dataclass(frozen=True, slots=True)
class Resubmit:
    """The partner's answer to an info request: the form again, as it saw the registration."""

    registration_id: int
    version: int
    details: DealDetails


class Registrations:
    """A partner's registrations, from the form to a decision."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def submit(self, cmd: SubmitRegistration, caller: Caller) -> SubmitOutcome:
        """Store a new registration with its conflict findings, its audit trail and the
        messages it owes, in one transaction. The same form twice yields the first one."""
        ctx, now = self._ctx, self._ctx.clock()
        try:
            async with ctx.uow() as uow:
                partner = await _submitting_partner(uow, cmd, caller)
                findings = await screen(uow, company_ref(cmd.details), rules=ctx.rules(), now=now)
                registration = Registration.submit(
                    partner_id=partner.id or 0,
                    details=cmd.details,
                    by=caller.actor,
                    now=now,
                    review_sla=ctx.program.review_sla,
                    submission_key=cmd.submission_key,
                )
                await uow.registrations.add(registration)
                assert registration.id is not None
                waiting = waiting_claims(findings)
                await uow.conflicts.add_findings(
                    registration.id, findings, found_at=now, mirror_to=waiting
                )
                await uow.outbox.put(
                    [
                        PartnerCard(registration.id),
                        ReviewCard(registration.id),
                        *evidence_for(registration.id, findings),
                        *case_grew(sorted(waiting)),
                    ],
                    now=now,
                )
                await uow.commit()
        except DuplicateSubmission:
            return await self._first_submission(cmd)
        logger.info(
            "registration %s submitted by %s/%s with %d findings",
            registration.id,
            caller.actor.team_id,
            caller.actor.user_id,
            len(findings),
        )
        return SubmitOutcome(registration, partner, findings=tuple(findings))

    async def _first_submission(self, cmd: SubmitRegistration) -> SubmitOutcome:
        """The registration the same form created the first time."""
        if cmd.submission_key is None:  # pragma: no cover - only keys can collide
            raise DuplicateSubmission("This form was already submitted; the first one stands.")
        async with self._ctx.uow() as uow:
            first = await uow.registrations.get_by_submission_key(cmd.submission_key)
            partner = await uow.partners.get(first.partner_id) if first else None
        if first is None or partner is None:  # pragma: no cover - it committed
            raise NotFound("That registration does not exist.")
        return SubmitOutcome(first, partner, duplicate=True)

    async def resubmit(self, cmd: Resubmit, caller: Caller) -> RegistrationWithPartner:
        """The partner answers an info request with updated details: back to the desk, with
        the conflict check run again (its findings replace the old ones, on both sides)."""
        ctx, now = self._ctx, self._ctx.clock()
        async with ctx.uow() as uow:
            registration = await load(uow, cmd.registration_id)
            await require_partner_side(uow, caller, registration, ctx.desk)
            if registration.status is not RegistrationStatus.info_requested:
                raise AlreadyDecided(registration)
            require_version(registration, cmd.version)
            registration.resubmit(by=caller.actor, now=now, details=cmd.details)
            findings = await screen(
                uow,
                company_ref(cmd.details),
                rules=ctx.rules(),
                now=now,
                exclude_registration_id=cmd.registration_id,
            )
            had = await uow.conflicts.finding_counts([cmd.registration_id])
            named_before = await uow.findings.citing([cmd.registration_id])
            waiting = waiting_claims(findings)
            await uow.conflicts.add_findings(
                cmd.registration_id, findings, found_at=now, replace=True, mirror_to=waiting
            )
            partner = await _partner_of(uow, registration)
            # The evidence is laid out again when there was or is any (a thread whose claims
            # all went away says so), and so are the cases it overlapped before or now.
            await save_move(
                uow,
                registration,
                cmd.version,
                Notice.resubmitted,
                now=now,
                evidence=[*had.values(), *findings],
                also=[
                    *case_grew(sorted(waiting - named_before)),
                    *claims_moved(sorted(named_before - waiting)),
                ],
            )
        return RegistrationWithPartner(registration, partner)

    async def withdraw(self, registration_id: int, caller: Caller) -> Registration:
        """The partner takes its registration back before the desk decides."""
        ctx = self._ctx
        try:
            async with ctx.uow() as uow:
                registration = await load(uow, registration_id)
                await require_partner_side(uow, caller, registration, ctx.desk)
                if registration.is_decided:
                    raise AlreadyDecided(registration)
                expected = registration.version
                registration.withdraw(by=caller.actor, now=ctx.clock())
                await save_move(uow, registration, expected, Notice.withdrawn, now=ctx.clock())
        except ConcurrentUpdate as race:
            if isinstance(race, AlreadyDecided):
                raise
            async with ctx.uow() as uow:
                raise AlreadyDecided(await load(uow, registration_id)) from race
        return registration

    async def waiting_for_answer(
        self, registration_id: int, caller: Caller
    ) -> RegistrationWithPartner:
        """A registration waiting for the partner's answer, for that partner's people only."""
        async with self._ctx.uow() as uow:
            registration = await load(uow, registration_id)
            await require_partner_side(uow, caller, registration, self._ctx.desk)
            partner = await _partner_of(uow, registration)
        if registration.status is not RegistrationStatus.info_requested:
            raise AlreadyDecided(registration)
        return RegistrationWithPartner(registration, partner)

    async def get(self, registration_id: int) -> RegistrationWithPartner:
        """A registration with its partner (NotFound if there is none)."""
        async with self._ctx.uow() as uow:
            registration = await load(uow, registration_id)
            partner = await _partner_of(uow, registration)
        return RegistrationWithPartner(registration, partner)

    async def find(self, text: str) -> RegistrationWithPartner:
        """The registration a typed reference names (`NW-0007`, any case; a legacy `DR-0012`
        or `DR-12`); InvalidInput when `text` is no reference, NotFound when none has it."""
        reference = parse_reference(text)
        if reference is None:
            shown = text.strip()[:40] or "Nothing"
            raise InvalidInput(
                f"{shown} is not a registration reference; they look like NW-0007.",
                field="reference",
            )
        async with self._ctx.uow() as uow:
            registration = await uow.registrations.get_by_reference(reference)
            if registration is None:
                raise NotFound(f"No registration {reference}.")
            partner = await _partner_of(uow, registration)
        return RegistrationWithPartner(registration, partner)

    async def audit_trail(self) -> AsyncIterator[AuditRecord]:
        """Every audit event of every registration, oldest first (streamed, not loaded)."""
        async with self._ctx.uow() as uow:
            async for record in uow.registrations.audit_log():
                yield record

    async def of_partner(self, partner_id: int) -> list[Registration]:
        """A partner's own registrations, newest first; never anyone else's."""
        async with self._ctx.uow() as uow:
            return await uow.registrations.list_by_partner(partner_id)


async def _submitting_partner(uow: UnitOfWork, cmd: SubmitRegistration, caller: Caller) -> Partner:
    """The caller's own partner, or the one staff picked."""
    if cmd.partner_id is None:
        return await acting_partner(uow, caller)
    if not caller.internal:
        raise NotAllowed(NotAllowed.STAFF_REGISTER_FOR)
    partner = await uow.partners.get(cmd.partner_id)
    if partner is None:
        raise NotFound("That partner no longer exists.")
    return partner


async def _partner_of(uow: UnitOfWork, registration: Registration) -> Partner:
    partner = await uow.partners.get(registration.partner_id)
    if partner is None:  # pragma: no cover - a foreign key guards this
        raise NotFound("The partner of this registration no longer exists.")
    return partner
