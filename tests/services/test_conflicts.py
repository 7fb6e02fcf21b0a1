"""The conflict desk: a case as it stands, its resolution, and the direct team's working notes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.actor import Actor
from domain.crm import Account, Opportunity
from domain.errors import AlreadyDecided, InvalidInput, NotAllowed
from domain.matching import Strength
from domain.messages import MessageKind
from domain.ownership import OwnershipRule, Resolution
from domain.registration import DealDetails, Registration, RegistrationStatus, RejectionReason
from domain.resolution import REASON_LIMIT
from domain.services import AddWorkingNote, Decision, Resolve, Resolved
from tests.builders import HOST_TEAM, a_rep, an_approver, calling, some_details
from tests.services.conftest import HOUR, World, cards, deal, rep_of, sent

K = MessageKind
S = RegistrationStatus
SALES = Actor(team_id=HOST_TEAM, user_id="U0SALES")
REASON = "Evidence of work reviewed."
# Every registration of "Initech" (`World.register`) names this account's customer.
INITECH_ACCOUNT = Account("0011", "Initech", domain="initech.example", owner_slack_id="U0AE")


def initech_at(website: str) -> DealDetails:
    """A deal for Initech at a real website (`.example` ones give no domain signal)."""
    return some_details(company="Initech", website=website, contact_email=f"buyer@{website}")


async def resolve(
    world: World,
    registration: Registration,
    resolution: Resolution,
    reason: str = REASON,
    *,
    by: Actor | None = None,
) -> Resolved:
    """The desk's resolution of `registration`'s case, as the registration is now."""
    current = await world.now(registration)
    command = Resolve(current.id or 0, current.version, resolution, reason)
    return await world.app.conflicts.resolve(command, calling(by or an_approver()))


async def statuses(world: World, *registrations: Registration) -> list[RegistrationStatus]:
    return [(await world.now(r)).status for r in registrations]


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


class TestResolve:
    async def test_award_to_this_partner_approves_it_and_rejects_every_rival_at_once(
        self, world: World
    ) -> None:
        one, two, three = await world.partners(3)
        first, second = await world.register(one), await world.register(two)
        subject = await world.register(three)
        world.storage.take_queued()

        resolved = await resolve(world, subject, Resolution.award_partner)

        assert {r.id for r in resolved.changed} == {first.id, second.id}
        assert await statuses(world, first, second, subject) == [S.rejected, S.rejected, S.approved]
        assert (await world.now(first)).rejection_reason is RejectionReason.duplicate
        queued = sent(world.storage.take_queued())
        for rid in (subject.id, first.id, second.id):
            assert set(cards(rid or 0)) <= set(queued)
            assert (K.evidence, rid) in queued

    async def test_award_to_the_existing_owner_approves_the_first_registration(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner)
        subject = await world.register(second_partner)

        resolved = await resolve(world, subject, Resolution.award_existing)

        assert [r.id for r in resolved.changed] == [first.id]
        assert await statuses(world, first, subject) == [S.approved, S.rejected]

    async def test_mark_duplicate_rejects_only_the_subject(self, world: World) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner)
        subject = await world.register(second_partner)

        resolved = await resolve(world, subject, Resolution.duplicate)

        assert resolved.changed == ()
        assert await statuses(world, first, subject) == [S.under_review, S.rejected]

    async def test_reject_both_rejects_the_conflicts_but_never_a_mere_likeness(
        self, world: World
    ) -> None:
        typo, rival_partner, subject_partner = await world.partners(3)
        lookalike = await world.submit(typo, deal("Initehc Holdings"))
        rival = await world.register(rival_partner, "Initech Holdings")
        subject = await world.register(subject_partner, "Initech Holdings")
        async with world.storage.uow() as uow:
            found = await uow.findings.for_registration(subject.id or 0)
        assert {(f.claim.id, f.strength) for f in found} == {
            (lookalike.id, Strength.possible),
            (rival.id, Strength.conflict),
        }

        resolved = await resolve(world, subject, Resolution.reject_both)

        assert [r.id for r in resolved.changed] == [rival.id]
        assert await statuses(world, lookalike, rival, subject) == [
            S.under_review,
            S.rejected,
            S.rejected,
        ]

    async def test_request_info_asks_the_partner_the_reason(self, world: World) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner)
        subject = await world.register(second_partner)

        await resolve(world, subject, Resolution.request_info, "Who is your contact there?")

        now = await world.now(subject)
        assert (now.status, now.info_request) == (S.info_requested, "Who is your contact there?")
        assert (await world.now(first)).status is S.under_review

    async def test_co_sell_between_partners_is_refused_and_nothing_moves(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner)
        subject = await world.register(second_partner)
        world.storage.take_queued()
        commits = world.storage.commits

        with pytest.raises(InvalidInput, match="Co-sell is with the direct team") as refused:
            await resolve(world, subject, Resolution.co_sell)

        assert refused.value.field == "reason"
        assert await statuses(world, first, subject) == [S.under_review, S.under_review]
        assert (world.storage.commits, world.storage.take_queued()) == (commits, [])

    async def test_co_sell_beside_a_direct_account_approves_the_partner_and_tells_its_owner(
        self, world: World
    ) -> None:
        await world.crm(INITECH_ACCOUNT)
        [partner] = await world.partners(1)
        subject = await world.register(partner)
        world.storage.take_queued()

        await resolve(world, subject, Resolution.co_sell)

        assert await statuses(world, subject) == [S.approved]
        queued = sent(world.storage.take_queued())
        assert queued.count((K.direct_notice, subject.id)) == 1

    async def test_awarding_the_partner_beside_a_direct_account_is_refused(
        self, world: World
    ) -> None:
        await world.crm(INITECH_ACCOUNT)
        [partner] = await world.partners(1)
        subject = await world.register(partner)

        with pytest.raises(InvalidInput, match="A direct claim on this customer holds"):
            await resolve(world, subject, Resolution.award_partner)

        assert await statuses(world, subject) == [S.under_review]

    async def test_approving_an_owner_that_would_sit_beside_a_direct_claim_is_refused(
        self, world: World
    ) -> None:
        """The first registration shares its website with a direct account; the subject
        shares only its name with the first. Awarding the first would give the customer two
        owners: its own case has to settle the account first."""
        await world.crm(Account("0011ZETA", "Zeta Holdings", domain="initech.com"))
        first_partner, second_partner = await world.partners(2)
        first = await world.submit(first_partner, initech_at("initech.com"))
        subject = await world.submit(second_partner, initech_at("initech.de"))
        assert await world.named_by(subject) == [first.id]

        with pytest.raises(InvalidInput, match="cannot be approved") as refused:
            await resolve(world, subject, Resolution.award_existing)

        assert refused.value.field == "reason"
        assert first.reference in refused.value.message
        assert await statuses(world, first, subject) == [S.under_review, S.under_review]

    async def test_awarding_an_owner_whose_claim_closed_since_is_refused(
        self, world: World
    ) -> None:
        opportunity = Opportunity(
            "0063", None, "Initech", domain="initech.example", stage="Negotiation"
        )
        await world.crm(opportunities=[opportunity])
        [partner] = await world.partners(1)
        subject = await world.register(partner)
        await world.crm(opportunities=[replace(opportunity, stage="Closed Lost")])

        with pytest.raises(InvalidInput, match="No existing claim on this customer holds"):
            await resolve(world, subject, Resolution.award_existing)

        assert await statuses(world, subject) == [S.under_review]

    async def test_awarding_an_owner_someone_just_decided_names_who(self, world: World) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner)
        subject = await world.register(second_partner)
        await world.decide(
            first, Decision.reject, RejectionReason.other, "Gone.", by=an_approver(1)
        )

        with pytest.raises(AlreadyDecided) as lost:
            await resolve(world, subject, Resolution.award_existing)

        assert (lost.value.registration.id, lost.value.by) == (first.id, an_approver(1))

    async def test_a_case_already_settled_is_refused_naming_who_settled_it(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        await world.register(first_partner)
        subject = await world.register(second_partner)
        await resolve(world, subject, Resolution.duplicate, by=an_approver(1))

        with pytest.raises(AlreadyDecided) as lost:
            await world.app.conflicts.resolve(
                Resolve(subject.id or 0, subject.version, Resolution.award_partner, REASON),
                calling(an_approver()),
            )

        assert (lost.value.registration.status, lost.value.by) == (S.rejected, an_approver(1))

    async def test_a_rival_moved_first_makes_the_resolution_lose_and_names_it(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        rival = await world.register(first_partner)
        subject = await world.register(second_partner)
        world.storage.before_next_commit(
            lambda: world.app.registrations.withdraw(rival.id or 0, rep_of(first_partner))
        )

        with pytest.raises(AlreadyDecided) as lost:
            await resolve(world, subject, Resolution.award_partner)

        assert (lost.value.registration.id, lost.value.registration.status) == (
            rival.id,
            S.withdrawn,
        )
        assert await statuses(world, subject) == [S.under_review]

    @pytest.mark.parametrize(
        ("reason", "says"),
        [("   ", "Say why"), ("x" * (REASON_LIMIT + 1), "Keep the reason under")],
        ids=["blank", "too-long"],
    )
    async def test_a_resolution_needs_a_reason_to_keep_as_a_precedent(
        self, world: World, reason: str, says: str
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        await world.register(first_partner)
        subject = await world.register(second_partner)

        with pytest.raises(InvalidInput, match=says) as refused:
            await resolve(world, subject, Resolution.award_partner, reason)

        assert refused.value.field == "reason"

    @pytest.mark.parametrize("who", [a_rep(), SALES], ids=["partner-rep", "other-staff"])
    async def test_only_the_desks_approvers_resolve(self, world: World, who: Actor) -> None:
        first_partner, second_partner = await world.partners(2)
        await world.register(first_partner)
        subject = await world.register(second_partner)

        with pytest.raises(NotAllowed):
            await resolve(world, subject, Resolution.award_partner, by=who)


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

    async def test_a_decided_registration_takes_no_more_notes(self, world: World) -> None:
        [partner] = await world.partners(1)
        registration = await world.register(partner)
        await world.decide(registration, Decision.approve)

        with pytest.raises(InvalidInput, match="is already decided"):
            await world.app.conflicts.note_working(
                AddWorkingNote(registration.id or 0, "Too late."), calling(SALES)
            )
