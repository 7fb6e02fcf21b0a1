"""The pre-check use case on SQLite and PostgreSQL: it runs the submission's engine on
storage and stores nothing (what it tells whom is tested on the fake: tests/services)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.conflicts import ConflictRules
from domain.matching import CompanyRef
from domain.policy import PrivacyPolicy
from storage.models import RegistrationFindingRow, RegistrationRow
from tests.builders import NOW, a_rep, calling, services
from tests.integration.claims import partners, register
from tests.integration.conftest import NewUow

RULES = ConflictRules()
SEE_OVERLAPS = PrivacyPolicy(partners_see_overlaps=True)
GLOBEX = CompanyRef("Globex Corporation", domain="www.globex.example")


async def count(sessions: async_sessionmaker[AsyncSession], table: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_it_stores_nothing(
    new_uow: NewUow, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    [acme] = await partners(new_uow, 1)
    mine = await register(new_uow, acme, "Globex Corporation")

    checks = services(new_uow, at=NOW + timedelta(days=1), rules=RULES, privacy=SEE_OVERLAPS)
    result = await checks.checks.precheck(GLOBEX, calling(a_rep()), partner_id=acme.id)

    assert [r.id for r in result.own] == [mine.id]
    assert await count(session_factory, RegistrationRow) == 1
    assert await count(session_factory, RegistrationFindingRow) == 0
