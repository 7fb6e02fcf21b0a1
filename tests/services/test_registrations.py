"""The partner's side of a registration: submit, answer an info request, withdraw, look up."""

from __future__ import annotations

import pytest

from domain.conflicts import ClaimKind
from domain.errors import AlreadyDecided, InvalidInput, NotAllowed, NotFound
from domain.messages import MessageKind
from domain.registration import RegistrationStatus, RejectionReason
from domain.services import Decision, Resubmit, SubmitRegistration
from tests.builders import a_rep, an_admin, an_approver, calling
from tests.services.conftest import World, cards, deal, rep_of, sent

K = MessageKind


class TestSubmit:
    async def test_a_first_claim_on_a_customer_owes_both_cards_and_no_evidence(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)

        registration = await world.register(partner)

        assert registration.status is RegistrationStatus.under_review
        assert registration.reference == f"{partner.code}-0001"
        assert sent(world.storage.take_queued()) == [
            (K.partner_card, registration.id),
            (K.review_card, registration.id),
        ]

    async def test_an_overlap_is_stored_on_both_sides_and_the_earlier_case_grows(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner)
        world.storage.take_queued()

        outcome = await world.app.registrations.submit(
            SubmitRegistration(deal()), rep_of(second_partner)
        )

        second = outcome.registration
        assert [(f.claim.kind, f.claim.id) for f in outcome.findings] == [
            (ClaimKind.registration, first.id)
        ]
        assert await world.named_by(second) == [first.id]
        assert await world.named_by(first) == [second.id]
        assert sent(world.storage.take_queued()) == [
            (K.partner_card, second.id),
            (K.review_card, second.id),
            (K.evidence, second.id),
            (K.review_card, first.id),
            (K.evidence, first.id),
        ]

    async def test_a_decided_claim_is_found_but_its_case_is_left_alone(self, world: World) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.decide(await world.register(first_partner), Decision.approve)
        world.storage.take_queued()

        second = await world.register(second_partner)

        assert await world.named_by(second) == [first.id]
        assert await world.named_by(first) == []
        assert sent(world.storage.take_queued()) == [
            (K.partner_card, second.id),
            (K.review_card, second.id),
            (K.evidence, second.id),
        ]

    async def test_the_same_form_twice_gives_the_first_registration_and_owes_nothing_more(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        first = await world.register(partner, key="view-V1")
        world.storage.take_queued()
        commits = world.storage.commits

        again = await world.app.registrations.submit(
            SubmitRegistration(deal(), submission_key="view-V1"), rep_of(partner)
        )

        assert again.duplicate
        assert (again.registration.id, again.partner.id) == (first.id, partner.id)
        assert world.storage.commits == commits
        assert world.storage.take_queued() == []
        assert len(await world.app.registrations.of_partner(partner.id or 0)) == 1

    async def test_staff_register_for_the_partner_they_pick(self, world: World) -> None:
        [partner] = await world.partners(1)

        outcome = await world.app.registrations.submit(
            SubmitRegistration(deal(), partner_id=partner.id), calling(an_approver())
        )

        assert outcome.partner.id == partner.id
        assert outcome.registration.submitted_by == an_approver()

    async def test_a_partner_cannot_register_for_another_partner(self, world: World) -> None:
        mine, theirs = await world.partners(2)
        commits = world.storage.commits

        with pytest.raises(NotAllowed):
            await world.app.registrations.submit(
                SubmitRegistration(deal(), partner_id=theirs.id), rep_of(mine)
            )

        assert world.storage.commits == commits

    async def test_staff_picking_a_partner_that_is_gone_is_not_found(self, world: World) -> None:
        with pytest.raises(NotFound, match="That partner no longer exists"):
            await world.app.registrations.submit(
                SubmitRegistration(deal(), partner_id=4242), calling(an_approver())
            )


class TestResubmit:
    async def test_the_answer_goes_back_to_the_desk_checked_again_on_both_sides(
        self, world: World
    ) -> None:
        asked_partner, initech_partner, hooli_partner = await world.partners(3)
        asked = await world.register(asked_partner, "Initech")
        initech = await world.register(initech_partner, "Initech")
        hooli = await world.register(hooli_partner, "Hooli")
        asked = await world.decide(asked, Decision.request_info, note="Which customer?")
        world.storage.take_queued()

        answered = await world.app.registrations.resubmit(
            Resubmit(asked.id or 0, asked.version, deal("Hooli")), rep_of(asked_partner)
        )

        assert answered.registration.status is RegistrationStatus.under_review
        assert answered.registration.details.company == "Hooli"
        assert await world.named_by(asked) == [hooli.id]
        assert await world.named_by(hooli) == [asked.id]
        assert await world.named_by(initech) == []
        queued = sent(world.storage.take_queued())
        assert queued[:5] == [*cards(asked.id or 0), (K.evidence, asked.id)]
        # The case it now overlaps grew; the one it no longer names lost a claim.
        assert set(queued[5:]) == {
            (K.review_card, hooli.id),
            (K.evidence, hooli.id),
            (K.review_card, initech.id),
            (K.evidence, initech.id),
        }

    async def test_a_registration_in_review_has_no_question_to_answer(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)

        with pytest.raises(AlreadyDecided):
            await world.app.registrations.resubmit(
                Resubmit(registration.id or 0, registration.version, deal()), rep_of(partner)
            )

    async def test_an_answer_to_a_form_seen_before_a_change_is_refused(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        asked = await world.decide(registration, Decision.request_info, note="Budget?")

        with pytest.raises(AlreadyDecided):
            await world.app.registrations.resubmit(
                Resubmit(asked.id or 0, asked.version - 1, deal()), rep_of(partner)
            )

        assert (await world.now(asked)).status is RegistrationStatus.info_requested

    async def test_only_the_registering_partner_answers(self, world: World) -> None:
        mine, theirs = await world.partners(2)
        asked = await world.decide(await world.register(mine), Decision.request_info, note="?")

        with pytest.raises(NotAllowed, match="Only the partner that registered"):
            await world.app.registrations.resubmit(
                Resubmit(asked.id or 0, asked.version, deal()), rep_of(theirs)
            )


class TestWithdraw:
    async def test_the_partner_takes_it_back_and_the_cases_naming_it_follow(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner)
        second = await world.register(second_partner)
        world.storage.take_queued()

        withdrawn = await world.app.registrations.withdraw(second.id or 0, rep_of(second_partner))

        assert withdrawn.status is RegistrationStatus.withdrawn
        assert (await world.now(second)).status is RegistrationStatus.withdrawn
        assert sent(world.storage.take_queued()) == [
            *cards(second.id or 0),
            (K.evidence, second.id),
            (K.review_card, first.id),
            (K.evidence, first.id),
        ]

    @pytest.mark.parametrize("asking", ["approver", "admin"])
    async def test_the_desk_may_withdraw_for_the_partner(self, world: World, asking: str) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        desk = an_approver() if asking == "approver" else an_admin()

        withdrawn = await world.app.registrations.withdraw(registration.id or 0, calling(desk))

        assert withdrawn.status is RegistrationStatus.withdrawn

    @pytest.mark.parametrize(
        "who", ["another partner", "other staff"], ids=["another-partner", "other-staff"]
    )
    async def test_nobody_else_may(self, world: World, who: str) -> None:
        mine, theirs = await world.partners(2)
        registration = await world.register(mine)
        staff = calling(a_rep(team_id="T0HOST", user_id="U0SALES"))
        commits = world.storage.commits

        with pytest.raises(NotAllowed):
            await world.app.registrations.withdraw(
                registration.id or 0, rep_of(theirs) if who == "another partner" else staff
            )

        assert world.storage.commits == commits

    async def test_a_decided_registration_cannot_be_withdrawn(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        rejected = await world.decide(registration, Decision.reject, RejectionReason.other, "No.")

        with pytest.raises(AlreadyDecided) as refused:
            await world.app.registrations.withdraw(rejected.id or 0, rep_of(partner))

        assert refused.value.registration.status is RegistrationStatus.rejected

    async def test_a_decision_committed_first_wins_and_the_withdrawal_says_so(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        world.storage.before_next_commit(lambda: world.decide(registration, Decision.approve))

        with pytest.raises(AlreadyDecided) as lost:
            await world.app.registrations.withdraw(registration.id or 0, rep_of(partner))

        assert lost.value.registration.status is RegistrationStatus.approved
        assert (await world.now(registration)).status is RegistrationStatus.approved


class TestWaitingForAnswer:
    async def test_the_partner_gets_the_registration_the_desk_asked_about(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        asked = await world.decide(await world.register(partner), Decision.request_info, note="?")

        found = await world.app.registrations.waiting_for_answer(asked.id or 0, rep_of(partner))

        assert (found.registration.id, found.partner.id) == (asked.id, partner.id)
        assert found.registration.info_request == "?"

    async def test_a_registration_not_waiting_for_the_partner_is_already_decided(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)

        with pytest.raises(AlreadyDecided):
            await world.app.registrations.waiting_for_answer(registration.id or 0, rep_of(partner))

    async def test_another_partner_never_sees_it(self, world: World) -> None:
        mine, theirs = await world.partners(2)
        asked = await world.decide(await world.register(mine), Decision.request_info, note="?")

        with pytest.raises(NotAllowed):
            await world.app.registrations.waiting_for_answer(asked.id or 0, rep_of(theirs))


class TestFind:
    @pytest.mark.parametrize("typed", ["{code}-0002", " {lower}-2 ", "{lower}-02"])
    async def test_a_reference_in_any_case_finds_its_registration_and_partner(
        self, world: World, typed: str
    ) -> None:
        [partner] = await world.partners(1)
        await world.register(partner)
        second = await world.register(partner)
        code = partner.code or ""

        found = await world.app.registrations.find(typed.format(code=code, lower=code.lower()))

        assert (found.registration.id, found.partner.id) == (second.id, partner.id)

    async def test_a_legacy_reference_finds_the_registration_that_was_given_it(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        old = await world.register(partner)
        world.storage.data.registrations[old.id or 0].assigned_reference = "DR-0012"  # migrated

        found = await world.app.registrations.find("dr-12")

        assert found.registration.id == old.id
        assert found.registration.reference == "DR-0012"

    async def test_text_that_is_no_reference_is_refused_next_to_the_field(
        self, world: World
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            await world.app.registrations.find("  Acme Corp  ")

        assert refused.value.field == "reference"
        assert refused.value.message == (
            "Acme Corp is not a registration reference; they look like NW-0007."
        )

    async def test_a_reference_nobody_has_is_not_found(self, world: World) -> None:
        with pytest.raises(NotFound, match="No registration NW-0007"):
            await world.app.registrations.find("nw-7")


class TestGet:
    async def test_comes_with_its_partner(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)

        found = await world.app.registrations.get(registration.id or 0)

        assert (found.registration, found.partner) == (registration, partner)

    async def test_an_unknown_registration_is_not_found(self, world: World) -> None:
        with pytest.raises(NotFound, match="That registration does not exist"):
            await world.app.registrations.get(4242)


class TestAuditTrail:
    async def test_streams_every_move_of_every_registration_oldest_first(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        first = await world.register(partner, "Initech")
        second = await world.register(partner, "Hooli")
        await world.decide(first, Decision.approve)

        trail = [(r.reference, r.event.action) async for r in world.app.registrations.audit_trail()]

        assert trail == [
            (first.reference, "submit"),
            (first.reference, "review"),
            (second.reference, "submit"),
            (second.reference, "review"),
            (first.reference, "approve"),
        ]
