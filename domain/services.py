"""Use cases, shared by the Slack handlers and the CLI. Slack-free, SQL-free, clock passed in."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.actor import Actor
from domain.audit_trail import moved_by
from domain.checks import screen
from domain.conflicts import ClaimKind, ConflictFinding, ConflictRules, company_ref
from domain.errors import (
    ConcurrentUpdate,
    DomainError,
    DuplicateSubmission,
    InvalidInput,
    NotAllowed,
    NotFound,
    UnknownPartner,
)
from domain.messages import (
    MessageKind,
    Notice,
    OutboxMessage,
    cards_for,
    case_grew,
    claims_moved,
    evidence_for,
    working_notices,
)
from domain.ownership import StoredFinding, live_conflicts
from domain.partner import Partner, check_code, derive_code, resolve_partner
from domain.policy import DeskPolicy, ProgramPolicy, can_administer, can_decide, is_internal
from domain.ports import UnitOfWork
from domain.registration import (
    DealDetails,
    Registration,
    RegistrationStatus,
    RejectionReason,
    parse_reference,
)

logger = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]

NOT_LINKED = (
    "Your organisation is not linked to Dibs yet. Ask your channel manager to run "
    "`/dibs setup` in this channel."
)


class ConflictToSettle(DomainError):
    """An approval asked for a registration whose check found a claim that still holds: the
    desk settles the conflict (deciding who owns the customer) instead of approving it."""

    code = "conflict_to_settle"

    def __init__(self, registration: Registration) -> None:
        super().__init__(
            f"{registration.reference} overlaps an existing claim on this customer: settle the"
            " conflict in the thread under its review card, which asks who owns the customer."
        )
        self.registration = registration


class AlreadyDecided(ConcurrentUpdate):
    """Someone decided (or changed) the registration first: where it stands now and, when
    known, `by` whom it was moved there. The message names nobody (partners read it too)."""

    def __init__(self, registration: Registration, *, by: Actor | None = None) -> None:
        super().__init__(
            f"{registration.reference} is already {registration.status.label.lower()}."
        )
        self.registration = registration
        self.by = by


# ---------------------------------------------------------------------------- identity


async def partner_for_channel(channel_id: str, *, uow: UnitOfWork) -> Partner | None:
    """The partner linked to a shared channel, if any."""
    async with uow:
        return await uow.partners.get_by_channel(channel_id)


async def acting_partner(
    actor: Actor, *, channel_id: str | None, host_team_id: str, uow: UnitOfWork
) -> Partner:
    """Whom this actor, in this channel, speaks for (UnknownPartner if nobody is linked)."""
    async with uow:
        return await _acting_partner(actor, channel_id, host_team_id=host_team_id, uow=uow)


async def _acting_partner(
    actor: Actor, channel_id: str | None, *, host_team_id: str, uow: UnitOfWork
) -> Partner:
    """External actors speak for their own organisation (enterprise, team, then channel);
    internal staff act for the partner whose channel they are in. Needs an open `uow`."""
    if is_internal(actor, host_team_id=host_team_id):
        partner = await uow.partners.get_by_channel(channel_id) if channel_id else None
        if partner is None:
            raise UnknownPartner("This channel is not linked to a partner. Run `/dibs setup`.")
        return partner
    candidates = await uow.partners.find_for_actor(
        team_id=actor.team_id, enterprise_id=actor.enterprise_id, channel_id=channel_id
    )
    partner = resolve_partner(actor, channel_id=channel_id, partners=candidates)
    if partner is None:
        raise UnknownPartner(NOT_LINKED)
    return partner


# ---------------------------------------------------------------------------- partners


@dataclass(frozen=True, slots=True)
class LinkPartner:
    name: str
    tier: str
    channel_id: str
    slack_team_id: str | None = None
    slack_enterprise_id: str | None = None
    manager_user_id: str | None = None
    code: str | None = None
    """The partner's short code for its references (`NW`); None: a new partner gets one
    derived from its name, a partner already linked keeps its own."""


DESK_NOT_A_PARTNER = (
    "That is the deal-desk channel ([desk] channel): it stays internal and is never linked to "
    "a partner. Link the partner's own shared channel."
)


async def link_partner(
    cmd: LinkPartner, *, uow: UnitOfWork, now: datetime, desk_channel_id: str
) -> Partner:
    """Link a partner organisation to its shared channel (or update the link) and queue the
    launcher message there. Never the desk channel (`desk_channel_id`): partners would read
    the review cards and conflict evidence posted there. A new `code` numbers the partner's
    future registrations; those it already has keep their references."""
    if cmd.channel_id == desk_channel_id:
        raise NotAllowed(DESK_NOT_A_PARTNER)
    name, tier = cmd.name.strip(), cmd.tier.strip()
    if not name:
        raise InvalidInput("Give the partner a name.", field="name")
    if not tier:
        raise InvalidInput("Give the partner a tier.", field="tier")
    code = None if cmd.code is None else check_code(cmd.code)
    async with uow:
        partner = await uow.partners.get_by_channel(cmd.channel_id)
        code = await _choose_code(uow, partner, name=name, code=code)
        if partner is None:
            partner = Partner(
                id=None,
                name=name,
                tier=tier,
                channel_id=cmd.channel_id,
                slack_team_id=cmd.slack_team_id,
                slack_enterprise_id=cmd.slack_enterprise_id,
                manager_user_id=cmd.manager_user_id,
                code=code,
            )
            await uow.partners.add(partner)
        else:
            partner.code = code
            partner.name, partner.tier = name, tier
            partner.slack_team_id = cmd.slack_team_id or partner.slack_team_id
            partner.slack_enterprise_id = cmd.slack_enterprise_id or partner.slack_enterprise_id
            partner.manager_user_id = cmd.manager_user_id or partner.manager_user_id
            await uow.partners.save(partner)
        await uow.outbox.put([OutboxMessage(MessageKind.launcher, partner_id=partner.id)], now=now)
        await uow.commit()
    logger.info("partner %s linked to channel %s", partner.id, partner.channel_id)
    return partner


async def check_partner_code(code: str, *, channel_id: str, uow: UnitOfWork) -> str:
    """The code as it will be stored, or InvalidInput when it is malformed or another partner
    (not the one linked to `channel_id`) holds it: lets a form say so next to the field."""
    checked = check_code(code)
    async with uow:
        partner = await uow.partners.get_by_channel(channel_id)
        await _choose_code(uow, partner, name="", code=checked)
    return checked


async def _choose_code(
    uow: UnitOfWork, partner: Partner | None, *, name: str, code: str | None
) -> str:
    """`code` if no other partner holds it, now or in its registrations' references (a code
    is never reused: references stay unique); else the partner's own code, else one derived
    from `name` that nobody holds."""
    others = {
        other.code: other
        for other in await uow.partners.list_all()
        if other.code and (partner is None or other.id != partner.id)
    }
    if code is not None:
        holder = others.get(code)
        if holder is None and (earlier := await _used_by_other(uow, code, partner)):
            holder = await uow.partners.get(earlier)
        if holder is not None:
            raise InvalidInput(
                f"The code {code} is taken by {holder.name}; pick another.", field="code"
            )
        return code
    if partner is not None and partner.code:
        return partner.code
    taken = set(others)
    while await _used_by_other(uow, candidate := derive_code(name, taken), partner):
        taken.add(candidate)
    return candidate


async def _used_by_other(uow: UnitOfWork, code: str, partner: Partner | None) -> int | None:
    """The other partner whose registrations' references were made with `code`, if any."""
    user = await uow.registrations.partner_numbered_with(code)
    return None if user is None or (partner is not None and user == partner.id) else user


async def list_partners(*, uow: UnitOfWork) -> list[Partner]:
    async with uow:
        return await uow.partners.list_all()


# ---------------------------------------------------------------------------- submission


@dataclass(frozen=True, slots=True)
class SubmitRegistration:
    """A filled-in form. The partner is the actor's own organisation (found through
    `channel_id` where the form was opened), or `partner_id` picked by internal staff."""

    details: DealDetails
    by: Actor
    channel_id: str | None = None
    partner_id: int | None = None
    submission_key: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    registration: Registration
    partner: Partner
    duplicate: bool = False
    findings: tuple[ConflictFinding, ...] = ()


async def submit_registration(
    cmd: SubmitRegistration,
    *,
    uow: UnitOfWork,
    now: datetime,
    program: ProgramPolicy,
    host_team_id: str,
    rules: ConflictRules | None = None,
) -> SubmitOutcome:
    """Store a new registration with its conflict findings, its audit trail and the cards it
    owes, in one transaction. Submitting the same form twice yields the first registration."""
    rules = rules or ConflictRules()
    try:
        async with uow:
            partner = await _submitting_partner(cmd, uow=uow, host_team_id=host_team_id)
            ref = company_ref(cmd.details)
            findings = await screen(ref, uow=uow, rules=rules, now=now)
            registration = Registration.submit(
                partner_id=partner.id or 0,
                details=cmd.details,
                by=cmd.by,
                now=now,
                review_sla=program.review_sla,
                submission_key=cmd.submission_key,
            )
            await uow.registrations.add(registration)
            assert registration.id is not None
            waiting = _waiting_claims(findings)
            await uow.conflicts.add_findings(
                registration.id, findings, found_at=now, mirror_to=waiting
            )
            await uow.outbox.put(
                [
                    OutboxMessage(MessageKind.partner_card, registration_id=registration.id),
                    OutboxMessage(MessageKind.review_card, registration_id=registration.id),
                    *evidence_for(registration.id, findings),
                    *case_grew(sorted(waiting)),
                ],
                now=now,
            )
            await uow.commit()
    except DuplicateSubmission:
        if cmd.submission_key is None:  # pragma: no cover - only keys can collide
            raise
        async with uow:
            first = await uow.registrations.get_by_submission_key(cmd.submission_key)
            partner_of_first = await uow.partners.get(first.partner_id) if first else None
        if first is None or partner_of_first is None:  # pragma: no cover - it committed
            raise
        return SubmitOutcome(first, partner_of_first, duplicate=True)
    logger.info(
        "registration %s submitted by %s/%s with %d findings",
        registration.id,
        cmd.by.team_id,
        cmd.by.user_id,
        len(findings),
    )
    return SubmitOutcome(registration, partner, findings=tuple(findings))


async def _submitting_partner(
    cmd: SubmitRegistration, *, uow: UnitOfWork, host_team_id: str
) -> Partner:
    if cmd.partner_id is None:
        return await _acting_partner(cmd.by, cmd.channel_id, host_team_id=host_team_id, uow=uow)
    if not is_internal(cmd.by, host_team_id=host_team_id):
        raise NotAllowed("Only the vendor's team can register for another partner.")
    partner = await uow.partners.get(cmd.partner_id)
    if partner is None:
        raise NotFound("That partner no longer exists.")
    return partner


@dataclass(frozen=True, slots=True)
class Resubmit:
    registration_id: int
    version: int
    details: DealDetails
    by: Actor


async def resubmit_registration(
    cmd: Resubmit,
    *,
    uow: UnitOfWork,
    now: datetime,
    host_team_id: str,
    desk: DeskPolicy,
    rules: ConflictRules | None = None,
) -> RegistrationWithPartner:
    """The partner answers an info request with updated details; back to the desk, with the
    conflict check run again on the new details (its findings replace the old ones)."""
    rules = rules or ConflictRules()
    async with uow:
        registration = await _load(uow, cmd.registration_id)
        await _require_partner_side(
            cmd.by, registration, uow=uow, host_team_id=host_team_id, desk=desk
        )
        if registration.status is not RegistrationStatus.info_requested:
            raise AlreadyDecided(registration)
        _check_version(registration, cmd.version)
        registration.resubmit(by=cmd.by, now=now, details=cmd.details)
        findings = await screen(
            company_ref(cmd.details),
            uow=uow,
            rules=rules,
            now=now,
            exclude_registration_id=cmd.registration_id,
        )
        had = await uow.conflicts.finding_counts([cmd.registration_id])
        named_before = await uow.findings.citing([cmd.registration_id])
        waiting = _waiting_claims(findings)
        await uow.conflicts.add_findings(
            cmd.registration_id, findings, found_at=now, replace=True, mirror_to=waiting
        )
        partner = await uow.partners.get(registration.partner_id)
        # The evidence is laid out again when there was or is any: a thread whose claims
        # all went away says so instead of keeping its buttons. So are the cases of the
        # registrations it overlapped before or overlaps now.
        await _save_with_messages(
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
    if partner is None:  # pragma: no cover - a foreign key guards this
        raise NotFound("The partner of this registration no longer exists.")
    return RegistrationWithPartner(registration, partner)


# ---------------------------------------------------------------------------- decisions


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"
    request_info = "request_info"


@dataclass(frozen=True, slots=True)
class Decide:
    registration_id: int
    version: int
    by: Actor
    decision: Decision
    reason: RejectionReason | None = None
    note: str | None = None


async def decide_registration(
    cmd: Decide,
    *,
    uow: UnitOfWork,
    now: datetime,
    program: ProgramPolicy,
    desk: DeskPolicy,
    host_team_id: str,
) -> Registration:
    """Approve, reject or ask for info. Exactly one of two racing decisions wins; the other
    gets AlreadyDecided naming the winner."""
    if not can_decide(cmd.by, desk=desk, host_team_id=host_team_id):
        raise NotAllowed("Only the deal desk's approvers can decide registrations.")
    try:
        async with uow:
            registration = await _load(uow, cmd.registration_id)
            _check_version(registration, cmd.version)
            if cmd.decision is Decision.approve:
                findings = await uow.findings.for_registration(cmd.registration_id)
                waiting = registration.status is RegistrationStatus.under_review
                if waiting and live_conflicts(cmd.registration_id, findings, now=now):
                    raise ConflictToSettle(registration)
                registration.approve(by=cmd.by, now=now, protection=program.protection)
                notice = Notice.approved
            elif cmd.decision is Decision.reject:
                if cmd.reason is None:
                    raise InvalidInput("Pick a reason.", field="reason")
                registration.reject(by=cmd.by, now=now, reason=cmd.reason, note=cmd.note)
                notice = Notice.rejected
            else:
                registration.request_info(by=cmd.by, now=now, question=cmd.note or "")
                notice = Notice.info_requested
            working = await _working_notices(uow, registration, cmd.decision)
            await _save_with_messages(uow, registration, cmd.version, notice, now=now, also=working)
    except ConcurrentUpdate as race:
        async with uow:
            winner = await _load(uow, cmd.registration_id)
            by = await moved_by(uow, winner)
        raise AlreadyDecided(winner, by=by) from race
    logger.info(
        "registration %s %s by %s/%s", registration.id, cmd.decision, cmd.by.team_id, cmd.by.user_id
    )
    return registration


async def _working_notices(
    uow: UnitOfWork, registration: Registration, decision: Decision
) -> list[OutboxMessage]:
    """A decision on the review card tells whoever said "I'm working this" on the
    registration how it went, once each, as a resolution of the conflict would (a question
    to the partner decides nothing, so it tells nobody)."""
    if decision is Decision.request_info:
        return []
    assert registration.id is not None
    reason = registration.rejection_reason.label if registration.rejection_reason else ""
    if reason and registration.decision_note:
        reason += f": {registration.decision_note}"
    disputes = await uow.findings.disputes(registration.id)
    return working_notices(
        registration.id, (d.by_user_id for d in disputes), decision=decision.value, reason=reason
    )


async def registration_to_decide(
    registration_id: int, version: int, *, uow: UnitOfWork
) -> Registration:
    """The registration an approver is about to decide, still as they saw it (`version`);
    AlreadyDecided, naming who moved it, when it was decided or changed since."""
    async with uow:
        registration = await _load(uow, registration_id)
        if registration.version == version and not registration.is_decided:
            return registration
        by = await moved_by(uow, registration)
    raise AlreadyDecided(registration, by=by)


@dataclass(frozen=True, slots=True)
class Withdraw:
    registration_id: int
    by: Actor


async def withdraw_registration(
    cmd: Withdraw, *, uow: UnitOfWork, now: datetime, host_team_id: str, desk: DeskPolicy
) -> Registration:
    """The partner takes its registration back before the desk decides."""
    try:
        async with uow:
            registration = await _load(uow, cmd.registration_id)
            await _require_partner_side(
                cmd.by, registration, uow=uow, host_team_id=host_team_id, desk=desk
            )
            if registration.is_decided:
                raise AlreadyDecided(registration)
            expected = registration.version
            registration.withdraw(by=cmd.by, now=now)
            await _save_with_messages(uow, registration, expected, Notice.withdrawn, now=now)
    except ConcurrentUpdate as race:
        if isinstance(race, AlreadyDecided):
            raise
        async with uow:
            winner = await _load(uow, cmd.registration_id)
        raise AlreadyDecided(winner) from race
    return registration


# ---------------------------------------------------------------------------- queries


@dataclass(frozen=True, slots=True)
class RegistrationWithPartner:
    registration: Registration
    partner: Partner
    findings: tuple[StoredFinding, ...] = ()
    """The claims its check found, as they are now (loaded where the desk looks at it)."""


async def get_registration(registration_id: int, *, uow: UnitOfWork) -> RegistrationWithPartner:
    async with uow:
        registration = await _load(uow, registration_id)
        partner = await uow.partners.get(registration.partner_id)
    if partner is None:  # pragma: no cover - a foreign key guards this
        raise NotFound("The partner of this registration no longer exists.")
    return RegistrationWithPartner(registration, partner)


async def find_registration(text: str, *, uow: UnitOfWork) -> RegistrationWithPartner:
    """The registration a typed reference names (`NW-0007`, any case; a legacy `DR-0012` or
    `DR-12`); InvalidInput when `text` is no reference, NotFound when none has it."""
    reference = parse_reference(text)
    if reference is None:
        shown = text.strip()[:40] or "Nothing"
        raise InvalidInput(
            f"{shown} is not a registration reference; they look like NW-0007.",
            field="reference",
        )
    async with uow:
        registration = await uow.registrations.get_by_reference(reference)
        partner = None if registration is None else await uow.partners.get(registration.partner_id)
    if registration is None or partner is None:
        raise NotFound(f"No registration {reference}.")
    return RegistrationWithPartner(registration, partner)


async def partner_registrations(partner_id: int, *, uow: UnitOfWork) -> list[Registration]:
    """A partner's own registrations, newest first; never anyone else's."""
    async with uow:
        return await uow.registrations.list_by_partner(partner_id)


async def open_registrations(*, uow: UnitOfWork, limit: int = 50) -> list[RegistrationWithPartner]:
    """Registrations waiting for a decision, oldest first, with their partners and the
    claims their checks found (so the desk sees which ones are conflicts to settle)."""
    async with uow:
        registrations = await uow.registrations.list_open(limit=limit)
        partners = await uow.partners.get_many({r.partner_id for r in registrations})
        found = await uow.findings.for_registrations([r.id for r in registrations if r.id])
    return [
        RegistrationWithPartner(r, partners[r.partner_id], tuple(found.get(r.id or 0, ())))
        for r in registrations
    ]


async def open_for_partner(
    registration_id: int, *, actor: Actor, uow: UnitOfWork, host_team_id: str, desk: DeskPolicy
) -> RegistrationWithPartner:
    """A registration waiting for the partner's answer, for that partner's people only."""
    async with uow:
        registration = await _load(uow, registration_id)
        await _require_partner_side(
            actor, registration, uow=uow, host_team_id=host_team_id, desk=desk
        )
        partner = await uow.partners.get(registration.partner_id)
    if registration.status is not RegistrationStatus.info_requested:
        raise AlreadyDecided(registration)
    if partner is None:  # pragma: no cover - a foreign key guards this
        raise NotFound("The partner of this registration no longer exists.")
    return RegistrationWithPartner(registration, partner)


async def record_event(event_id: str, *, uow: UnitOfWork, now: datetime) -> bool:
    """Remember an Events API delivery; False when Slack already delivered it (a retry)."""
    async with uow:
        first = await uow.receipts.first_time(event_id, now=now)
        await uow.commit()
    return first


# ---------------------------------------------------------------------------- helpers


async def _load(uow: UnitOfWork, registration_id: int) -> Registration:
    registration = await uow.registrations.get(registration_id)
    if registration is None:
        raise NotFound("That registration does not exist.")
    return registration


def _waiting_claims(findings: Sequence[ConflictFinding]) -> set[int]:
    """The registrations among the claims found that still wait for a decision: each gets
    the finding too, so its review card and evidence show this registration as well."""
    return {
        f.claim.id
        for f in findings
        if f.claim.kind is ClaimKind.registration and f.claim.status and f.claim.status.is_open
    }


def _check_version(registration: Registration, version: int) -> None:
    if registration.version != version:
        raise AlreadyDecided(registration)


async def _require_partner_side(
    actor: Actor,
    registration: Registration,
    *,
    uow: UnitOfWork,
    host_team_id: str,
    desk: DeskPolicy,
) -> None:
    """Only the registering partner's people (or desk staff) act for the partner."""
    if is_internal(actor, host_team_id=host_team_id):
        if can_decide(actor, desk=desk, host_team_id=host_team_id) or can_administer(
            actor, desk=desk, host_team_id=host_team_id
        ):
            return
        raise NotAllowed("Only the partner or the deal desk can do that.")
    partner = await uow.partners.get(registration.partner_id)
    candidates = await uow.partners.find_for_actor(
        team_id=actor.team_id,
        enterprise_id=actor.enterprise_id,
        channel_id=partner.channel_id if partner else None,
    )
    mine = resolve_partner(
        actor, channel_id=partner.channel_id if partner else None, partners=candidates
    )
    if mine is None or mine.id != registration.partner_id:
        raise NotAllowed("Only the partner that registered this deal can do that.")


async def _save_with_messages(
    uow: UnitOfWork,
    registration: Registration,
    expected_version: int,
    notice: Notice,
    *,
    now: datetime,
    evidence: Sized | None = None,
    also: Sequence[OutboxMessage] = (),
    **data: str,
) -> None:
    """Save the move and queue both cards and notices; when the registration has findings
    (or, when given, `evidence` is not empty), its evidence message too (it drops the
    resolution buttons once the case is decided). The evidence of registrations still in
    review that name this one as a claim is brought up to date as well."""
    assert registration.id is not None
    await uow.registrations.save(registration, expected_version=expected_version)
    if evidence is None:
        evidence = await uow.conflicts.finding_counts([registration.id])
    messages = [
        *cards_for(registration.id, notice=notice, **data),
        *evidence_for(registration.id, evidence),
        *claims_moved(sorted(await uow.findings.citing([registration.id]))),
        *also,
    ]
    await uow.outbox.put(messages, now=now)
    await uow.commit()
