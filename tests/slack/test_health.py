"""`GET /healthz`: what a load balancer or an operator sees of a running Dibs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import EVENTS_PATH
from bot.bootstrap import make_uow_factory
from domain.messages import PartnerCard
from domain.services import ServiceContext, Services
from storage.db import make_engine
from tests.slack.conftest import World


async def health(world: World) -> tuple[int, Any]:
    """Status and JSON body of `GET /healthz` on the running app."""
    url = world.slack.url.removesuffix(EVENTS_PATH) + "/healthz"
    async with world.slack.session.get(url) as response:
        return response.status, await response.json()


async def queue_not_yet_due(world: World, count: int) -> None:
    """Owe `count` card updates that are due tomorrow, so the worker leaves them pending."""
    uow = world.deps.uow()
    async with uow:
        await uow.outbox.put(
            [PartnerCard(100 + n) for n in range(count)],
            now=world.deps.clock() + timedelta(days=1),
        )
        await uow.commit()


@pytest.fixture
async def unreachable_database(world: World, tmp_path: Path) -> AsyncIterator[None]:
    """The app's use cases now open a database file in a folder that does not exist."""
    engine: AsyncEngine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'dibs.db'}")
    deps, working = world.deps, world.deps.services
    deps.services = Services.bind(
        ServiceContext(
            uow=make_uow_factory(engine),
            clock=deps.clock,
            desk=deps.config.desk,
            program=deps.config.program,
        )
    )
    try:
        yield
    finally:
        deps.services = working
        await engine.dispose()


class TestHealth:
    async def test_a_healthy_app_with_nothing_owed_reports_zero_pending(self, world: World) -> None:
        assert [row.delivered_at is not None for row in await world.outbox_rows()] == [True]

        assert await health(world) == (200, {"ok": True, "outbox_pending": 0})

    async def test_counts_the_messages_not_yet_delivered(self, world: World) -> None:
        await queue_not_yet_due(world, 3)

        assert await health(world) == (200, {"ok": True, "outbox_pending": 3})

    @pytest.mark.usefixtures("unreachable_database")
    async def test_an_unreachable_database_is_unhealthy(self, world: World) -> None:
        status, body = await health(world)

        assert (status, body) == (503, {"ok": False, "database": "unreachable"})
