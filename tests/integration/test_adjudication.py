"""Settling a conflict against real storage, on SQLite and PostgreSQL: one resolution moves
every registration involved in one transaction, and racing decisions leave one outcome."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from domain.actor import Actor
from domain.crm import Account, Opportunity
from domain.deliveries import OutboxEntry
from domain.errors import AlreadyDecided
from domain.matching import Strength
from domain.messages import DirectNotice, EvidenceHead, Notice, OutboxMessage, PartnerNotice, Still
from domain.ownership import Resolution
from domain.registration import Registration, RegistrationStatus, RejectionReason
from domain.services import (
    AddWorkingNote,
    Decide,
    Decision,
    Resolve,
    Resolved,
    SubmitRegistration,
)
from domain.slack_ids import SlackUserId
from tests.builders import (
    HOST_TEAM,
    NOW,
    a_rep,
    an_approver,
    calling,
    services,
    some_details,
)
from tests.integration.claims import partners, register
from tests.integration.conftest import NewUow

ROUNDS = 4
CUSTOMERS = ("Initech", "Vandelay Imports", "Umbrella Pharma", "Hooli", "Soylent Foods")
HOUR = timedelta(hours=1)


async def settle(
    new_uow: NewUow,
    registration: Registration,
    resolution: Resolution,
    by: Actor,
    reason: str = "Evidence of work reviewed.",
    *,
    at: datetime = NOW,
) -> Resolved | AlreadyDecided:
    """One approver's resolution, in its own unit of work: what it did, or the lost race."""
    assert registration.id is not None
    command = Resolve(registration.id, registration.version, resolution, reason)
    try:
        return await services(new_uow, at=at).conflicts.resolve(command, calling(by))
    except AlreadyDecided as lost:
        return lost


async def approve(
    new_uow: NewUow, registration: Registration, by: Actor
) -> Registration | AlreadyDecided:
    """An approve click on the review card, in its own unit of work."""
    assert registration.id is not None
    command = Decide(registration.id, registration.version, Decision.approve)
    try:
        return await services(new_uow).decisions.decide(command, calling(by))
    except AlreadyDecided as lost:
        return lost


async def stored(new_uow: NewUow, *registrations: Registration) -> list[Registration]:
    async with new_uow() as uow:
        found = await uow.registrations.get_many([r.id or 0 for r in registrations])
    return [found[r.id or 0] for r in registrations]


async def trail(new_uow: NewUow) -> dict[int, list[tuple[str, str]]]:
    """Every registration's audit trail as (action, actor user), oldest first."""
    trails: dict[int, list[tuple[str, str]]] = {}
    async with new_uow() as uow:
        async for record in uow.registrations.audit_log():
            event = record.event
            trails.setdefault(record.registration_id, []).append(
                (event.action, event.actor.user_id)
            )
    return trails


def settled_by(actions: list[tuple[str, str]], user_id: str) -> list[str]:
    """The resolutions `user_id` applied to one registration."""
    return [a for a, who in actions if a.startswith("adjudicate:") and who == user_id]


class TestOneTransaction:
    async def test_award_moves_the_winner_and_every_rival_with_one_precedent_each(
        self, new_uow: NewUow
    ) -> None:
        first_partner, second_partner, third_partner = await partners(new_uow, 3)
        first = await register(new_uow, first_partner, "Initech")
        second = await register(new_uow, second_partner, "Initech")
        subject = await register(new_uow, third_partner, "Initech")

        result = await settle(new_uow, subject, Resolution.award_partner, an_approver())

        assert isinstance(result, Resolved)
        assert {r.id for r in result.changed} == {first.id, second.id}
        now = await stored(new_uow, first, second, subject)
        assert [r.status for r in now] == [
            RegistrationStatus.rejected,
            RegistrationStatus.rejected,
            RegistrationStatus.approved,
        ]
        trails = await trail(new_uow)
        for registration in now:
            assert settled_by(trails[registration.id or 0], an_approver().user_id) == [
                "adjudicate:award_partner"
            ]


async def queued(new_uow: NewUow) -> list[OutboxMessage]:
    """Every message the outbox still owes, oldest first, taken out of it (as if delivered)."""
    later = NOW + 48 * HOUR
    taken: list[OutboxEntry] = []
    while True:
        async with new_uow() as uow:
            entries = await uow.outbox.claim(now=later, lease=HOUR, limit=100, worker="test")
            await uow.outbox.delivered_many([e.id for e in entries], now=later)
            await uow.commit()
        if not entries:
            return [e.message for e in sorted(taken, key=lambda e: e.id)]
        taken += entries


def still_told(messages: list[OutboxMessage]) -> dict[int | None, Still | None]:
    """What each losing partner is told it still has on the customer, by registration."""
    return {
        m.registration_id: m.still
        for m in messages
        if isinstance(m, PartnerNotice) and m.notice is Notice.conflict_lost
    }


def direct_messages(messages: list[OutboxMessage]) -> list[DirectNotice]:
    return [m for m in messages if isinstance(m, DirectNotice)]


class TestWhatALoserStillHas:
    @pytest.mark.parametrize("resolution", [Resolution.reject_both, Resolution.award_partner])
    async def test_a_partner_whose_registrations_all_lose_is_told_nothing_stands(
        self, new_uow: NewUow, resolution: Resolution
    ) -> None:
        twice, other = await partners(new_uow, 2)
        first = await register(new_uow, twice, "Initech")
        second = await register(new_uow, twice, "Initech", at=NOW + HOUR)
        subject = await register(new_uow, other, "Initech", at=NOW + 2 * HOUR)
        await queued(new_uow)

        await settle(new_uow, subject, resolution, an_approver(), at=NOW + 3 * HOUR)

        still = still_told(await queued(new_uow))
        # Its earlier registration was rejected by the same resolution: nothing stays.
        assert still[second.id] == Still.nothing
        assert still[first.id] == Still.nothing

    async def test_an_earlier_registration_the_resolution_left_alone_still_stands(
        self, new_uow: NewUow
    ) -> None:
        [partner] = await partners(new_uow, 1)
        await register(new_uow, partner, "Initech")
        later = await register(new_uow, partner, "Initech", at=NOW + HOUR)
        await queued(new_uow)

        await settle(new_uow, later, Resolution.duplicate, an_approver(), at=NOW + 2 * HOUR)

        assert still_told(await queued(new_uow)) == {later.id: Still.own_earlier}

    async def test_a_registration_beaten_by_its_own_partners_other_one_hears_that_it_stands(
        self, new_uow: NewUow
    ) -> None:
        twice, other = await partners(new_uow, 2)
        first = await register(new_uow, twice, "Initech")
        rival = await register(new_uow, other, "Initech", at=NOW + HOUR)
        subject = await register(new_uow, twice, "Initech", at=NOW + 2 * HOUR)
        await queued(new_uow)

        await settle(new_uow, subject, Resolution.award_partner, an_approver(), at=NOW + 3 * HOUR)

        still = still_told(await queued(new_uow))
        assert still == {first.id: Still.own_other, rival.id: Still.nothing}


class TestEvidenceOfEveryRegistrationMoved:
    async def test_each_rival_moved_gets_its_own_evidence_brought_up_to_date(
        self, new_uow: NewUow
    ) -> None:
        first, second, subject = await claimed(new_uow, 3)

        await settle(new_uow, subject, Resolution.award_partner, an_approver())

        evidence = [
            (m.registration_id, m.edit_only)
            for m in await queued(new_uow)
            if isinstance(m, EvidenceHead)
        ]
        # The subject's is posted if it never was; a rival's is only edited, if it exists.
        assert sorted(evidence) == [
            (first.id, True),
            (second.id, True),
            (subject.id, False),
        ]


# The same customer as every registration of "Initech" (`register`).
NAMED = Account(
    "0011ACCT", "Initech", domain="initech.example", country="DE", is_named=True,
    owner_slack_id="U0DORA",
)  # fmt: skip
MICROSOFT = some_details(
    company="Microsoft Corp", website="microsoft.example", contact_email=None, country="US"
)
REP = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0SAMREP"))


async def import_crm(
    new_uow: NewUow, *accounts: Account, opportunities: tuple[Opportunity, ...] = ()
) -> None:
    """What `dibs import accounts` / `opportunities` store."""
    async with new_uow() as uow:
        if accounts:
            await uow.crm.upsert_accounts(list(accounts))
        if opportunities:
            await uow.crm.upsert_opportunities(list(opportunities))
        await uow.commit()


async def register_microsoft(new_uow: NewUow) -> Registration:
    [partner] = await partners(new_uow, 1)
    rep = calling(a_rep(team_id=partner.slack_team_id), partner.channel_id)
    outcome = await services(new_uow).registrations.submit(SubmitRegistration(MICROSOFT), rep)
    return outcome.registration


async def work_this(new_uow: NewUow, registration: Registration, by: Actor = REP) -> None:
    """A direct rep's "I'm working this" on `registration`."""
    assert registration.id is not None
    await services(new_uow, at=NOW + HOUR).conflicts.note_working(
        AddWorkingNote(registration.id, "Demo with their CTO on Friday."), calling(by)
    )


class TestTheDirectTeamIsTold:
    @pytest.mark.parametrize("disputed", ["subject", "rival"])
    async def test_a_rep_who_said_they_work_the_customer_hears_the_outcome(
        self, new_uow: NewUow, disputed: str
    ) -> None:
        rival, subject = await claimed(new_uow, 2)
        await work_this(new_uow, subject if disputed == "subject" else rival)
        [subject] = await stored(new_uow, subject)
        await queued(new_uow)

        await settle(new_uow, subject, Resolution.award_partner, an_approver(), at=NOW + 2 * HOUR)

        [told] = direct_messages(await queued(new_uow))
        assert (told.user, told.working) == (REP.user_id, True)
        assert told.resolution is Resolution.award_partner
        assert told.reason == "Evidence of work reviewed."

    @pytest.mark.parametrize("decision", [Decision.approve, Decision.reject])
    async def test_a_plain_decision_on_the_review_card_tells_the_rep_once(
        self, new_uow: NewUow, decision: Decision
    ) -> None:
        rival, subject = await claimed(new_uow, 2)
        await work_this(new_uow, subject)
        await work_this(new_uow, subject)  # the same rep, with more evidence
        await reject(new_uow, rival)  # so no conflict holds and Approve applies
        [subject] = await stored(new_uow, subject)
        await queued(new_uow)
        reason = RejectionReason.not_qualified if decision is Decision.reject else None
        assert subject.id is not None

        await services(new_uow, at=NOW + 2 * HOUR).decisions.decide(
            Decide(subject.id, subject.version, decision, reason=reason,
                   note="No budget this year." if reason else None),
            calling(an_approver()),
        )  # fmt: skip

        [told] = direct_messages(await queued(new_uow))
        assert (told.user, told.working) == (REP.user_id, True)
        assert told.decision is decision
        expected = "Not qualified: No budget this year." if reason else ""
        assert told.reason == expected

    async def test_an_owner_who_also_works_the_customer_is_told_once(self, new_uow: NewUow) -> None:
        await import_crm(new_uow, NAMED)
        [subject] = await claimed(new_uow, 1)
        await work_this(new_uow, subject, Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0DORA")))
        [subject] = await stored(new_uow, subject)
        await queued(new_uow)

        await settle(new_uow, subject, Resolution.award_existing, an_approver(), at=NOW + 2 * HOUR)

        told = direct_messages(await queued(new_uow))
        assert [(d.user, d.working) for d in told] == [("U0DORA", True)]

    async def test_an_owner_known_by_e_mail_carries_who_is_told_already(
        self, new_uow: NewUow
    ) -> None:
        by_email = Account(
            "0011MAIL", "Initech", domain="initech.example", country="DE", owner_email="d@v.com"
        )
        await import_crm(new_uow, by_email)
        [subject] = await claimed(new_uow, 1)
        await work_this(new_uow, subject)
        [subject] = await stored(new_uow, subject)
        await queued(new_uow)

        await settle(new_uow, subject, Resolution.award_existing, an_approver(), at=NOW + 2 * HOUR)

        owner, rep = direct_messages(await queued(new_uow))
        # Delivery looks the address up in Slack and skips it if that is the rep.
        assert (owner.email, owner.told) == ("d@v.com", (REP.user_id,))
        assert (rep.user, rep.working) == (REP.user_id, True)

    async def test_owners_of_likenesses_and_of_ended_claims_get_no_direct_message(
        self, new_uow: NewUow
    ) -> None:
        strong = Account(
            "0011MSFT", "Microsoft Corporation", domain="microsoft.example", country="US",
            owner_slack_id="U0STRONG",
        )  # fmt: skip
        weak = Account(
            "0011TYPO", "Microsfot", domain="microsfot.example", country="US",
            owner_slack_id="U0WEAK",
        )  # fmt: skip
        opportunity = Opportunity(
            "0063GONE", None, "Microsoft", domain="microsoft.example", stage="Negotiation",
            owner_slack_id="U0ENDED",
        )  # fmt: skip
        await import_crm(new_uow, strong, weak, opportunities=(opportunity,))
        subject = await register_microsoft(new_uow)
        closed = replace(opportunity, stage="Closed Lost")
        await import_crm(new_uow, opportunities=(closed,))
        async with new_uow() as uow:
            found = await uow.findings.for_registration(subject.id or 0)
        assert {(f.claim.owner, f.strength, f.claim.is_active(NOW)) for f in found} == {
            ("U0STRONG", Strength.conflict, True),
            ("U0WEAK", Strength.possible, True),
            ("U0ENDED", Strength.conflict, False),
        }
        await queued(new_uow)

        await settle(new_uow, subject, Resolution.co_sell, an_approver())

        assert [d.user for d in direct_messages(await queued(new_uow))] == ["U0STRONG"]

    async def test_the_owner_of_the_claim_awarded_is_told_even_when_it_is_a_likeness(
        self, new_uow: NewUow
    ) -> None:
        weak = Account(
            "0011TYPO", "Microsfot", domain="microsfot.example", country="US",
            owner_slack_id="U0WEAK",
        )  # fmt: skip
        await import_crm(new_uow, weak)
        subject = await register_microsoft(new_uow)
        await queued(new_uow)

        await settle(new_uow, subject, Resolution.award_existing, an_approver())

        assert [d.user for d in direct_messages(await queued(new_uow))] == ["U0WEAK"]


async def claimed(new_uow: NewUow, count: int, customer: str = "Initech") -> list[Registration]:
    """`count` partners register `customer`, one after the other (each later check names the
    earlier ones); the outbox is drained, so a test sees only what comes after."""
    registrations = [await register(new_uow, p, customer) for p in await partners(new_uow, count)]
    await queued(new_uow)
    return registrations


def refreshed(messages: list[OutboxMessage]) -> list[int | None]:
    """The registrations whose evidence the outbox is to bring up to date (edit, never post)."""
    return [m.registration_id for m in messages if isinstance(m, EvidenceHead) and m.edit_only]


class TestEvidenceNamingARegistrationThatMoved:
    """Acme's #1 came first; Globex's and Initech's later checks name it (and Initech's
    names Globex's too). When one moves, the evidence of those still in review follows."""

    async def test_a_decision_refreshes_the_evidence_of_those_in_review_naming_it(
        self, new_uow: NewUow
    ) -> None:
        first, second, third = await claimed(new_uow, 3, "Initrode")
        async with new_uow() as uow:
            # Each pair shows on both sides: the later check's finding, and its mirror.
            assert await uow.findings.citing([first.id or 0]) == {second.id, third.id}
            assert await uow.findings.citing([third.id or 0]) == {first.id, second.id}

        await reject(new_uow, third)
        assert refreshed(await queued(new_uow)) == [first.id, second.id]
        await reject(new_uow, second)
        assert refreshed(await queued(new_uow)) == [first.id]  # #3 is decided

        # No claim on the customer holds any more, so Approve applies; nobody in review
        # names #1: the decided ones keep their evidence as the case was settled.
        assert isinstance(await approve(new_uow, first, an_approver()), Registration)
        assert refreshed(await queued(new_uow)) == []

    async def test_a_resolution_refreshes_the_evidence_naming_what_it_moved(
        self, new_uow: NewUow
    ) -> None:
        first, second, third = await claimed(new_uow, 3, "Initrode")

        await settle(new_uow, second, Resolution.duplicate, an_approver())

        # #1 (by the mirror of #2's finding) and #3 name #2.
        assert refreshed(await queued(new_uow)) == [first.id, third.id]
        [first_now] = await stored(new_uow, first)
        assert first_now.status is RegistrationStatus.under_review


async def reject(new_uow: NewUow, registration: Registration) -> Registration:
    """A reject click on the review card (not qualified), in its own unit of work."""
    assert registration.id is not None
    command = Decide(
        registration.id, registration.version, Decision.reject, RejectionReason.not_qualified
    )
    return await services(new_uow).decisions.decide(command, calling(an_approver()))


class TestAwardToAnOwnerThatNoLongerHolds:
    async def test_a_claim_still_open_is_awarded_even_if_another_has_ended(
        self, new_uow: NewUow
    ) -> None:
        ended = Opportunity(
            "0063GONE", None, "Microsoft", domain="microsoft.example", stage="Closed Won",
            owner_slack_id="U0ENDED",
        )  # fmt: skip
        weak = Account(
            "0011TYPO", "Microsfot", domain="microsfot.example", country="US",
            owner_slack_id="U0WEAK",
        )  # fmt: skip
        await import_crm(new_uow, weak, opportunities=(ended,))
        subject = await register_microsoft(new_uow)
        await queued(new_uow)

        await settle(new_uow, subject, Resolution.award_existing, an_approver())

        [now] = await stored(new_uow, subject)
        assert now.status is RegistrationStatus.rejected
        assert [d.user for d in direct_messages(await queued(new_uow))] == ["U0WEAK"]


async def rival_pairs(new_uow: NewUow) -> list[tuple[Registration, Registration]]:
    """For each racing round's customer, two partners' registrations: (rival, subject)."""
    first_partner, second_partner = await partners(new_uow, 2)
    return [
        (
            await register(new_uow, first_partner, customer),
            await register(new_uow, second_partner, customer),
        )
        for customer in CUSTOMERS[:ROUNDS]
    ]


class TestBothSidesOfACaseAtOnce:
    async def test_one_resolution_applies_and_the_customer_has_one_owner(
        self, new_uow: NewUow
    ) -> None:
        """Two desk members each award the customer to the registration in front of them,
        one from each side of the case (each shows the other): exactly one applies, to all
        or none, and one partner owns the customer."""
        pairs = await rival_pairs(new_uow)
        one, two = an_approver(0), an_approver(1)

        results = await asyncio.gather(
            *(
                call
                for rival, subject in pairs
                for call in (
                    settle(new_uow, subject, Resolution.award_partner, one),
                    settle(new_uow, rival, Resolution.award_partner, two),
                )
            )
        )

        trails = await trail(new_uow)
        for n, (rival, subject) in enumerate(pairs):
            for_subject, for_rival = results[2 * n], results[2 * n + 1]
            applied = [r for r in (for_subject, for_rival) if isinstance(r, Resolved)]
            assert len(applied) == 1, (for_subject, for_rival)
            rival_now, subject_now = await stored(new_uow, rival, subject)
            winner_now, loser_now = (
                (subject_now, rival_now) if applied[0] is for_subject else (rival_now, subject_now)
            )
            desk = one if applied[0] is for_subject else two
            assert winner_now.status is RegistrationStatus.approved
            assert loser_now.status is RegistrationStatus.rejected
            for registration in (rival, subject):
                assert settled_by(trails[registration.id or 0], desk.user_id) == [
                    "adjudicate:award_partner"
                ]
                other = two if desk is one else one
                assert settled_by(trails[registration.id or 0], other.user_id) == []


class TestTwoResolutionsAtOnce:
    async def test_exactly_one_resolution_of_a_case_is_applied(self, new_uow: NewUow) -> None:
        pairs = await rival_pairs(new_uow)
        awarding, rejecting = an_approver(0), an_approver(1)

        results = await asyncio.gather(
            *(
                call
                for _, subject in pairs
                for call in (
                    settle(new_uow, subject, Resolution.award_partner, awarding),
                    settle(new_uow, subject, Resolution.reject_both, rejecting),
                )
            )
        )

        trails = await trail(new_uow)
        for n, (rival, subject) in enumerate(pairs):
            pair = results[2 * n : 2 * n + 2]
            winners = [r for r in pair if isinstance(r, Resolved)]
            losers = [r for r in pair if isinstance(r, AlreadyDecided)]
            assert (len(winners), len(losers)) == (1, 1), pair
            rival_now, subject_now = await stored(new_uow, rival, subject)
            assert losers[0].registration.id == subject.id
            assert losers[0].registration.status is subject_now.status
            award_won = subject_now.status is RegistrationStatus.approved
            winner, loser = (awarding, rejecting) if award_won else (rejecting, awarding)
            action = "adjudicate:award_partner" if award_won else "adjudicate:reject_both"
            assert rival_now.status is RegistrationStatus.rejected
            for registration in (rival, subject):
                actions = trails[registration.id or 0]
                assert settled_by(actions, winner.user_id) == [action]
                assert settled_by(actions, loser.user_id) == []


class TestResolutionsSharingRegistrations:
    async def test_overlapping_cases_settle_without_deadlock_and_leave_one_owner(
        self, new_uow: NewUow
    ) -> None:
        first_partner, second_partner, third_partner = await partners(new_uow, 3)
        cases = [
            (
                await register(new_uow, first_partner, customer),
                await register(new_uow, second_partner, customer),
                await register(new_uow, third_partner, customer),
            )
            for customer in CUSTOMERS[:ROUNDS]
        ]
        one, two = an_approver(0), an_approver(1)

        # Both cases involve all three. Each resolution locks the registrations it saves:
        # a different order would deadlock.
        results = await asyncio.gather(
            *(
                call
                for _, second, third in cases
                for call in (
                    settle(new_uow, third, Resolution.award_partner, one),
                    settle(new_uow, second, Resolution.award_partner, two),
                )
            )
        )

        trails = await trail(new_uow)
        for n, case in enumerate(cases):
            by_third, by_second = results[2 * n], results[2 * n + 1]
            assert not all(isinstance(r, AlreadyDecided) for r in (by_third, by_second))
            now = await stored(new_uow, *case)
            statuses = Counter(r.status for r in now)
            assert statuses[RegistrationStatus.approved] == 1, statuses
            # Each case shows all three (the later checks' findings and their mirrors), so
            # whichever resolution applies settles every registration of the customer.
            assert statuses[RegistrationStatus.under_review] == 0, statuses
            for result, actor in ((by_third, one), (by_second, two)):
                touched = {r.id or 0 for r in case if settled_by(trails[r.id or 0], actor.user_id)}
                if isinstance(result, AlreadyDecided):
                    assert touched == set()
                else:  # all it moved, each once, and nothing else
                    moved = {r.id or 0 for r in (result.registration, *result.changed)}
                    assert touched == moved
                    for rid in moved:
                        assert settled_by(trails[rid], actor.user_id) == [
                            "adjudicate:award_partner"
                        ]
