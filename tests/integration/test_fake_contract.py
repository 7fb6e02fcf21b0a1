"""The fake unit of work (tests/fakes) tells the same story as storage: one scenario through
the use cases, on SQLite, PostgreSQL and the fake, leaves the same registrations, findings,
working notes, audit trail and outbox. If storage changes what it keeps, this fails until
the fake follows (the service tests in tests/services rely on it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from domain.actor import Actor
from domain.conflicts import ClaimKind
from domain.crm import Account, Opportunity
from domain.messages import OutboxMessage, PartnerCard, ReviewCard
from domain.ownership import Resolution
from domain.ports import UnitOfWork
from domain.registration import DealDetails, Registration
from domain.services import (
    AddWorkingNote,
    Decide,
    Decision,
    LinkPartner,
    Resolve,
    Resubmit,
    SubmitRegistration,
)
from domain.slack_ids import SlackChannelId, SlackTeamId, SlackUserId
from tests.builders import HOST_TEAM, NOW, a_rep, an_approver, calling, services, some_details
from tests.fakes import FakeStorage
from tests.integration.conftest import NewUow

NewUnit = Callable[[], UnitOfWork]
SALES = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0SALES"))


def deal(customer: str, website: str) -> DealDetails:
    return some_details(company=customer, website=website, contact_email=f"buyer@{website}")


async def scenario(new_uow: NewUnit) -> dict[str, Any]:
    """Partners register overlapping deals against the CRM; the desk decides, resolves and
    asks; a partner answers and another withdraws. Returns what storage then holds."""
    clock = [NOW]

    def app() -> Any:
        clock[0] += timedelta(minutes=10)
        return services(new_uow, at=clock[0])

    async with new_uow() as uow:
        await uow.crm.upsert_accounts(
            [Account("0011", "Initech", domain="initech.com", owner_slack_id="U0AE")]
        )
        await uow.crm.upsert_opportunities(
            [Opportunity("0061", "0011", "Hooli", domain="hooli.com", stage="Proposal")]
        )
        await uow.commit()
    teams = (SlackTeamId("T0NW"), SlackTeamId("T0GX"), SlackTeamId("T0UM"))
    partners = [
        await app().partners.link(
            LinkPartner(name, "Gold", SlackChannelId(f"C0{team}"), slack_team_id=team)
        )
        for name, team in zip(("Northwind", "Globex", "Umbrella"), teams, strict=True)
    ]
    reps = [
        calling(a_rep(team_id=team), p.channel_id) for team, p in zip(teams, partners, strict=True)
    ]

    async def submit(n: int, details: DealDetails) -> Registration:
        outcome = await app().registrations.submit(SubmitRegistration(details), reps[n])
        registration: Registration = outcome.registration
        return registration

    initech = [await submit(n, deal("Initech", "initech.com")) for n in (0, 1)]
    hooli = await submit(2, deal("Hooli", "hooli.com"))
    lookalike = await submit(2, deal("Initehc", "initehc.net"))
    vandelay = await submit(0, deal("Vandelay Imports", "vandelay.com"))
    await app().conflicts.note_working(AddWorkingNote(initech[0].id or 0, "Demo."), calling(SALES))
    await app().conflicts.resolve(
        Resolve(initech[1].id or 0, initech[1].version, Resolution.co_sell, "Shared."),
        calling(an_approver()),
    )
    await app().decisions.decide(
        Decide(vandelay.id or 0, vandelay.version, Decision.approve), calling(an_approver())
    )
    asked = await app().decisions.decide(
        Decide(hooli.id or 0, hooli.version, Decision.request_info, note="Which office?"),
        calling(an_approver(1)),
    )
    await app().registrations.resubmit(
        Resubmit(asked.id or 0, asked.version, deal("Vandelay Imports", "vandelay.com")), reps[2]
    )
    await app().registrations.withdraw(lookalike.id or 0, reps[2])
    return await holdings(new_uow)


async def holdings(new_uow: NewUnit) -> dict[str, Any]:
    """What storage holds, by reference (never by id)."""
    held: dict[str, Any] = {"findings": {}, "citing": {}, "working": {}}
    async with new_uow() as uow:
        trail = [record async for record in uow.registrations.audit_log()]
        held["trail"] = [
            (r.reference, r.event.action, r.event.actor.user_id, r.event.at) for r in trail
        ]
        named = {ref: await uow.registrations.get_by_reference(ref) for ref, *_ in held["trail"]}
        registrations = {r.id or 0: r for r in named.values() if r is not None}
        ids = {rid: r.reference for rid, r in registrations.items()}
        held["registrations"] = [
            (r.reference, r.status, r.version, r.details.company) for r in registrations.values()
        ]
        for rid, found in (await uow.findings.for_registrations(list(ids))).items():
            held["findings"][ids[rid]] = [
                (_label(f.claim.kind, f.claim.reference, f.claim.external_id), f.strength)
                for f in found
            ]
        counts = await uow.conflicts.finding_counts(list(ids))
        held["counts"] = {ids[rid]: c for rid, c in counts.items()}
        for rid, reference in ids.items():
            held["citing"][reference] = sorted(ids[c] for c in await uow.findings.citing([rid]))
            notes = await uow.findings.working_notes(rid)
            held["working"][reference] = [(n.by_user_id, n.at, n.note) for n in notes]
        held["pending"] = await uow.outbox.pending_count()
        partners = await uow.partners.list_all()
        held["partners"] = [(p.name, p.code, p.slack_team_id) for p in partners]
        held["by_partner"] = {
            p.name: [r.reference for r in await uow.registrations.list_by_partner(p.id or 0)]
            for p in partners
        }
        held["open"] = [r.reference for r in await uow.registrations.list_open()]
        held["snapshot"] = await _snapshot(uow, ids)
    return held


async def _snapshot(uow: UnitOfWork, ids: dict[int, str]) -> tuple[Any, ...]:
    """What the outbox would show of every registration's cards, by reference."""
    shown: list[OutboxMessage] = [ReviewCard(rid) for rid in ids]
    shown += [PartnerCard(rid) for rid in ids]
    snap = await uow.deliveries.snapshot(shown)
    return (
        sorted(r.reference for r in snap.registrations.values()),
        sorted(p.name for p in snap.partners.values()),
        {ids[rid]: counts for rid, counts in snap.counts.items()},
        {
            ids[rid]: [
                (_label(f.claim.kind, f.claim.reference, f.claim.external_id), f.strength)
                for f in found
            ]
            for rid, found in snap.findings.items()
            if found
        },
        {
            ids[rid]: [(n.by_user_id, n.at, n.note) for n in notes]
            for rid, notes in snap.working.items()
            if notes
        },
        snap.refs,
    )


def _label(kind: ClaimKind, reference: str | None, external_id: str | None) -> str:
    """The claim by reference (a registration) or CRM id (an account or opportunity)."""
    return f"{kind.value} {reference if kind is ClaimKind.registration else external_id}"


async def test_the_fake_holds_what_storage_holds_after_the_same_use_cases(
    new_uow: NewUow,
) -> None:
    on_storage = await scenario(new_uow)
    on_the_fake = await scenario(FakeStorage().uow)

    assert on_the_fake == on_storage
