"""The desk's plain decisions on the review card, and its queue."""

from __future__ import annotations

import pytest

from domain.actor import Actor
from domain.errors import AlreadyDecided, ConflictToResolve, InvalidInput, NotAllowed
from domain.matching import Strength
from domain.messages import MessageKind
from domain.registration import Registration, RegistrationStatus, RejectionReason
from domain.services import AddWorkingNote, Decide, Decision
from domain.slack_ids import SlackUserId
from tests.builders import (
    HOST_TEAM,
    PARTNER_TEAM,
    PROGRAM,
    a_rep,
    an_approver,
    calling,
    some_details,
)
from tests.services.conftest import HOUR, World, cards, sent

K = MessageKind
SALES = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0SALES"))
MICROSOFT = some_details(
    company="Microsoft Corp", website="microsoft.example", contact_email=None, country="US"
)
LOOKALIKE = some_details(
    company="Microsfot", website="microsfot.example", contact_email=None, country="US"
)


async def working(world: World, registration: Registration, by: Actor = SALES) -> None:
    """A direct rep leaves a working note on `registration`."""
    note = AddWorkingNote(registration.id or 0, "Demo with their CTO on Friday.")
    await world.app.conflicts.note_working(note, calling(by))


def told(world: World) -> list[int | None]:
    """The registrations whose direct notices were queued since the last look."""
    return [rid for kind, rid in sent(world.storage.take_queued()) if kind is K.direct_notice]


class TestDecide:
    async def test_approving_protects_the_partner_and_tells_both_sides(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        world.storage.take_queued()

        approved = await world.decide(registration, Decision.approve)

        assert approved.status is RegistrationStatus.approved
        assert approved.protected_until == world.clock.now + PROGRAM.protection
        assert approved.decided_by == an_approver()
        assert (await world.now(registration)).version == registration.version + 1
        assert sent(world.storage.take_queued()) == cards(registration.id or 0)

    async def test_a_rejection_needs_a_reason_and_nothing_is_written_without_one(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        commits = world.storage.commits

        with pytest.raises(InvalidInput) as refused:
            await world.decide(registration, Decision.reject)

        assert refused.value.field == "reason"
        assert world.storage.commits == commits
        assert (await world.now(registration)).status is RegistrationStatus.under_review

    async def test_a_rejection_keeps_its_reason_and_note(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)

        rejected = await world.decide(
            registration, Decision.reject, RejectionReason.not_qualified, "No budget."
        )

        stored = await world.now(rejected)
        assert (stored.status, stored.rejection_reason, stored.decision_note) == (
            RegistrationStatus.rejected,
            RejectionReason.not_qualified,
            "No budget.",
        )

    async def test_asking_for_info_waits_for_the_partners_answer(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        world.storage.take_queued()

        asked = await world.decide(registration, Decision.request_info, note="Who is the buyer?")

        assert asked.status is RegistrationStatus.info_requested
        assert asked.info_request == "Who is the buyer?"
        assert sent(world.storage.take_queued()) == cards(registration.id or 0)

    @pytest.mark.parametrize(
        "who", [a_rep(), SALES, Actor(team_id=PARTNER_TEAM, user_id=SlackUserId("U0DESK1"))],
        ids=["partner-rep", "other-staff", "approvers-id-in-another-workspace"],
    )  # fmt: skip
    async def test_only_the_desks_approvers_decide(self, world: World, who: Actor) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        commits = world.storage.commits

        with pytest.raises(NotAllowed, match="Only the deal desk's approvers"):
            await world.decide(registration, Decision.approve, by=who)

        assert world.storage.commits == commits

    async def test_approving_a_registration_with_a_live_conflict_asks_to_resolve_it(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        await world.register(first_partner)
        second = await world.register(second_partner)
        world.storage.take_queued()

        with pytest.raises(ConflictToResolve) as refused:
            await world.decide(second, Decision.approve)

        assert refused.value.registration.id == second.id
        assert (await world.now(second)).status is RegistrationStatus.under_review
        assert world.storage.take_queued() == []

    async def test_a_conflict_whose_claim_ended_no_longer_blocks_approval(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner)
        second = await world.register(second_partner)
        await world.decide(first, Decision.reject, RejectionReason.not_qualified)

        approved = await world.decide(second, Decision.approve)

        assert approved.status is RegistrationStatus.approved

    async def test_a_mere_likeness_never_blocks_approval(self, world: World) -> None:
        typo_partner, partner = await world.partners(2)
        lookalike = await world.submit(typo_partner, LOOKALIKE)
        registration = await world.submit(partner, MICROSOFT)
        async with world.storage.uow() as uow:
            found = await uow.findings.for_registration(registration.id or 0)
        assert [(f.claim.id, f.strength) for f in found] == [(lookalike.id, Strength.possible)]

        approved = await world.decide(registration, Decision.approve)

        assert approved.status is RegistrationStatus.approved

    async def test_a_stale_click_is_refused_naming_who_moved_it(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        await world.decide(registration, Decision.request_info, note="Budget?")

        with pytest.raises(AlreadyDecided) as lost:
            await world.app.decisions.decide(
                Decide(registration.id or 0, registration.version, Decision.reject,
                       RejectionReason.duplicate),
                calling(an_approver(1)),
            )  # fmt: skip

        assert lost.value.registration.status is RegistrationStatus.info_requested
        assert lost.value.by == an_approver(0)

    async def test_of_two_decisions_the_one_committed_first_wins(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        world.storage.before_next_commit(
            lambda: world.decide(registration, Decision.reject, RejectionReason.duplicate)
        )
        world.storage.take_queued()

        with pytest.raises(AlreadyDecided) as lost:
            await world.decide(registration, Decision.approve, by=an_approver(1))

        assert lost.value.registration.status is RegistrationStatus.rejected
        assert lost.value.by == an_approver(0)
        assert sent(world.storage.take_queued()) == cards(registration.id or 0)  # the winner's


class TestWorkingNotesAreTold:
    @pytest.mark.parametrize("decision", [Decision.approve, Decision.reject])
    async def test_a_decision_tells_each_rep_working_the_customer_once(
        self, world: World, decision: Decision
    ) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        await working(world, registration)
        await working(world, registration)  # the same rep, with more evidence
        await working(
            world, registration, Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0OTHERREP"))
        )
        world.storage.take_queued()
        reason = RejectionReason.not_qualified if decision is Decision.reject else None

        await world.decide(registration, decision, reason)

        assert told(world) == [registration.id, registration.id]

    async def test_a_question_to_the_partner_tells_nobody(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        await working(world, registration)
        world.storage.take_queued()

        await world.decide(registration, Decision.request_info, note="Which office?")

        assert told(world) == []


class TestToDecide:
    async def test_a_registration_still_as_the_approver_saw_it_is_handed_over(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)

        found = await world.app.decisions.to_decide(registration.id or 0, registration.version)

        assert found.id == registration.id

    async def test_one_changed_since_is_already_decided_by_whoever_moved_it(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        await world.decide(registration, Decision.approve, by=an_approver(1))

        with pytest.raises(AlreadyDecided) as lost:
            await world.app.decisions.to_decide(registration.id or 0, registration.version)

        assert lost.value.by == an_approver(1)


class TestQueue:
    async def test_lists_what_waits_for_the_desk_oldest_first_with_partners_and_findings(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner, "Initech")
        asked = await world.register(first_partner, "Hooli")
        second = await world.register(second_partner, "Initech")
        await world.decide(asked, Decision.request_info, note="?")
        world.clock.advance(HOUR)

        queue = await world.app.decisions.queue()

        assert [(w.registration.id, w.partner.id) for w in queue] == [
            (first.id, first_partner.id),
            (second.id, second_partner.id),
        ]
        assert [[f.claim.id for f in w.findings] for w in queue] == [[second.id], [first.id]]
