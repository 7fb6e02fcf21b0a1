"""`dibs serve` in Socket Mode, end to end: the real `serve_forever` opens a connection with the
app-level token, takes a partner's clicks and submissions as envelopes over the fake Slack's
WebSocket, acks them there, delivers its cards through the outbox, and serves only `/healthz`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import socket
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from bot.bootstrap import bootstrap, require_config
from bot.config import DibsConfig
from bot.ids import Action, Callback
from bot.server import serve_forever
from bot.settings import Settings
from bot.views.common import FormContext
from domain.services import LinkPartner
from storage.migrate import upgrade
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, ENV_NAMES, dibs_config, form_values, text_of
from tests.slack.fake_slack import FakeSlack, JsonDict, socket_envelope

HOST = "127.0.0.1"
T = TypeVar("T")


def free_port() -> int:
    """A loopback port nobody listens on (serve_forever does not report the one it bound)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def write_config(path: Path, config: DibsConfig) -> Path:
    """The policy file `dibs serve` reads, holding `config`."""
    desk, program = config.desk, config.program
    path.write_text(
        "[desk]\n"
        f"channel = {json.dumps(desk.channel_id)}\n"
        f"approvers = {json.dumps(sorted(desk.approvers))}\n"
        f"admins = {json.dumps(sorted(desk.admins))}\n"
        "[program]\n"
        f"currency = {json.dumps(program.currency)}\n"
        f"products = {json.dumps(list(program.products))}\n"
        f"protection_days = {program.protection_days}\n",
        encoding="utf-8",
    )
    return path


async def until(server: asyncio.Task[None], waiting: Coroutine[Any, Any, T]) -> T:
    """Await `waiting`, failing with the server's own error if the server stops first."""
    waiter = asyncio.ensure_future(waiting)
    await asyncio.wait({server, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        server.result()  # the server's own exception, if it raised one
        raise AssertionError("serve_forever returned before it was stopped")
    return waiter.result()


async def posted(fake: FakeSlack, channel: str, text: str, *, timeout: float = 5.0) -> JsonDict:
    """The first top-level message in `channel` that shows `text`, polling until it is there."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for message in fake.messages_in(channel):
            if not message.get("thread_ts") and text in text_of(message):
                return message
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"nothing showing {text!r} in {channel} within {timeout}s")
        await asyncio.sleep(0.02)


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


async def post(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, data=b"{}") as response:
        return response.status


async def refused(url: str) -> bool:
    try:
        await get(url)
    except aiohttp.ClientConnectionError:
        return True
    return False


@pytest.fixture
def gc_restored() -> Iterator[None]:
    """serve_forever tunes the process's garbage collector; give the test process its own back."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def socket_mode_settings(folder: Path, api_url: str) -> Settings:
    """Bot and app tokens, no signing secret anywhere (environment and `.env` ignored)."""
    return Settings(
        _env_file=None,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=api_url,
        DIBS_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'dibs.db'}",
        DIBS_CONFIG=write_config(folder / "dibs.toml", dibs_config()),
    )


async def link_acme(settings: Settings) -> None:
    """`dibs partners add`, before the server starts, on the same database."""
    deps = bootstrap(settings, require_config(settings))
    try:
        await deps.services.partners.link(
            LinkPartner(
                name="Acme Resellers",
                tier="Gold",
                channel_id=ACME_CHANNEL,
                slack_team_id=p.PARTNER_REP.team_id,
            )
        )
    finally:
        await deps.close()


async def stopped(task: asyncio.Task[None], *, timeout: float = 10.0) -> None:
    """Cancel the server as the event loop would on shutdown and wait for its cleanup."""
    if task.done():
        task.result()  # the server's own exception, if it raised one
        raise AssertionError("serve_forever returned before it was stopped")
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout)
    assert done, f"serve_forever still running {timeout}s after it was cancelled"
    assert task.cancelled(), f"serve_forever ended with {task.exception()!r}"


@pytest.mark.usefixtures("clean_env", "gc_restored")
async def test_serve_takes_slack_traffic_over_socket_mode_and_stops_cleanly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    port = free_port()
    base = f"http://{HOST}:{port}"

    async with FakeSlack() as fake:
        fake.add_channel(ACME_CHANNEL, connected_team_ids=[p.HOST_TEAM, p.PARTNER_REP.team_id])
        settings = socket_mode_settings(tmp_path, fake.api_url)
        assert require_config(settings) == dibs_config()
        await upgrade(settings.database_url)
        await link_acme(settings)
        server = asyncio.create_task(serve_forever(settings, host=HOST, port=port))
        try:
            await until(server, fake.wait_for_socket())
            [opened] = fake.calls_to("apps.connections.open")
            assert opened.token == "xapp-test"
            assert opened.response["ok"] is True
            # The outbox worker runs alongside and posts the launcher the link queued.
            await until(server, posted(fake, ACME_CHANNEL, Action.launcher_register))

            # A partner rep clicks "Register a deal" in the shared channel.
            click = socket_envelope(
                "interactive",
                p.block_actions(
                    p.PARTNER_REP,
                    action_id=Action.launcher_register,
                    value="1",
                    channel_id=ACME_CHANNEL,
                    response_url=fake.hook_url(channel=ACME_CHANNEL),
                ),
            )
            await fake.push_envelope(click)

            ack = await fake.wait_for_ack(click["envelope_id"])
            assert ack == {"envelope_id": click["envelope_id"]}
            [form] = await fake.wait_for("views.open")
            assert form.token == "xoxb-test"
            assert form.params["trigger_id"] == click["payload"]["trigger_id"]
            assert form.params["view"]["callback_id"] == Callback.registration_submit

            # ... and submits a valid form; the ack carries the modal's next view.
            submit = socket_envelope(
                "interactive",
                p.view_submission(
                    p.PARTNER_REP,
                    callback_id=Callback.registration_submit,
                    values=form_values(),
                    private_metadata=FormContext(channel_id=ACME_CHANNEL).model_dump_json(),
                ),
            )
            await fake.push_envelope(submit)

            ack = await fake.wait_for_ack(submit["envelope_id"])
            assert ack["envelope_id"] == submit["envelope_id"]
            assert ack["payload"]["response_action"] == "update"
            assert "AR-0001" in json.dumps(ack["payload"]["view"])
            card = await until(server, posted(fake, ACME_CHANNEL, "AR-0001"))
            assert "Initech" in text_of(card)

            # Over HTTP only the health check answers; Slack traffic has no route.
            assert await get(f"{base}/healthz") == (200, {"ok": True, "outbox_pending": 0})
            assert await post(f"{base}/slack/events") == 404
        finally:
            await stopped(server)

        assert fake.sockets_open == 0, "the WebSocket is still open after shutdown"
        assert await refused(f"{base}/healthz")
        assert fake.socket_connections == 1
        assert len(fake.calls_to("apps.connections.open")) == 1
    problems = [
        f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING
    ]
    assert problems == []
