"""The conflict check in the use cases: stored with the registration, seen by other processes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Self

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.conflicts import ClaimKind, ConflictRules, FindingCounts
from domain.crm import Account
from domain.matching import CompanyRef, Signal, Strength
from domain.messages import OutboxMessage
from domain.partner import Partner
from domain.registration import DealDetails, Registration
from domain.services import Decide, Decision, Resubmit, SubmitOutcome, SubmitRegistration
from storage.models import CompanyKeyRow, RegistrationFindingRow, RegistrationRow
from storage.uow import SqlAlchemyUnitOfWork
from tests.builders import (
    NOW,
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


async def submit(new_uow: NewUow, partner: Partner, details: DealDetails = GLOBEX) -> SubmitOutcome:
    rep = calling(a_rep(), partner.channel_id)
    return await services(new_uow, rules=RULES).registrations.submit(
        SubmitRegistration(details), rep
    )


async def count(sessions: async_sessionmaker[AsyncSession], table: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


class TestSubmit:
    async def test_stores_the_findings_with_the_registration(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_accounts(
                [Account("0011", "Globex", domain="globex.com", is_customer=True)]
            )
            await uow.commit()

        outcome = await submit(new_uow, partner)

        [finding] = outcome.findings
        assert finding.claim.kind is ClaimKind.account
        assert finding.claim.is_customer
        assert finding.strength is Strength.conflict
        assert outcome.registration.id is not None
        async with new_uow() as uow:
            counts = await uow.conflicts.finding_counts([outcome.registration.id])
        assert counts == {outcome.registration.id: FindingCounts(conflicts=1)}

    async def test_a_second_partners_registration_finds_the_first(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        other = a_partner(id=None, slack_team_id="T0OTHER")
        async with new_uow() as uow:
            await uow.partners.add(other)
            await uow.commit()
        first = await submit(new_uow, partner)
        assert first.findings == ()

        rep = calling(a_rep(team_id="T0OTHER"), other.channel_id)
        second = await services(new_uow, rules=RULES).registrations.submit(
            SubmitRegistration(GLOBEX), rep
        )

        [finding] = second.findings
        assert (finding.claim_kind, finding.claim_id) == (
            ClaimKind.registration,
            first.registration.id,
        )
        assert finding.claim.partner_id == partner.id
        assert Signal.same_domain in finding.signals

    async def test_a_failure_rolls_back_registration_keys_and_findings_together(
        self, session_factory: async_sessionmaker[AsyncSession], new_uow: NewUow, partner: Partner
    ) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account("0011", "Globex", domain="globex.com")])
            await uow.commit()
        keys_before = await count(session_factory, CompanyKeyRow)
        failing = OutboxFails(session_factory)
        rep = calling(a_rep(), partner.channel_id)

        with pytest.raises(RuntimeError, match="outbox down"):
            await services(lambda: failing, rules=RULES).registrations.submit(
                SubmitRegistration(GLOBEX), rep
            )

        assert await count(session_factory, RegistrationRow) == 0
        assert await count(session_factory, RegistrationFindingRow) == 0
        assert await count(session_factory, CompanyKeyRow) == keys_before


class TestResubmit:
    async def test_new_details_are_checked_again_and_replace_the_findings(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account("0011", "Initech", domain="initech.com")])
            await uow.commit()
        outcome = await submit(new_uow, partner)
        registration = await ask_for_info(new_uow, outcome.registration)
        assert registration.id is not None

        await services(new_uow, at=NOW + timedelta(hours=2), rules=RULES).registrations.resubmit(
            Resubmit(
                registration.id,
                registration.version,
                some_details(company="Initech", website="initech.com"),
            ),
            calling(a_rep()),
        )

        async with new_uow() as uow:
            counts = await uow.conflicts.finding_counts([registration.id])
        assert counts == {registration.id: FindingCounts(conflicts=1)}


class TestCheckCompany:
    async def test_a_registration_committed_in_one_unit_of_work_is_found_from_another(
        self, new_uow: NewUow, partner: Partner
    ) -> None:
        outcome = await submit(new_uow, partner)

        check = await services(new_uow, rules=RULES).checks.company(
            CompanyRef("Globex Corp", domain="www.globex.com")
        )

        [finding] = check.findings
        assert finding.claim_id == outcome.registration.id
        assert check.partner_of(finding) == partner
        assert check.counts == FindingCounts(conflicts=1)


async def ask_for_info(new_uow: NewUow, registration: Registration) -> Registration:
    assert registration.id is not None
    return await services(new_uow, at=NOW + timedelta(hours=1)).decisions.decide(
        Decide(registration.id, registration.version, Decision.request_info, note="?"),
        calling(an_approver()),
    )


class BrokenOutbox:
    async def put(self, messages: Sequence[OutboxMessage], *, now: datetime) -> None:
        raise RuntimeError("outbox down")


class OutboxFails(SqlAlchemyUnitOfWork):
    """A unit of work whose outbox fails after the registration and findings were written."""

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.outbox = BrokenOutbox()  # type: ignore[assignment]
        return self
