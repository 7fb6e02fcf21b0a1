"""An alias an admin adds (from the CLI, another process) counts from the bot's next check."""

from __future__ import annotations

import json

from domain.crm import Account
from domain.services import ServiceContext, Services
from storage.db import make_engine, make_session_factory
from storage.uow import uow_factory
from tests.slack import payloads as p
from tests.slack.conftest import World
from tests.slack.test_conflict_check import dibs, import_account


async def test_dibs_check_uses_an_alias_added_while_the_bot_runs(world: World) -> None:
    await import_account(world, Account("0011RACC", "Raccoon Pharma Inc"))
    await dibs(world, p.INTERNAL_REP, "check Umbrella Corporation")
    [before] = await world.fake.wait_for_hook_posts()
    assert "No existing claim found" in json.dumps(before.body)

    engine = make_engine(world.deps.settings.database_url)  # as `dibs aliases add` would
    try:
        cli = ServiceContext(
            uow=uow_factory(make_session_factory(engine)),
            clock=world.deps.clock,
            desk=world.deps.config.desk,
            program=world.deps.config.program,
        )
        await Services.bind(cli).aliases.add(
            "Umbrella Corporation", "Raccoon Pharma", added_by="cli"
        )
    finally:
        await engine.dispose()
    world.fake.hook_posts.clear()
    world.deps.rules_max_age = 0.0  # the aliases it read before are now too old to trust
    await dibs(world, p.INTERNAL_REP, "check Umbrella Corporation")

    [after] = await world.fake.wait_for_hook_posts()
    shown = json.dumps(after.body)
    assert "Account 0011RACC" in shown
    assert "alias" in shown
