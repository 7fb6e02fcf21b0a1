"""The pre-check use case on SQLite and PostgreSQL: the same engine as submission; a partner
hears of its own registrations only (and of others' claims only when the policy says so);
nothing stored."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.checks import PrecheckResult
from domain.conflicts import ConflictRules
from domain.crm import Account
from domain.errors import InvalidInput
from domain.matching import CompanyRef
from domain.partner import Partner
from domain.policy import PrivacyPolicy
from storage.models import RegistrationFindingRow, RegistrationRow
from tests.builders import NOW, a_rep, an_approver, calling, services
from tests.integration.claims import partners, register
from tests.integration.conftest import NewUow

RULES = ConflictRules()
OWN_ONLY = PrivacyPolicy()
SEE_OVERLAPS = PrivacyPolicy(partners_see_overlaps=True)
GLOBEX = CompanyRef("Globex Corporation", domain="www.globex.example")
GLOBEX_COM = CompanyRef("Globex Corporation", domain="www.globex.com")  # the direct account's
VANDELAY = CompanyRef("Vandelay", domain="vandelay.example")


async def count(sessions: async_sessionmaker[AsyncSession], table: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def check(
    new_uow: NewUow,
    ref: CompanyRef,
    partner: Partner | None,
    *,
    privacy: PrivacyPolicy = OWN_ONLY,
    staff: bool = False,
    exclude: int | None = None,
) -> PrecheckResult:
    checks = services(new_uow, at=NOW + timedelta(days=1), rules=RULES, privacy=privacy).checks
    asking = calling(an_approver() if staff else a_rep())
    return await checks.precheck(
        ref, asking, partner_id=partner.id if partner else None, exclude_registration_id=exclude
    )


async def test_the_result_holds_nothing_of_anyone_else(new_uow: NewUow) -> None:
    assert [f.name for f in dataclasses.fields(PrecheckResult)] == [
        "checked",
        "partner",
        "own",
        "others_may_overlap",
        "staff",
    ]
    acme, globex = await partners(new_uow, 2)
    await register(new_uow, globex, "Globex Corporation")

    result = await check(new_uow, GLOBEX, acme, privacy=SEE_OVERLAPS)

    assert result == PrecheckResult(GLOBEX, acme, (), others_may_overlap=True)


class TestByDefault:
    async def test_another_partners_claim_reads_like_no_claim(self, new_uow: NewUow) -> None:
        acme, globex = await partners(new_uow, 2)
        await register(new_uow, globex, "Globex Corporation")

        claimed = await check(new_uow, GLOBEX, acme)
        free = await check(new_uow, VANDELAY, acme)

        assert claimed == PrecheckResult(GLOBEX, acme)
        assert free == PrecheckResult(VANDELAY, acme)

    async def test_a_direct_account_reads_like_no_claim(self, new_uow: NewUow) -> None:
        [acme] = await partners(new_uow, 1)
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account("0011", "Globex Intl", domain="globex.com")])
            await uow.commit()

        assert await check(new_uow, GLOBEX_COM, acme) == PrecheckResult(GLOBEX_COM, acme)

    async def test_the_partners_own_registration_is_listed(self, new_uow: NewUow) -> None:
        acme, globex = await partners(new_uow, 2)
        mine = await register(new_uow, acme, "Globex Corporation")
        await register(new_uow, globex, "Globex Corporation", at=NOW + timedelta(hours=1))

        result = await check(new_uow, GLOBEX, acme)

        assert [r.id for r in result.own] == [mine.id]
        assert result.own[0].partner_id == acme.id
        assert result.others_may_overlap is None

    async def test_several_are_listed_newest_first(self, new_uow: NewUow) -> None:
        [acme] = await partners(new_uow, 1)
        made = [
            await register(new_uow, acme, "Globex Corporation", at=NOW + timedelta(hours=hour))
            for hour in (0, 2, 1)
        ]

        result = await check(new_uow, GLOBEX, acme)

        assert [r.id for r in result.own] == [made[1].id, made[2].id, made[0].id]

    async def test_a_withdrawn_registration_is_no_longer_listed(self, new_uow: NewUow) -> None:
        [acme] = await partners(new_uow, 1)
        mine = await register(new_uow, acme, "Globex Corporation")
        assert mine.id is not None
        await services(new_uow).registrations.withdraw(
            mine.id, calling(a_rep(team_id=acme.slack_team_id), acme.channel_id)
        )

        assert (await check(new_uow, GLOBEX, acme)).own == ()

    async def test_the_registration_being_answered_is_not_listed(self, new_uow: NewUow) -> None:
        [acme] = await partners(new_uow, 1)
        earlier = await register(new_uow, acme, "Globex Corporation")
        answered = await register(new_uow, acme, "Globex Corporation", at=NOW + timedelta(hours=1))

        result = await check(new_uow, GLOBEX, acme, exclude=answered.id)

        assert [r.id for r in result.own] == [earlier.id]


class TestWhenPartnersSeeOverlaps:
    async def test_another_partners_claim_may_overlap(self, new_uow: NewUow) -> None:
        acme, globex = await partners(new_uow, 2)
        await register(new_uow, globex, "Globex Corporation")

        result = await check(new_uow, GLOBEX, acme, privacy=SEE_OVERLAPS)

        assert result.others_may_overlap is True
        assert result.own == ()

    async def test_a_direct_account_may_overlap(self, new_uow: NewUow) -> None:
        [acme] = await partners(new_uow, 1)
        async with new_uow() as uow:
            await uow.crm.upsert_accounts([Account("0011", "Globex Intl", domain="globex.com")])
            await uow.commit()

        assert (await check(new_uow, GLOBEX_COM, acme, privacy=SEE_OVERLAPS)).others_may_overlap

    async def test_its_own_registration_is_not_another_claim(self, new_uow: NewUow) -> None:
        [acme] = await partners(new_uow, 1)
        mine = await register(new_uow, acme, "Globex Corporation")

        result = await check(new_uow, GLOBEX, acme, privacy=SEE_OVERLAPS)

        assert [r.id for r in result.own] == [mine.id]
        assert result.others_may_overlap is False

    async def test_a_new_customer_has_no_claim(self, new_uow: NewUow) -> None:
        acme, globex = await partners(new_uow, 2)
        await register(new_uow, globex, "Globex Corporation")

        result = await check(new_uow, VANDELAY, acme, privacy=SEE_OVERLAPS)

        assert result == PrecheckResult(VANDELAY, acme, (), others_may_overlap=False)


class TestForStaff:
    async def test_staff_always_learn_whether_a_claim_may_overlap(self, new_uow: NewUow) -> None:
        [globex] = await partners(new_uow, 1)
        await register(new_uow, globex, "Globex Corporation")

        result = await check(new_uow, GLOBEX, None, staff=True)

        assert result == PrecheckResult(GLOBEX, None, (), others_may_overlap=True, staff=True)

    async def test_the_picked_partners_registrations_are_listed(self, new_uow: NewUow) -> None:
        acme, globex = await partners(new_uow, 2)
        mine = await register(new_uow, acme, "Globex Corporation")

        for_acme = await check(new_uow, GLOBEX, acme, staff=True)
        for_globex = await check(new_uow, GLOBEX, globex, staff=True)

        assert ([r.id for r in for_acme.own], for_acme.others_may_overlap) == ([mine.id], False)
        assert (for_globex.own, for_globex.others_may_overlap) == ((), True)


async def test_it_stores_nothing(
    new_uow: NewUow, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    [acme] = await partners(new_uow, 1)
    await register(new_uow, acme, "Globex Corporation")

    await check(new_uow, GLOBEX, acme, privacy=SEE_OVERLAPS)

    assert await count(session_factory, RegistrationRow) == 1
    assert await count(session_factory, RegistrationFindingRow) == 0


async def test_an_empty_company_is_refused(new_uow: NewUow) -> None:
    with pytest.raises(InvalidInput):
        await check(new_uow, CompanyRef(" "), None)
