"""The desk channel is never shared with another organisation (issue 14, point 6).

`dibs serve` refuses to start on a shared desk channel; linking refuses the desk channel; and
when the desk channel becomes shared while Dibs runs, review cards, evidence and desk notices
are held (the partner's side keeps flowing), the log says why, and each admin gets one direct
message. Once the channel is internal again the held messages go out.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.bootstrap import utc_now
from bot.cli import main
from bot.config import DibsConfig
from bot.ids import Action, Block, Callback
from bot.server import serve_forever
from bot.settings import Settings, SettingsError, get_settings
from domain.slack_ids import SlackTeamId, SlackUserId
from storage.migrate import upgrade
from storage.models import OutboxMessageRow
from tests.slack import payloads as p
from tests.slack.conftest import (
    ACME_CHANNEL,
    DESK,
    ENV_NAMES,
    World,
    dibs_config,
    running_dibs,
    text_of,
)
from tests.slack.fake_slack import FakeSlack, JsonDict
from tests.slack.test_socket_mode import (
    HOST,
    free_port,
    socket_mode_settings,
    stopped,
    until,
    write_config,
)

OUTSIDER = SlackTeamId("T0OUTSIDE")
"""Another organisation's workspace that joins the desk channel."""
SECOND_ADMIN = p.Person(SlackUserId("U0ADMIN2"), p.HOST_TEAM, name="ada.admin")
ADMINS = (p.ADMIN.user_id, SECOND_ADMIN.user_id)
SHARED_AT_START = (
    "the desk channel C0DESK is shared with another organisation (Slack Connect); review cards "
    "and conflict evidence would reach it. Configure an internal channel in [desk] channel."
)
DESK_SIDE = ("review_card", "desk_notice", "evidence", "evidence_page")
UMBRELLA = {
    "company": "Umbrella Corp",
    "website": "https://umbrella.example",
    "contact_email": "alice@umbrella.example",
}
"""A second customer, unrelated to the first (no conflict between them)."""


class MovableClock:
    """The process's clock, which a test can move forward (held messages come due)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utc_now() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def desk_config() -> DibsConfig:
    """Two admins, so "each admin is told once" can be seen."""
    config = dibs_config()
    desk = replace(config.desk, admins=frozenset(ADMINS))
    return config.model_copy(update={"desk": desk})


@pytest.fixture
async def world(
    database_url: str,
    desk_config: DibsConfig,
    clock: MovableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    """The usual world, on a clock the test can move."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    await upgrade(database_url)
    async with FakeSlack() as fake:
        fake.add_channel(ACME_CHANNEL, connected_team_ids=[p.HOST_TEAM, p.PARTNER_REP.team_id])
        async with running_dibs(database_url, fake, config=desk_config, clock=clock) as world:
            yield world


def share_desk(world: World) -> None:
    """Someone invites another organisation into the desk channel (Slack Connect)."""
    world.fake.add_channel(DESK, shared_with=[OUTSIDER])


def unshare_desk(world: World) -> None:
    """The other organisation is removed: the desk channel is internal again."""
    world.fake.add_channel(DESK)


def alerts(world: World, user_id: str) -> list[JsonDict]:
    """The direct messages Dibs sent `user_id` about the desk channel."""
    return [m for m in world.fake.messages_in(user_id) if "deal-desk channel" in text_of(m)]


async def alerted(world: World, *, timeout: float = 5.0) -> None:
    """Wait until every admin got the direct message about the shared desk channel."""

    async def told() -> bool:
        return all(alerts(world, admin) for admin in ADMINS)

    await world.eventually(told, "every admin told", timeout=timeout)


async def desk_rows(world: World, registration_id: int = 1) -> list[OutboxMessageRow]:
    return [
        row
        for row in await world.outbox_rows()
        if row.registration_id == registration_id and row.kind in DESK_SIDE
    ]


async def held(world: World, registration_id: int = 1, *, times: int = 1) -> OutboxMessageRow:
    """Wait until the registration's undelivered review card was held back `times` times."""

    async def waiting() -> OutboxMessageRow | None:
        rows = await desk_rows(world, registration_id)
        return next((r for r in rows if r.kind == "review_card" and not r.delivered_at), None)

    async def review_card_held() -> bool:
        row = await waiting()
        return row is not None and row.attempts >= times and row.last_error is not None

    await world.eventually(review_card_held, f"review card of {registration_id} held")
    row = await waiting()
    assert row is not None
    return row


def log_lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


# --- becoming shared while Dibs runs ------------------------------------------------------


async def test_a_registration_while_the_desk_is_shared_reaches_the_partner_only(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    share_desk(world)

    reply = await world.register()
    partner_card = await world.card(ACME_CHANNEL)
    row = await held(world)
    await alerted(world)

    assert reply.status == 200
    assert "Initech" in text_of(partner_card)
    assert world.fake.all_text_sent_to(DESK) == ""
    assert row.kind == "review_card"
    assert row.delivered_at is None
    assert row.failed_at is None
    assert row.last_error == ("held: the desk channel C0DESK is shared with another organisation")
    for admin in ADMINS:
        [alert] = alerts(world, admin)
        assert "<#C0DESK>" in alert["text"]
        assert "shared with another organisation" in alert["text"]
    [error] = log_lines(caplog, logging.ERROR)
    assert "the desk channel C0DESK is shared with another organisation" in error
    assert "U0ADMIN, U0ADMIN2" in error


async def test_held_desk_messages_go_out_once_the_desk_is_internal_again(
    world: World, clock: MovableClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    share_desk(world)
    await world.register()
    await held(world)
    await alerted(world)

    # Six minutes on the desk is still shared: held again, and nobody is told twice.
    clock.advance(minutes=6)
    await held(world, times=2)
    assert world.fake.all_text_sent_to(DESK) == ""

    unshare_desk(world)
    clock.advance(minutes=6)
    review_card = await world.card(DESK)
    await world.delivered()

    assert "Initech" in text_of(review_card)
    assert [row.delivered_at is not None for row in await desk_rows(world)] == [True]
    assert [len(alerts(world, admin)) for admin in ADMINS] == [1, 1]
    assert len(log_lines(caplog, logging.ERROR)) == 1
    assert any("C0DESK is internal again" in line for line in log_lines(caplog, logging.WARNING))


async def test_a_decision_on_a_shared_desk_tells_the_partner_and_holds_the_desk_side(
    world: World,
) -> None:
    await world.register()
    await world.card(DESK)
    await world.delivered()
    share_desk(world)
    await world.slack.send_event(p.event_callback(p.channel_shared(DESK, OUTSIDER)))
    await alerted(world)

    desk_before = world.fake.all_text_sent_to(DESK)

    await world.decide(p.APPROVER, Action.review_approve, await world.registration())
    await world.eventually(partner_side_delivered(world), "the partner told of the approval")
    await held(world, times=1)
    rows = [row for row in await desk_rows(world) if row.delivered_at is None]

    assert (await world.registration()).status == "approved"
    assert [row.kind for row in rows] == ["review_card", "desk_notice"]
    assert world.fake.all_text_sent_to(DESK) == desk_before


def partner_side_delivered(world: World) -> Callable[[], Awaitable[bool]]:
    """Whether the partner's card and notices are all out (the approval's included)."""

    async def check() -> bool:
        rows = [
            r for r in await world.outbox_rows() if r.kind in ("partner_card", "partner_notice")
        ]
        return any(r.kind == "partner_notice" for r in rows) and all(
            r.delivered_at is not None for r in rows
        )

    return check


# --- the channel_shared / channel_unshared events ------------------------------------------


async def test_a_channel_shared_event_alerts_each_admin_once_and_holds_the_next_review_card(
    world: World,
) -> None:
    await world.register()
    await world.card(DESK)  # internal: the review card went out, and that is trusted a while
    await world.delivered()
    share_desk(world)
    envelope = p.event_callback(p.channel_shared(DESK, OUTSIDER))

    first = await world.slack.send_event(envelope)
    await alerted(world)
    again = await world.slack.send_event(envelope, retry_num=1)  # Slack's retry of it
    await world.register(p.PARTNER_REP, **UMBRELLA)
    await world.card(ACME_CHANNEL, "AR-0002")
    await held(world, 2)

    assert first.status == again.status == 200
    assert "AR-0002" not in world.fake.all_text_sent_to(DESK)
    assert [len(alerts(world, admin)) for admin in ADMINS] == [1, 1]


async def test_a_channel_unshared_event_lets_the_desk_side_flow_at_once(
    world: World, clock: MovableClock
) -> None:
    share_desk(world)
    await world.slack.send_event(p.event_callback(p.channel_shared(DESK, OUTSIDER)))
    await alerted(world)
    await world.register()
    await held(world)

    unshare_desk(world)
    checks = len(world.fake.calls_to("conversations.info"))
    await world.slack.send_event(p.event_callback(p.channel_unshared(DESK, OUTSIDER)))
    await world.fake.wait_for("conversations.info", count=checks + 1)
    await world.register(p.PARTNER_REP, **UMBRELLA)
    second = await world.card(DESK, "AR-0002")  # no waiting for the last check to age
    clock.advance(minutes=6)  # the first one goes out at its next try
    first = await world.card(DESK, "AR-0001")
    await world.delivered()

    assert "Umbrella Corp" in text_of(second)
    assert "Initech" in text_of(first)


# --- a check that cannot be made -----------------------------------------------------------


async def test_a_desk_that_cannot_be_checked_is_reported_and_not_held(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a desk known to be shared holds messages: a check Slack cannot answer (here a
    missing scope) is logged with what to do, and the review card goes out as before."""
    caplog.set_level(logging.INFO)
    world.fake.fail("conversations.info", error="missing_scope", times=10_000)

    await world.register()
    await world.card(ACME_CHANNEL)
    review_card = await world.card(DESK)
    await world.delivered()

    assert "Initech" in text_of(review_card)
    assert [alerts(world, admin) for admin in ADMINS] == [[], []]
    [warning] = [line for line in log_lines(caplog, logging.WARNING) if "C0DESK" in line]
    assert "channels:read and groups:read" in warning


# --- linking refuses the desk channel ------------------------------------------------------


async def test_a_forged_setup_submission_for_the_desk_channel_links_nothing(
    world: World,
) -> None:
    reply = await world.submit(
        p.ADMIN,
        Callback.setup_submit,
        p.values({Block.setup_name: p.text_value("Evil"), Block.setup_tier: p.text_value("Gold")}),
        metadata=json.dumps({"channel_id": DESK}),
    )
    [refusal] = await world.fake.wait_for("chat.postEphemeral")

    assert reply.status == 200
    assert refusal.params["user"] == p.ADMIN.user_id
    assert "deal-desk channel" in refusal.params["text"]
    assert await world.deps.services.partners.for_channel(DESK) is None
    await world.delivered()
    assert world.fake.messages_in(DESK) == []


# --- dibs serve -----------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env or dibs.toml


@pytest.fixture
def gc_restored() -> Iterator[None]:
    """serve_forever tunes the process's garbage collector; give the test process its own back."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("clean_env")
async def test_serve_refuses_a_shared_desk_channel_before_it_connects(tmp_path: Path) -> None:
    port = free_port()
    async with FakeSlack() as fake:
        fake.add_channel(DESK, shared_with=[OUTSIDER])
        settings = socket_mode_settings(tmp_path, fake.api_url)
        await upgrade(settings.database_url)

        with pytest.raises(SettingsError) as refused:
            async with asyncio.timeout(10):  # a server that started would never return
                await serve_forever(settings, host=HOST, port=port)

        assert str(refused.value) == SHARED_AT_START
        assert fake.calls_to("apps.connections.open") == []
        assert fake.socket_connections == 0


@pytest.mark.usefixtures("clean_env")
async def test_dibs_serve_on_a_shared_desk_channel_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    async with FakeSlack() as fake:
        fake.add_channel(DESK, shared_with=[OUTSIDER])
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh")
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        monkeypatch.setenv("DIBS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'dibs.db'}")
        monkeypatch.setenv("DIBS_CONFIG", str(write_config(tmp_path / "dibs.toml", dibs_config())))
        get_settings.cache_clear()
        try:
            result = await asyncio.to_thread(
                CliRunner().invoke, main, ["serve", "--port", str(free_port())]
            )
        finally:
            get_settings.cache_clear()
            root.handlers[:] = handlers  # `main` points logging at the runner's closed stderr
            root.setLevel(level)

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"dibs: error: {SHARED_AT_START}"]
    assert [c.method for c in fake.calls] == ["auth.test", "conversations.info"]


@pytest.mark.usefixtures("clean_env", "gc_restored")
@pytest.mark.parametrize(
    ("error", "advice"),
    [
        ("channel_not_found", "invite the bot to the desk channel"),
        ("missing_scope", "channels:read and groups:read"),
    ],
)
async def test_serve_starts_with_a_warning_when_the_desk_cannot_be_checked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, error: str, advice: str
) -> None:
    caplog.set_level(logging.WARNING)
    async with FakeSlack() as fake:
        fake.fail("conversations.info", error=error)
        settings: Settings = socket_mode_settings(tmp_path, fake.api_url)
        await upgrade(settings.database_url)
        server = asyncio.create_task(serve_forever(settings, host=HOST, port=free_port()))
        try:
            await until(server, fake.wait_for_socket())
        finally:
            await stopped(server)

    [warning] = [line for line in log_lines(caplog, logging.WARNING) if "C0DESK" in line]
    assert "could not check whether the desk channel C0DESK is shared" in warning
    assert f"({error})" in warning
    assert advice in warning
    assert "Starting anyway" in warning
