"""The conflict desk: a case as it stands, and the direct team's working notes (its resolution:
test_resolve.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.actor import Actor
from domain.errors import InvalidInput, NotAllowed
from domain.messages import MessageKind
from domain.ownership import OwnershipRule
from domain.registration import RegistrationStatus
from domain.services import AddWorkingNote, Decision
from domain.slack_ids import SlackUserId
from tests.builders import HOST_TEAM, a_rep, an_approver, calling
from tests.services.conftest import HOUR, World, sent

K = MessageKind
S = RegistrationStatus
SALES = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0SALES"))


class TestCase:
    async def test_shows_the_claims_as_they_are_now_and_the_rules_advice(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.decide(await world.register(first_partner), Decision.approve)
        second = await world.register(second_partner)

        case = await world.app.conflicts.case(second.id or 0)

        [finding] = case.findings
        assert (finding.claim.id, finding.claim.status) == (first.id, S.approved)
        assert case.recommendation is not None
        assert case.recommendation.rule is OwnershipRule.first_approved
        assert case.moved_by is None

    async def test_a_case_out_of_review_names_who_moved_it_even_to_ask_a_question(
        self, world: World
    ) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        await world.decide(registration, Decision.request_info, note="?", by=an_approver(1))

        case = await world.app.conflicts.case(registration.id or 0)

        assert case.moved_by == an_approver(1)
        assert case.recommendation is None

    async def test_carries_the_working_notes_oldest_first(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        for note in ("First call done.", "Demo booked."):
            world.clock.advance(HOUR)
            await world.app.conflicts.note_working(
                AddWorkingNote(registration.id or 0, note), calling(SALES)
            )

        case = await world.app.conflicts.case(registration.id or 0)

        assert [n.note for n in case.working] == ["First call done.", "Demo booked."]


class TestNoteWorking:
    async def test_the_note_is_kept_and_only_the_desk_is_told(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        world.storage.take_queued()

        note = await world.app.conflicts.note_working(
            AddWorkingNote(registration.id or 0, "  Demo booked.  ", " https://crm.example/1 "),
            calling(SALES),
        )

        assert (note.by_user_id, note.by_team_id, note.note, note.link) == (
            "U0SALES",
            HOST_TEAM,
            "Demo booked.",
            "https://crm.example/1",
        )
        now = await world.now(registration)
        assert (now.status, now.version) == (S.under_review, registration.version)
        async with world.storage.uow() as uow:
            [event] = (await uow.registrations.history(registration.id or 0))[-1:]
        assert (event.action, event.actor) == ("dispute", SALES)
        assert sent(world.storage.take_queued()) == [
            (K.review_card, registration.id),
            (K.desk_notice, registration.id),
            (K.evidence, registration.id),
        ]

    @pytest.mark.parametrize(
        ("by", "typed", "refusal"),
        [
            (a_rep(), AddWorkingNote(0, "Mine."), (NotAllowed, None)),
            (SALES, AddWorkingNote(0, "   "), (InvalidInput, "note")),
            (SALES, AddWorkingNote(0, "Mine.", "javascript:alert(1)"), (InvalidInput, "link")),
        ],
        ids=["partner", "blank-note", "bad-link"],
    )
    async def test_refused_for_partners_without_a_note_or_with_a_bad_link(
        self,
        world: World,
        by: Actor,
        typed: AddWorkingNote,
        refusal: tuple[type[Exception], str | None],
    ) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        commits = world.storage.commits
        error, field = refusal

        with pytest.raises(error) as refused:
            await world.app.conflicts.note_working(
                replace(typed, registration_id=registration.id or 0), calling(by)
            )

        assert getattr(refused.value, "field", None) == field
        assert world.storage.commits == commits
        async with world.storage.uow() as uow:
            assert await uow.findings.working_notes(registration.id or 0) == []

    async def test_a_decided_registration_takes_no_more_notes(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        await world.decide(registration, Decision.approve)

        with pytest.raises(InvalidInput, match="is already decided"):
            await world.app.conflicts.note_working(
                AddWorkingNote(registration.id or 0, "Too late."), calling(SALES)
            )
