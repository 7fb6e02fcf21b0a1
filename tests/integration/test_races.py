"""Races between real transactions: the use cases on storage, run concurrently."""

from __future__ import annotations

import asyncio
from collections import Counter

from domain.errors import AlreadyDecided
from domain.messages import Notice, cards_for
from domain.partner import Partner
from domain.registration import Registration, RejectionReason
from domain.services import Decide, Decision, SubmitRegistration
from tests.builders import PARTNER_TEAM, a_partner, a_rep, an_approver, calling, services
from tests.builders import some_details as details
from tests.integration.conftest import NewUow

ROUNDS = 5
CUSTOMERS = ("Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Soylent")
"""Customers nothing links: a registration of each overlaps no other, so Approve applies."""


async def submitted(
    new_uow: NewUow, partner: Partner, key: str | None = None, *, n: int = 0
) -> Registration:
    """One of `partner`'s reps registers customer `n` of `CUSTOMERS` from its channel."""
    assert partner.id is not None
    slug = CUSTOMERS[n % len(CUSTOMERS)].lower()
    deal = details(
        company=CUSTOMERS[n % len(CUSTOMERS)],
        website=f"{slug}.example",
        contact_email=f"buyer@{slug}.example",
    )
    rep = calling(a_rep(team_id=partner.slack_team_id or PARTNER_TEAM), partner.channel_id)
    command = SubmitRegistration(deal, submission_key=key)
    outcome = await services(new_uow).registrations.submit(command, rep)
    return outcome.registration


async def decide(new_uow: NewUow, registration: Registration, decision: Decision, n: int) -> object:
    """One approver's click, in its own unit of work; returns the result or the error."""
    assert registration.id is not None
    command = Decide(
        registration.id,
        registration.version,
        decision,
        reason=RejectionReason.not_qualified if decision is Decision.reject else None,
        note="Who is the buyer?" if decision is Decision.request_info else None,
    )
    try:
        return await services(new_uow).decisions.decide(command, calling(an_approver(n)))
    except AlreadyDecided as lost:
        return lost


class TestDecisionRace:
    async def test_exactly_one_of_two_racing_decisions_wins(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        registrations = [await submitted(new_uow, partner, n=n) for n in range(ROUNDS)]

        results = await asyncio.gather(
            *(
                decide(new_uow, registration, decision, n)
                for registration in registrations
                for n, decision in enumerate((Decision.approve, Decision.reject))
            )
        )

        async with new_uow() as uow:
            decisions = Counter(
                [
                    record.registration_id
                    async for record in uow.registrations.audit_log()
                    if record.event.action in ("approve", "reject")
                ]
            )
            stored = [await uow.registrations.get(r.id or 0) for r in registrations]
        pairs = [results[i : i + 2] for i in range(0, len(results), 2)]
        for registration, pair, current in zip(registrations, pairs, stored, strict=True):
            winners = [r for r in pair if isinstance(r, Registration)]
            losers = [r for r in pair if isinstance(r, AlreadyDecided)]
            assert (len(winners), len(losers)) == (1, 1), pair
            assert losers[0].registration.status is winners[0].status
            assert decisions[registration.id or 0] == 1
            assert current is not None
            assert current.status is winners[0].status
            assert current.version == 2

    async def test_the_loser_learns_who_won_even_when_it_was_an_info_request(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        registrations = [await submitted(new_uow, partner, n=n) for n in range(ROUNDS)]

        results = await asyncio.gather(
            *(
                decide(new_uow, registration, decision, n)
                for registration in registrations
                for n, decision in enumerate((Decision.request_info, Decision.approve))
            )
        )

        for pair in (results[i : i + 2] for i in range(0, len(results), 2)):
            [winner] = [r for r in pair if isinstance(r, Registration)]
            [loser] = [r for r in pair if isinstance(r, AlreadyDecided)]
            won_by = an_approver(pair.index(winner))
            assert loser.registration.status is winner.status
            assert loser.by == won_by

    async def test_the_loser_adds_no_messages(self, new_uow: NewUow, partner: Partner) -> None:
        registration = await submitted(new_uow, partner)
        async with new_uow() as uow:
            before = await uow.outbox.pending_count()

        await asyncio.gather(
            decide(new_uow, registration, Decision.approve, 0),
            decide(new_uow, registration, Decision.reject, 1),
        )

        async with new_uow() as uow:
            after = await uow.outbox.pending_count()
        assert registration.id is not None
        assert after - before == len(cards_for(registration.id, notice=Notice.approved))


class TestSubmissionRace:
    async def test_the_same_form_submitted_twice_at_once_makes_one_registration(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        assert partner.id is not None
        command = SubmitRegistration(details(), submission_key="view-V1")
        rep = calling(a_rep(), partner.channel_id)

        outcomes = await asyncio.gather(
            *(services(new_uow).registrations.submit(command, rep) for _ in range(2))
        )

        async with new_uow() as uow:
            stored = await uow.registrations.list_by_partner(partner.id)
            submissions = [
                record
                async for record in uow.registrations.audit_log()
                if record.event.action == "submit"
            ]
        assert len(stored) == 1
        assert {o.registration.id for o in outcomes} == {stored[0].id}
        assert sorted(o.duplicate for o in outcomes) == [False, True]
        assert len(submissions) == 1


class TestNumberingRace:
    async def test_concurrent_submissions_of_one_partner_get_distinct_consecutive_numbers(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        """On PostgreSQL the submissions truly overlap (two `dibs serve` processes); the row
        lock taken by numbering makes them take turns, so no number is given twice or lost."""
        registrations = await asyncio.gather(
            *(submitted(new_uow, partner) for _ in range(ROUNDS * 2))
        )

        assert sorted(r.reference for r in registrations) == [
            f"{partner.code}-{n:04d}" for n in range(1, ROUNDS * 2 + 1)
        ]
        async with new_uow() as uow:
            assert partner.id is not None
            stored = await uow.registrations.list_by_partner(partner.id)
        assert sorted(r.reference for r in stored) == sorted(r.reference for r in registrations)

    async def test_concurrent_submissions_of_two_partners_each_start_at_one(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        other = a_partner(id=None, slack_team_id="T0OTHER")
        async with new_uow() as uow:
            await uow.partners.add(other)
            await uow.commit()

        registrations = await asyncio.gather(
            *(submitted(new_uow, p) for _ in range(ROUNDS) for p in (partner, other))
        )

        by_partner = Counter(r.partner_id for r in registrations)
        assert by_partner == {partner.id: ROUNDS, other.id: ROUNDS}
        for p in (partner, other):
            assert sorted(r.reference for r in registrations if r.partner_id == p.id) == [
                f"{p.code}-{n:04d}" for n in range(1, ROUNDS + 1)
            ]
