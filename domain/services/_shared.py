"""Steps several use cases take inside their open unit of work."""

from __future__ import annotations

from collections.abc import Sequence, Sized
from datetime import datetime

from domain.actor import Actor, Caller
from domain.conflicts import (
    ACTIVE_STATUSES,
    ClaimKind,
    ConflictFinding,
    ConflictRules,
    find_conflicts,
)
from domain.errors import AlreadyDecided, NotAllowed, NotFound, UnknownPartner
from domain.matching import CompanyRef
from domain.messages import Notice, OutboxMessage, cards_for, claims_moved, evidence_for
from domain.partner import Partner, resolve_partner
from domain.policy import DeskPolicy, can_administer, can_decide
from domain.ports import UnitOfWork
from domain.registration import Registration


async def load(uow: UnitOfWork, registration_id: int) -> Registration:
    """The registration, or NotFound."""
    registration = await uow.registrations.get(registration_id)
    if registration is None:
        raise NotFound("That registration does not exist.")
    return registration


async def moved_by(uow: UnitOfWork, registration: Registration) -> Actor | None:
    """Who moved the registration into the status it has now, by its audit trail (a request
    for info is no decision, so `decided_by` does not say who asked)."""
    assert registration.id is not None
    history = await uow.registrations.history(registration.id)
    for event in reversed(history):
        if event.to_status is registration.status and event.from_status is not event.to_status:
            return event.actor
    return registration.decided_by


async def decided_first(uow: UnitOfWork, registration: Registration) -> AlreadyDecided:
    """The race lost on `registration`: where it stands and who moved it there."""
    return AlreadyDecided(registration, by=await moved_by(uow, registration))


def require_version(registration: Registration, version: int) -> None:
    """AlreadyDecided unless the registration is still as the caller saw it (`version`)."""
    if registration.version != version:
        raise AlreadyDecided(registration)


async def screen(
    uow: UnitOfWork,
    ref: CompanyRef,
    *,
    rules: ConflictRules,
    now: datetime,
    exclude_registration_id: int | None = None,
) -> list[ConflictFinding]:
    """The claims on `ref`, strongest first: storage narrows the candidates by indexed keys,
    `find_conflicts` judges them."""
    claims = await uow.conflicts.claims_for_keys(
        rules.lookup_keys(ref),
        exclude_registration_id=exclude_registration_id,
        active_statuses=ACTIVE_STATUSES,
        now=now,
        screen=rules.screen_for(ref),
    )
    return find_conflicts(
        ref,
        claims,
        rules,
        now=now,
        exclude_registration_id=exclude_registration_id,
    )


def waiting_claims(findings: Sequence[ConflictFinding]) -> set[int]:
    """The registrations among the claims found that still wait for a decision: each gets
    the finding too, so its review card and evidence show the registration that found it."""
    return {
        f.claim.id
        for f in findings
        if f.claim.kind is ClaimKind.registration and f.claim.status and f.claim.status.is_open
    }


async def acting_partner(uow: UnitOfWork, caller: Caller) -> Partner:
    """Whom the caller speaks for: a partner's people for their own organisation (enterprise,
    team, then the channel), staff for the partner whose channel they are in."""
    if caller.internal:
        partner = (
            await uow.partners.get_by_channel(caller.channel_id) if caller.channel_id else None
        )
        if partner is None:
            raise UnknownPartner(UnknownPartner.CHANNEL_NOT_LINKED)
        return partner
    actor = caller.actor
    candidates = await uow.partners.find_for_actor(
        team_id=actor.team_id, enterprise_id=actor.enterprise_id, channel_id=caller.channel_id
    )
    partner = resolve_partner(actor, channel_id=caller.channel_id, partners=candidates)
    if partner is None:
        raise UnknownPartner(UnknownPartner.NOT_LINKED)
    return partner


async def require_partner_side(
    uow: UnitOfWork, caller: Caller, registration: Registration, desk: DeskPolicy
) -> None:
    """Only the registering partner's people (or the desk's approvers and admins) act for
    the partner on its registration."""
    if caller.internal:
        if can_decide(caller, desk) or can_administer(caller, desk):
            return
        raise NotAllowed(NotAllowed.PARTNER_OR_DESK)
    partner = await uow.partners.get(registration.partner_id)
    channel = partner.channel_id if partner else None
    actor = caller.actor
    candidates = await uow.partners.find_for_actor(
        team_id=actor.team_id, enterprise_id=actor.enterprise_id, channel_id=channel
    )
    mine = resolve_partner(actor, channel_id=channel, partners=candidates)
    if mine is None or mine.id != registration.partner_id:
        raise NotAllowed(NotAllowed.OWN_PARTNER)


async def save_move(
    uow: UnitOfWork,
    registration: Registration,
    expected_version: int,
    notice: Notice,
    *,
    now: datetime,
    evidence: Sized | None = None,
    also: Sequence[OutboxMessage] = (),
) -> None:
    """Save a move and queue both cards and notices, and commit. When the registration has
    findings (or, when given, `evidence` is not empty) its evidence is laid out again (it
    drops the resolution buttons once decided); registrations in review whose findings name
    it show it as it is now."""
    assert registration.id is not None
    await uow.registrations.save(registration, expected_version=expected_version)
    if evidence is None:
        evidence = await uow.conflicts.finding_counts([registration.id])
    messages = [
        *cards_for(registration.id, notice=notice),
        *evidence_for(registration.id, evidence),
        *claims_moved(sorted(await uow.findings.citing([registration.id]))),
        *also,
    ]
    await uow.outbox.put(messages, now=now)
    await uow.commit()
