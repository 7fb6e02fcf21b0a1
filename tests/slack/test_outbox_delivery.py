"""The outbox delivers every card exactly once through rate limits, outages and restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.bootstrap import utc_now
from bot.ids import Action
from bot.views.common import RegistrationRef
from domain.messages import MessageKind
from domain.registration import RegistrationStatus
from storage.migrate import upgrade
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, ENV_NAMES, World, running_dibs, text_of
from tests.slack.fake_slack import Call, FakeSlack


def cards_in(world: World, channel: str, reference: str = "AR-0001") -> list[dict[str, object]]:
    """Top-level messages in `channel` showing `reference`."""
    return [
        m
        for m in world.fake.messages_in(channel)
        if not m.get("thread_ts") and reference in text_of(m)
    ]


def posts_to(world: World, channel: str) -> list[Call]:
    return [c for c in world.fake.calls_to("chat.postMessage") if c.params["channel"] == channel]


async def test_a_garbled_retry_after_still_delivers_the_card_after_the_backoff(
    world: World,
) -> None:
    world.fake.fail("chat.postMessage", status=429, retry_after="in a bit")

    reply = await world.register()
    await world.fake.wait_for("chat.postMessage", where=lambda c: c.status == 429)
    await world.card(ACME_CHANNEL)

    assert reply.status == 200
    await world.delivered()
    assert len(cards_in(world, ACME_CHANNEL)) == 1
    assert [c.status for c in posts_to(world, ACME_CHANNEL)][-2:] == [429, 200]


async def test_rate_limited_card_is_posted_once_after_retry_after(world: World) -> None:
    world.fake.fail("chat.postMessage", status=429, retry_after=1)
    loop = asyncio.get_running_loop()

    reply = await world.register()
    await world.fake.wait_for("chat.postMessage", where=lambda c: c.status == 429)
    limited_at = loop.time()
    await world.card(ACME_CHANNEL)
    posted_at = loop.time()

    assert reply.status == 200
    assert posted_at - limited_at >= 0.9  # Retry-After: 1 was honoured
    await world.delivered()
    assert len(cards_in(world, ACME_CHANNEL)) == 1
    assert [c.status for c in posts_to(world, ACME_CHANNEL)][-2:] == [429, 200]
    assert len(cards_in(world, DESK)) == 1
    [partner_card] = [r for r in await world.outbox_rows() if r.kind == MessageKind.partner_card]
    assert partner_card.attempts == 1
    assert partner_card.last_error == "ratelimited"


async def test_server_errors_are_retried_until_the_card_is_posted_once(world: World) -> None:
    world.fake.fail("chat.postMessage", status=500, times=3)

    await world.register()
    await world.delivered()

    assert len(cards_in(world, ACME_CHANNEL)) == 1
    assert len(cards_in(world, DESK)) == 1
    statuses = [c.status for c in world.fake.calls_to("chat.postMessage")]
    assert statuses.count(500) == 3
    # The two cards go out in parallel, so the three failures fall on either of them.
    cards = [
        r
        for r in await world.outbox_rows()
        if r.kind in (MessageKind.partner_card, MessageKind.review_card)
    ]
    assert sum(r.attempts for r in cards) == 3
    assert all(r.delivered_at is not None for r in cards)


async def test_card_edit_is_retried_through_server_errors_without_a_second_card(
    world: World,
) -> None:
    await world.register()
    await world.delivered()
    card = await world.card(ACME_CHANNEL)
    world.fake.fail("chat.update", status=503, times=2)
    ref = RegistrationRef(id=1, version=(await world.registration()).version)

    await world.click(
        p.PARTNER_REP, Action.card_withdraw, ref.model_dump_json(), channel_id=ACME_CHANNEL
    )
    await world.status_becomes(RegistrationStatus.withdrawn)

    assert "Withdrawn" in text_of(world.fake.message(ACME_CHANNEL, str(card["ts"])))
    assert len(cards_in(world, ACME_CHANNEL)) == 1
    statuses = [c.status for c in world.fake.calls_to("chat.update")]
    assert statuses[:2] == [503, 503]
    assert 200 in statuses[2:]
    [notice] = world.fake.thread(ACME_CHANNEL, str(card["ts"]))
    assert "withdrawn" in notice["text"]


async def test_permanent_error_is_given_up_and_other_registrations_still_delivered(
    world: World,
) -> None:
    world.fake.fail("chat.postMessage", error="channel_not_found")

    await world.register(company="Initech")
    await world.delivered()
    await world.register(company="Hooli", website="hooli.example")
    await world.delivered()

    assert cards_in(world, ACME_CHANNEL, "AR-0001") == []
    assert len(cards_in(world, DESK, "AR-0001")) == 1  # the same registration's next message
    assert len(cards_in(world, ACME_CHANNEL, "AR-0002")) == 1
    assert len(cards_in(world, DESK, "AR-0002")) == 1
    rows = await world.outbox_rows()
    [given_up] = [r for r in rows if r.failed_at is not None]
    assert (given_up.kind, given_up.registration_id) == (MessageKind.partner_card, 1)
    assert given_up.last_error == "channel_not_found"
    assert given_up.attempts == 1
    assert len([c for c in world.fake.calls_to("chat.postMessage") if not c.ok]) == 1


async def test_cards_owed_by_a_stopped_process_are_delivered_after_a_restart(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    await upgrade(database_url)
    async with FakeSlack() as fake:
        fake.add_channel(ACME_CHANNEL, connected_team_ids=[p.HOST_TEAM, p.PARTNER_REP.team_id])
        async with running_dibs(database_url, fake) as first:
            launched = len(fake.calls)
            fake.fail("chat.postMessage", status=500, times=10_000)  # Slack is down
            reply = await first.register()
            assert reply.status == 200
            await fake.wait_for("chat.postMessage", count=3, where=lambda c: c.status == 500)
        # the process has stopped, and nothing got through while it ran
        chat = [c for c in fake.calls[launched:] if c.method.startswith("chat.")]
        assert chat
        assert all(not call.ok for call in chat)
        fake.reset()  # Slack is healthy again

        # Restarted two minutes later: any lease the stopped process held has run out.
        async with running_dibs(
            database_url, fake, clock=lambda: utc_now() + timedelta(minutes=2), link_acme=False
        ) as restarted:
            await restarted.delivered()

            assert len(cards_in(restarted, ACME_CHANNEL)) == 1
            assert len(cards_in(restarted, DESK)) == 1
            assert await restarted.registration_count() == 1
