"""One owner per customer when the desk's decisive steps truly race: two `dibs serve`
processes (two apps, two outbox workers, two engines) on one PostgreSQL database.

Hypothesis chooses, for fresh customers each time, which partners register them (and
whether the direct team holds one), then what every approver does to every registration at
the same moment, and through which process: Approve on the review card, Approve from App
Home, a resolution from the conflict thread (submitted from its modal), a rejection. All of
it is sent at once; afterwards at most one registration of each customer is approved (a
co-sell beside the direct team), whatever interleaving PostgreSQL chose.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.ids import Action, Block, Callback
from bot.views.common import RegistrationRef
from domain.crm import Account
from domain.services import LinkPartner
from domain.slack_ids import SlackChannelId, SlackTeamId, SlackUserId
from storage.db import make_engine
from storage.migrate import upgrade
from tests.integration.conftest import PG_URL, SKIP_POSTGRES
from tests.slack import payloads as p
from tests.slack.conftest import (
    ACME_CHANNEL,
    DESK,
    ENV_NAMES,
    GLOBEX_CHANNEL,
    World,
    dibs_config,
    running_dibs,
    text_of,
    with_approvers,
)
from tests.slack.fake_slack import FakeSlack
from tests.slack.one_owner import approve_buttons, assert_one_owner

pytestmark = pytest.mark.postgres

SOYLENT_REP = p.Person(SlackUserId("U0SOYLENT"), SlackTeamId("T0SOYLENT"), name="sol.soylent")
SOYLENT_CHANNEL = SlackChannelId("C0SOYLENT")
SECOND_APPROVER = p.Person(SlackUserId("U0APPROVER2"), p.HOST_TEAM, name="bo.approver")
REPS: dict[str, p.Person] = {
    ACME_CHANNEL: p.PARTNER_REP,
    GLOBEX_CHANNEL: p.OTHER_PARTNER_REP,
    SOYLENT_CHANNEL: SOYLENT_REP,
}
MOVES = ("approve", "approve_home", "award", "existing", "reject", "nothing")
TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class Move:
    """What one approver does to one registration, through which process."""

    what: str
    process: int
    approver: p.Person


@contextlib.asynccontextmanager
async def pg_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for this test (dropped afterwards), migrated."""
    if SKIP_POSTGRES:
        pytest.skip("DIBS_SKIP_POSTGRES=1")
    name = f"dibs_races_{secrets.token_hex(4)}"
    admin = make_engine(PG_URL, connect_args={"timeout": 5}).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade(url)
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@contextlib.asynccontextmanager
async def two_processes() -> AsyncIterator[tuple[World, World]]:
    """Two Dibs processes on one database, with three partners linked."""
    config = with_approvers(dibs_config(), SECOND_APPROVER.user_id)
    async with pg_database() as url, FakeSlack() as fake:
        fake.add_channel(ACME_CHANNEL, connected_team_ids=[p.HOST_TEAM, "T0ACME"])
        fake.add_channel(SOYLENT_CHANNEL, connected_team_ids=[p.HOST_TEAM, "T0SOYLENT"])
        async with (
            running_dibs(url, fake, config=config) as one,
            running_dibs(url, fake, config=config, link_acme=False) as two,
        ):
            await one.link_globex()
            await one.deps.services.partners.link(
                LinkPartner("Soylent Partners", "Silver", SOYLENT_CHANNEL, SlackTeamId("T0SOYLENT"))
            )
            one.deps.kick_outbox()
            await one.delivered()
            yield one, two


class Desk:
    """Prepares each move up to its decisive request, then sends them all at once."""

    def __init__(self, worlds: tuple[World, World]) -> None:
        self.worlds = worlds

    async def prepare(self, registration_id: int, move: Move) -> Callable[[], Awaitable[Any]]:
        world = self.worlds[move.process]
        registration = await world.registration(registration_id)
        if move.what in ("approve", "approve_home"):
            card = await world.card(DESK, registration.reference)
            [button] = approve_buttons(card)
            home = {"type": "home", "blocks": []} if move.what == "approve_home" else None
            payload = p.block_actions(
                move.approver,
                action_id=Action.review_approve,
                value=button["value"],
                channel_id=None if home else DESK,
                view=home,
                response_url=None if home else world.fake.hook_url(channel=DESK),
            )
            return lambda: world.slack.send_interaction(payload)
        if move.what == "reject":
            ref = RegistrationRef(id=registration_id, version=registration.version)
            metadata = ref.model_dump_json()
            values = p.values(
                {
                    Block.reject_reason: p.select_value("not_qualified"),
                    Block.reject_note: p.text_value(None),
                }
            )
            return lambda: world.submit(
                move.approver, Callback.reject_submit, values, metadata=metadata
            )
        view = await self._resolution_modal(world, registration.reference, move)
        if view is None:
            return _nothing
        values = p.values({Block.resolve_reason: p.text_value("Settled on the desk call.")})
        return lambda: world.submit(
            move.approver, Callback.resolve_submit, values, metadata=view["private_metadata"]
        )

    async def _resolution_modal(
        self, world: World, reference: str, move: Move
    ) -> dict[str, Any] | None:
        """Open the resolution's modal from the thread (award the partner, or co-sell where
        the direct team holds the customer; or award the existing owner)."""
        replies = await world.thread_replies(DESK, reference)
        cases = [m for m in replies if Action.conflict_working in text_of(m)]
        if not cases:
            return None
        message = cases[-1]
        wanted = (
            (Action.resolve_award_existing,)
            if move.what == "existing"
            else (Action.resolve_award_partner, Action.resolve_co_sell)
        )
        buttons = [
            e
            for b in message["blocks"]
            for e in b.get("elements", [])
            if e.get("action_id") in wanted
        ]
        if not buttons:
            return None
        opened = len(world.fake.calls_to("views.open"))
        payload = p.block_actions(
            move.approver,
            action_id=buttons[0]["action_id"],
            value=buttons[0]["value"],
            block_id="conflict-resolve",
            channel_id=DESK,
            message=message,
            response_url=world.fake.hook_url(channel=DESK),
        )
        await world.slack.send_interaction(payload)
        calls = await world.fake.wait_for("views.open", count=opened + 1, timeout=TIMEOUT)
        view: dict[str, Any] = calls[-1].params["view"]
        return view


async def _nothing() -> None:
    return None


async def quiet(worlds: tuple[World, World]) -> None:
    """Wait until the work after every ack is done and both outboxes are empty."""
    fake = worlds[0].fake
    previous = -1
    while len(fake.calls) != previous:
        previous = len(fake.calls)
        await asyncio.sleep(0.3)
        for world in worlds:
            world.deps.kick_outbox()
            await world.delivered(timeout=TIMEOUT)


CASES = st.lists(
    st.tuples(
        st.lists(st.sampled_from(sorted(REPS)), min_size=2, max_size=3),
        st.booleans(),  # the direct team holds this customer
    ),
    min_size=1,
    max_size=2,
)
MOVE = st.builds(
    Move,
    what=st.sampled_from(MOVES),
    process=st.integers(0, 1),
    approver=st.sampled_from([p.APPROVER, SECOND_APPROVER]),
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("clean_env")
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(cases=CASES, moves=st.lists(st.lists(MOVE, min_size=1, max_size=2), min_size=6, max_size=6))
def test_racing_decisions_on_two_processes_leave_one_owner_per_customer(
    cases: list[tuple[list[str], bool]], moves: list[list[Move]]
) -> None:
    asyncio.run(asyncio.wait_for(_race(cases, moves), 180))


async def _race(cases: list[tuple[list[str], bool]], moves: list[list[Move]]) -> None:
    async with two_processes() as worlds:
        one = worlds[0]
        direct: set[str] = set()
        registrations: list[int] = []
        for n, (channels, held) in enumerate(cases):
            website = f"customer{n}-{secrets.token_hex(3)}.example"
            if held:
                direct.add(website)
                async with one.deps.uow() as uow:
                    await uow.crm.upsert_accounts(
                        [Account(f"0011{n}", f"Customer {n} Ltd", domain=website)]
                    )
                    await uow.commit()
            for channel in channels:
                await one.register(
                    REPS[channel],
                    channel_id=channel,
                    company=f"Customer {n}",
                    website=website,
                )
                registrations.append(await one.registration_count())
        await quiet(worlds)
        desk = Desk(worlds)
        sends = [
            await desk.prepare(registration_id, move)
            for registration_id, planned in zip(registrations, moves, strict=False)
            for move in planned
        ]

        await asyncio.gather(*(send() for send in sends))

        await quiet(worlds)
        await assert_one_owner(one.deps.engine, direct_websites=direct)
