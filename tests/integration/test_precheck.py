"""The neutral pre-check use case on SQLite and PostgreSQL: the same engine as submission,
one yes/no-ish answer, nothing stored."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.checks import PrecheckResult, precheck
from domain.conflicts import ConflictRules
from domain.crm import Account
from domain.errors import InvalidInput
from domain.matching import CompanyRef
from domain.partner import Partner
from domain.services import SubmitRegistration, submit_registration
from storage.models import RegistrationFindingRow, RegistrationRow
from tests.integration.builders import HOST_TEAM, PROGRAM, T0, a_rep, some_details
from tests.integration.conftest import NewUow

RULES = ConflictRules()
GLOBEX = CompanyRef("Globex Corporation", domain="www.globex.com")


async def count(sessions: async_sessionmaker[AsyncSession], table: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def registered(new_uow: NewUow, partner: Partner) -> int:
    details = some_details(company="Globex", website="globex.com", contact_email=None)
    command = SubmitRegistration(details, a_rep(), channel_id=partner.channel_id)
    outcome = await submit_registration(
        command, uow=new_uow(), now=T0, program=PROGRAM, host_team_id=HOST_TEAM, rules=RULES
    )
    assert outcome.registration.id is not None
    return outcome.registration.id


async def test_nobody_holds_a_new_customer(new_uow: NewUow, partner: Partner) -> None:
    await registered(new_uow, partner)

    result = await precheck(
        CompanyRef("Vandelay", domain="vandelay.example"), uow=new_uow(), rules=RULES, now=T0
    )

    assert result == PrecheckResult(CompanyRef("Vandelay", domain="vandelay.example"), False)


async def test_a_registration_makes_it_may_overlap(new_uow: NewUow, partner: Partner) -> None:
    await registered(new_uow, partner)

    result = await precheck(GLOBEX, uow=new_uow(), rules=RULES, now=T0)

    assert result.may_overlap
    assert result.checked == GLOBEX
    assert [f.name for f in dataclasses.fields(result)] == ["checked", "may_overlap"]


async def test_a_direct_account_makes_it_may_overlap(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        await uow.crm.upsert_accounts([Account("0011", "Globex Intl", domain="globex.com")])
        await uow.commit()

    assert (await precheck(GLOBEX, uow=new_uow(), rules=RULES, now=T0)).may_overlap


async def test_a_registration_is_not_checked_against_itself(
    new_uow: NewUow, partner: Partner
) -> None:
    registration_id = await registered(new_uow, partner)

    result = await precheck(
        GLOBEX, uow=new_uow(), rules=RULES, now=T0, exclude_registration_id=registration_id
    )

    assert not result.may_overlap


async def test_it_stores_nothing(
    new_uow: NewUow, partner: Partner, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await registered(new_uow, partner)

    await precheck(GLOBEX, uow=new_uow(), rules=RULES, now=T0)

    assert await count(session_factory, RegistrationRow) == 1
    assert await count(session_factory, RegistrationFindingRow) == 0


async def test_an_empty_company_is_refused(new_uow: NewUow) -> None:
    with pytest.raises(InvalidInput):
        await precheck(CompanyRef(" "), uow=new_uow(), rules=RULES, now=T0)
