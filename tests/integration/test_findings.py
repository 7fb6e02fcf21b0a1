"""The desk's view of findings: each claim read as it is now, disputes, the evidence message."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.actor import Actor
from domain.conflicts import ClaimKind, ConflictRules
from domain.crm import Account, Opportunity
from domain.matching import Signal, Strength
from domain.messages import MessageKind, Notice
from domain.ownership import OwnershipRule
from domain.partner import Partner
from domain.registration import DealDetails, RegistrationStatus, RejectionReason
from domain.services import AddWorkingNote, Decide, Decision, SubmitOutcome, SubmitRegistration
from domain.slack_ids import SlackUserId
from storage.models import AuditEventRow, OutboxMessageRow
from tests.builders import (
    HOST_TEAM,
    NOW,
    PARTNER_TEAM,
    a_partner,
    a_rep,
    an_approver,
    calling,
    services,
    some_details,
)
from tests.integration.conftest import NewUow

RULES = ConflictRules()
GLOBEX = some_details(
    company="Globex Corporation",
    website="globex.com",
    contact_email="hank@globex.com",
    country="DE",
)
DIRECT_REP = Actor(team_id=HOST_TEAM, user_id=SlackUserId("U0DIRECT"))


async def linked(new_uow: NewUow, **fields: str) -> Partner:
    partner = a_partner(id=None, **fields)
    async with new_uow() as uow:
        await uow.partners.add(partner)
        await uow.commit()
    return partner


async def submit(
    new_uow: NewUow, partner: Partner, details: DealDetails = GLOBEX, *, after: int = 0
) -> SubmitOutcome:
    team = partner.slack_team_id or PARTNER_TEAM
    rep = calling(a_rep(team_id=team), partner.channel_id)
    return await services(
        new_uow, at=NOW + timedelta(hours=after), rules=RULES
    ).registrations.submit(SubmitRegistration(details), rep)


def rid(outcome: SubmitOutcome) -> int:
    assert outcome.registration.id is not None
    return outcome.registration.id


class TestFindingsAsTheyAreNow:
    async def test_a_rival_registration_comes_with_its_partner_amount_and_manager(
        self, new_uow: NewUow
    ) -> None:
        first_partner = await linked(
            new_uow,
            slack_team_id="T0FIRST",
            name="First Partners",
            tier="gold",
            manager_user_id="U0MGR",
        )
        second_partner = await linked(new_uow, slack_team_id="T0SECOND")
        first = await submit(
            new_uow,
            first_partner,
            some_details(
                company="Globex Corporation",
                website="globex.com",
                amount=Decimal("12000.00"),
                contact_email=None,
                country="DE",
            ),
        )
        second = await submit(new_uow, second_partner, after=2)

        async with new_uow() as uow:
            [found] = await uow.findings.for_registration(rid(second))

        assert found.claim.kind is ClaimKind.registration
        assert found.claim.id == rid(first)
        assert found.strength is Strength.conflict
        assert Signal.same_domain in {e.signal for e in found.evidence}
        assert (found.details.partner_name, found.details.partner_tier) == (
            "First Partners",
            "gold",
        )
        assert found.details.partner_manager == "U0MGR"
        assert found.details.amount == Decimal("12000.00")
        assert found.claim.created_at == NOW

    async def test_the_claim_is_read_again_so_a_later_decision_shows(self, new_uow: NewUow) -> None:
        first = await submit(new_uow, await linked(new_uow, slack_team_id="T0FIRST"))
        second = await submit(new_uow, await linked(new_uow, slack_team_id="T0SECOND"), after=1)
        decide = Decide(
            rid(first), first.registration.version, Decision.reject, RejectionReason.not_qualified
        )
        await services(new_uow).decisions.decide(decide, calling(an_approver()))

        case = await services(new_uow, at=NOW + timedelta(hours=2)).conflicts.case(rid(second))

        [found] = case.findings
        assert found.claim.status is RegistrationStatus.rejected
        assert not found.claim.is_active(NOW + timedelta(hours=2))
        assert case.recommendation is None  # no claim on the customer holds any more

    async def test_direct_claims_carry_owner_flags_stage_and_amount(self, new_uow: NewUow) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_accounts(
                [
                    Account(
                        "0011", "Globex", domain="globex.com", owner_slack_id="U0AE", is_named=True
                    )
                ]
            )
            await uow.crm.upsert_opportunities(
                [
                    Opportunity(
                        "0061",
                        "0011",
                        "Globex",
                        domain="globex.com",
                        stage="Proposal",
                        amount=Decimal("50000"),
                        owner_email="ae@vendor.example",
                        created_at=NOW - timedelta(days=3),
                    )
                ]
            )
            await uow.commit()
        outcome = await submit(new_uow, await linked(new_uow, slack_team_id="T0ONE"))

        case = await services(new_uow).conflicts.case(rid(outcome))

        by_kind = {f.claim.kind: f for f in case.findings}
        account = by_kind[ClaimKind.account].claim
        assert (account.owner_slack_id, account.is_named) == ("U0AE", True)
        opportunity = by_kind[ClaimKind.opportunity]
        assert opportunity.claim.stage == "Proposal"
        assert opportunity.claim.owner_email == "ae@vendor.example"
        assert opportunity.details.amount == Decimal("50000")
        assert opportunity.claim.created_at == NOW - timedelta(days=3)
        assert case.recommendation is not None
        assert case.recommendation.rule is OwnershipRule.named_account

    async def test_the_evidence_message_is_owed_only_when_something_was_found(
        self, new_uow: NewUow, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        first = await submit(new_uow, await linked(new_uow, slack_team_id="T0FIRST"))
        second = await submit(new_uow, await linked(new_uow, slack_team_id="T0SECOND"), after=1)

        async with session_factory() as session:
            rows = (
                await session.execute(
                    select(OutboxMessageRow.registration_id).where(
                        OutboxMessageRow.kind == MessageKind.evidence.value
                    )
                )
            ).scalars()
            owed = list(rows)
        # The first found nothing when it came: it owed no evidence. The second's check found
        # the first, so both show the pair: the second's evidence, then the first's.
        assert owed == [rid(second), rid(first)]


class TestWorkingNotes:
    async def test_a_direct_reps_working_note_is_kept_and_the_desk_is_told(
        self, new_uow: NewUow, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        outcome = await submit(new_uow, await linked(new_uow, slack_team_id="T0ONE"))
        note = AddWorkingNote(rid(outcome), "Demo booked for Monday", "https://x.example/m")

        await services(new_uow).conflicts.note_working(note, calling(DIRECT_REP))

        async with new_uow() as uow:
            [stored] = await uow.findings.working_notes(rid(outcome))
            disputed = await uow.findings.with_working_notes([rid(outcome), rid(outcome) + 1])
            registration = await uow.registrations.get(rid(outcome))
        assert (stored.by_user_id, stored.note, stored.link) == (
            "U0DIRECT",
            "Demo booked for Monday",
            "https://x.example/m",
        )
        assert disputed == {rid(outcome)}
        assert registration is not None
        assert registration.status is RegistrationStatus.under_review
        async with session_factory() as session:
            actions = list(
                (
                    await session.execute(
                        select(AuditEventRow.action).where(
                            AuditEventRow.registration_id == rid(outcome)
                        )
                    )
                ).scalars()
            )
            notices = list(
                (
                    await session.execute(
                        select(OutboxMessageRow.kind, OutboxMessageRow.notice).where(
                            OutboxMessageRow.notice == Notice.working.value
                        )
                    )
                ).all()
            )
        assert actions[-1] == "dispute"
        assert [tuple(n) for n in notices] == [(MessageKind.desk_notice.value, "disputed")]
