"""The desk's resolution of a case: every registration it moves in one unit of work, the
refusals that keep one owner per customer, and the race it can lose. (Resolutions racing on
storage, and what each party is told, are tested in tests/integration/test_adjudication.py.)

Moved here from that module (assertions unchanged): a rival approved before the resolution,
a possible conflict never moved, the three "Reject both" reasons, co-sell between partners and
beside an account, and an award to an opportunity that closed since.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.actor import Actor
from domain.crm import Account, Opportunity
from domain.errors import AlreadyDecided, InvalidInput, NotAllowed
from domain.matching import Strength
from domain.messages import MessageKind
from domain.ownership import Resolution
from domain.registration import DealDetails, Registration, RegistrationStatus, RejectionReason
from domain.resolution import REASON_LIMIT
from domain.services import Decision, Resolve, Resolved
from domain.slack_ids import SlackUserId
from tests.builders import HOST_TEAM, a_rep, an_approver, calling, some_details
from tests.services.conftest import World, cards, rep_of, sent

K = MessageKind
S = RegistrationStatus
SALES = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0SALES"))
REASON = "Evidence of work reviewed."
# Every registration of "Initech" (`World.register`) names these accounts' customer.
INITECH_ACCOUNT = Account("0011", "Initech", domain="initech.example", owner_slack_id="U0AE")
NAMED = Account(
    "0011ACCT", "Initech", domain="initech.example", country="DE", is_named=True,
    owner_slack_id="U0DORA",
)  # fmt: skip
MICROSOFT = some_details(
    company="Microsoft Corp", website="microsoft.example", contact_email=None, country="US"
)
LOOKALIKE = some_details(
    company="Microsfot", website="microsfot.example", contact_email=None, country="US"
)


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


async def stored(world: World, *registrations: Registration) -> list[Registration]:
    return [await world.now(r) for r in registrations]


async def register_microsoft(world: World) -> Registration:
    [partner] = await world.partners(1)
    return await world.submit(partner, MICROSOFT)


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

    async def test_request_info_asks_the_partner_the_reason(self, world: World) -> None:
        first_partner, second_partner = await world.partners(2)
        first = await world.register(first_partner)
        subject = await world.register(second_partner)

        await resolve(world, subject, Resolution.request_info, "Who is your contact there?")

        now = await world.now(subject)
        assert (now.status, now.info_request) == (S.info_requested, "Who is your contact there?")
        assert (await world.now(first)).status is S.under_review

    async def test_a_rival_approved_before_the_resolution_loses_its_protection(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        rival = await world.register(first_partner, "Initech")
        assert isinstance(
            await world.decide(rival, Decision.approve, by=an_approver(1)), Registration
        )
        subject = await world.register(second_partner, "Initech")

        await resolve(world, subject, Resolution.award_partner)

        rival_now, subject_now = await stored(world, rival, subject)
        assert rival_now.status is RegistrationStatus.cancelled
        assert rival_now.protected_until is None
        assert subject_now.status is RegistrationStatus.approved

    async def test_a_possible_conflict_is_shown_but_never_moved(self, world: World) -> None:
        typo_partner, rival_partner, subject_partner = await world.partners(3)
        weak = await world.submit(typo_partner, LOOKALIKE)
        strong_rival = await world.submit(rival_partner, MICROSOFT)
        subject = await world.submit(subject_partner, MICROSOFT)
        async with world.storage.uow() as uow:
            found = await uow.findings.for_registration(subject.id or 0)
        assert {(f.claim.id, f.strength) for f in found} == {
            (weak.id, Strength.possible),
            (strong_rival.id, Strength.conflict),
        }

        result = await resolve(world, subject, Resolution.reject_both)

        assert isinstance(result, Resolved)
        assert [r.id for r in result.changed] == [strong_rival.id]
        weak_now, rival_now, subject_now = await stored(world, weak, strong_rival, subject)
        assert weak_now.status is RegistrationStatus.under_review
        assert rival_now.status is RegistrationStatus.rejected
        assert subject_now.status is RegistrationStatus.rejected

    async def test_reject_both_against_a_direct_account_rejects_for_that_account(
        self, world: World
    ) -> None:
        await world.crm(NAMED)
        first_partner, second_partner = await world.partners(2)
        rival = await world.register(first_partner, "Initech")
        subject = await world.register(second_partner, "Initech")

        await resolve(world, subject, Resolution.reject_both)

        for registration in await stored(world, rival, subject):
            assert registration.status is RegistrationStatus.rejected
            assert registration.rejection_reason is RejectionReason.named_account

    async def test_reject_both_between_partners_makes_each_a_duplicate(self, world: World) -> None:
        first_partner, second_partner = await world.partners(2)
        rival = await world.register(first_partner, "Initech")
        subject = await world.register(second_partner, "Initech")

        await resolve(world, subject, Resolution.reject_both)

        for registration in await stored(world, rival, subject):
            assert registration.rejection_reason is RejectionReason.duplicate

    async def test_reject_both_with_nothing_but_a_likeness_duplicates_nothing(
        self, world: World
    ) -> None:
        lookalike = Account("0011TYPO", "Microsfot", domain="microsfot.example", country="US")
        await world.crm(lookalike)
        subject = await register_microsoft(world)
        async with world.storage.uow() as uow:
            found = await uow.findings.for_registration(subject.id or 0)
        assert [f.strength for f in found] == [Strength.possible]

        await resolve(world, subject, Resolution.reject_both)

        [subject_now] = await stored(world, subject)
        assert subject_now.rejection_reason is RejectionReason.other

    async def test_co_sell_between_two_partners_is_refused_and_nothing_moves(
        self, world: World
    ) -> None:
        first_partner, second_partner = await world.partners(2)
        rival = await world.register(first_partner)
        subject = await world.register(second_partner)
        world.storage.take_queued()

        with pytest.raises(InvalidInput, match="Co-sell is with the direct team") as refused:
            await resolve(world, subject, Resolution.co_sell)

        assert refused.value.field == "reason"
        now = await stored(world, rival, subject)
        assert [(r.status, r.version) for r in now] == [
            (rival.status, rival.version),
            (subject.status, subject.version),
        ]
        assert world.storage.take_queued() == []

    async def test_co_sell_against_a_direct_account_approves_the_partner(
        self, world: World
    ) -> None:
        account = Account(
            "0011MSFT", "Microsoft Corporation", domain="microsoft.example", country="US",
            owner_slack_id="U0STRONG",
        )  # fmt: skip
        await world.crm(account)
        subject = await register_microsoft(world)
        world.storage.take_queued()

        await resolve(world, subject, Resolution.co_sell)

        [now] = await stored(world, subject)
        assert now.status is RegistrationStatus.approved
        assert sent(world.storage.take_queued()).count((K.direct_notice, subject.id)) == 1

    async def test_an_opportunity_closed_since_leaves_no_owner_and_nothing_moves(
        self, world: World
    ) -> None:
        opportunity = Opportunity(
            "0063GONE", None, "Microsoft", domain="microsoft.example", stage="Negotiation",
            owner_slack_id="U0ENDED",
        )  # fmt: skip
        await world.crm(opportunities=[opportunity])
        subject = await register_microsoft(world)
        await world.crm(opportunities=[replace(opportunity, stage="Closed Lost")])
        world.storage.take_queued()

        with pytest.raises(InvalidInput, match="No existing claim") as refused:
            await resolve(world, subject, Resolution.award_existing)

        assert refused.value.field == "reason"
        [now] = await stored(world, subject)
        assert (now.status, now.version) == (subject.status, subject.version)
        assert world.storage.take_queued() == []

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
