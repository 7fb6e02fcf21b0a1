"""The use cases on the in-memory fake (`tests/fakes`): fast, no database.

Storage itself (SQL candidate narrowing, the key index's caps, PostgreSQL races) is tested in
`tests/integration`, the Slack edge in `tests/slack`; these test what the services decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from domain.actor import Actor, Caller
from domain.conflicts import ClaimKind
from domain.crm import Account, Opportunity
from domain.messages import MessageKind, OutboxMessage
from domain.partner import Partner
from domain.registration import DealDetails, Registration, RejectionReason
from domain.services import Decide, Decision, Services, SubmitRegistration
from tests.builders import NOW, a_partner, a_rep, an_approver, calling, services, some_details
from tests.fakes import FakeStorage, FixedClock

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class World:
    """The fake storage, its clock, and the use cases bound to both."""

    storage: FakeStorage
    clock: FixedClock
    app: Services

    async def partner(self, team: str, **fields: Any) -> Partner:
        """A stored partner whose people are in Slack team `team`."""
        partner = a_partner(id=None, slack_team_id=team, **fields)
        async with self.storage.uow() as uow:
            await uow.partners.add(partner)
            await uow.commit()
        return partner

    async def partners(self, count: int) -> list[Partner]:
        return [await self.partner(f"T0PARTNER{n}") for n in range(count)]

    async def register(
        self, partner: Partner, customer: str = "Initech", *, key: str | None = None
    ) -> Registration:
        """`partner` registers `customer` (its registrations overlap by the customer's name)."""
        return await self.submit(partner, deal(customer), key=key)

    async def submit(
        self, partner: Partner, details: DealDetails, *, key: str | None = None
    ) -> Registration:
        """One of `partner`'s reps submits `details`, an hour after the clock's last move
        (the clock moves on an hour, so each registration is later than the one before)."""
        self.clock.advance(HOUR)
        outcome = await self.app.registrations.submit(
            SubmitRegistration(details, submission_key=key), rep_of(partner)
        )
        return outcome.registration

    async def crm(self, *accounts: Account, opportunities: Iterable[Opportunity] = ()) -> None:
        """What `dibs import accounts` / `opportunities` store."""
        async with self.storage.uow() as uow:
            await uow.crm.upsert_accounts(list(accounts))
            await uow.crm.upsert_opportunities(list(opportunities))
            await uow.commit()

    async def decide(
        self,
        registration: Registration,
        decision: Decision,
        reason: RejectionReason | None = None,
        note: str | None = None,
        *,
        by: Actor | None = None,
    ) -> Registration:
        """An approver's click on the review card of `registration` as it is now."""
        current = await self.now(registration)
        command = Decide(current.id or 0, current.version, decision, reason, note)
        return await self.app.decisions.decide(command, calling(by or an_approver()))

    async def named_by(self, registration: Registration) -> list[int]:
        """The registrations `registration`'s stored findings name."""
        async with self.storage.uow() as uow:
            found = await uow.findings.for_registration(registration.id or 0)
        return [f.claim.id for f in found if f.claim.kind is ClaimKind.registration]

    async def now(self, registration: Registration) -> Registration:
        """The registration as stored now."""
        async with self.storage.uow() as uow:
            found = await uow.registrations.get(registration.id or 0)
        assert found is not None
        return found


@pytest.fixture
def world() -> World:
    storage, clock = FakeStorage(), FixedClock(NOW)
    return World(storage, clock, services(storage.uow, clock=clock))


def deal(customer: str = "Initech") -> DealDetails:
    """A deal for `customer` at its `.example` website (which gives no domain signal: deals
    for one customer overlap by its name)."""
    slug = customer.split(maxsplit=1)[0].lower()
    return some_details(
        company=customer,
        website=f"{slug}.example",
        contact_email=f"buyer@{slug}.example",
        country="DE",
    )


def rep_of(partner: Partner) -> Caller:
    """One of `partner`'s reps, in its channel."""
    return calling(a_rep(team_id=partner.slack_team_id), partner.channel_id)


def sent(messages: Iterable[OutboxMessage]) -> list[tuple[MessageKind, int | None]]:
    """What the messages are and whom they are about (their payloads are another matter)."""
    return [(m.kind, m.registration_id) for m in messages]


def cards(registration_id: int) -> list[tuple[MessageKind, int | None]]:
    """Both cards refreshed and both sides told: what every move of a registration owes."""
    return [
        (MessageKind.partner_card, registration_id),
        (MessageKind.review_card, registration_id),
        (MessageKind.partner_notice, registration_id),
        (MessageKind.desk_notice, registration_id),
    ]
