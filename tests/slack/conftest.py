"""The real Dibs app served over loopback HTTP, driven by signed Slack-shaped requests, talking to
a recording fake Slack Web API, on a real (temporary SQLite file) database."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.app import EVENTS_PATH, build_web_app, make_client
from bot.bootstrap import Clock, Deps, bootstrap, utc_now
from bot.config import DibsConfig
from bot.ids import Action, Block, Callback
from bot.outbox import OutboxTuning, OutboxWorker
from bot.settings import Settings
from bot.views.common import FormContext, RegistrationRef
from domain.partner import Partner
from domain.policy import DeskPolicy, PrivacyPolicy, ProgramPolicy
from domain.registration import Registration
from domain.services import LinkPartner
from domain.slack_ids import SlackChannelId, SlackUserId
from storage.migrate import upgrade
from storage.models import AuditEventRow, OutboxMessageRow, RegistrationRow
from tests.slack import payloads as p
from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import Reply, SlackClient

SECRET = "test-signing-secret"
DESK = SlackChannelId("C0DESK")
ACME_CHANNEL = SlackChannelId("C0ACME")
GLOBEX_CHANNEL = SlackChannelId("C0GLOBEX")
PRODUCTS = ("Platform", "Analytics")
FAST = OutboxTuning(
    poll_seconds=0.05, first_backoff_seconds=0.05, max_backoff_seconds=0.2, batch=50
)


def dibs_config() -> DibsConfig:
    return DibsConfig(
        desk=DeskPolicy(
            channel_id=DESK,
            approvers=frozenset({p.APPROVER.user_id}),
            admins=frozenset({p.ADMIN.user_id}),
        ),
        program=ProgramPolicy(currency="USD", products=PRODUCTS, protection_days=90),
    )


def form_values(**overrides: Any) -> p.StateValues:
    """A valid registration form as Slack sends it; override any field by Block name. A deal
    for another website has its contact at that website (unless the test gives one), so two
    registrations of different customers never share a contact e-mail domain by accident."""
    website = overrides.get("website")
    if website and "contact_email" not in overrides:
        host = website.split("://")[-1].split("/")[0].removeprefix("www.")
        if "." in host:
            overrides = {**overrides, "contact_email": f"buyer@{host}"}
    fields: dict[str, Any] = {
        "company": "Initech",
        "website": "https://www.initech.com",
        "country": ("US", "United States"),
        "amount": "$84,500",
        "close_date": (date.today() + timedelta(days=60)).isoformat(),
        "products": [("Platform", "Platform")],
        "contact_name": "Bill Lumbergh",
        "contact_email": "bill@initech.com",
        "stage": None,
        "notes": None,
    }
    fields.update(overrides)
    entries: dict[str, dict[str, Any]] = {
        Block.company: p.text_value(fields["company"]),
        Block.website: p.text_value(fields["website"]),
        Block.country: p.select_value(*fields["country"])
        if fields["country"]
        else p.select_value(None),
        Block.amount: p.text_value(fields["amount"]),
        Block.close_date: p.date_value(fields["close_date"]),
        Block.products: p.multi_select_value(fields["products"]),
        Block.contact_name: p.text_value(fields["contact_name"]),
        Block.contact_email: p.email_value(fields["contact_email"]),
        Block.stage: p.select_value(fields["stage"]) if fields["stage"] else p.select_value(None),
        Block.notes: p.text_value(fields["notes"]),
    }
    if "partner" in overrides:
        entries[Block.partner] = p.select_value(str(overrides["partner"]), "partner")
    return p.values(entries)


class World:
    """One running Dibs with its fake Slack, plus the moves people make in it."""

    def __init__(self, deps: Deps, fake: FakeSlack, slack: SlackClient) -> None:
        self.deps = deps
        self.fake = fake
        self.slack = slack
        self.acme: Partner | None = None
        self.globex: Partner | None = None

    # --- people doing things ---------------------------------------------------------------

    async def click(
        self,
        person: p.Person,
        action_id: str,
        value: str,
        *,
        channel_id: str,
        message_ts: str | None = None,
    ) -> Reply:
        """A button click on a message in a channel; replies via response_url land in the fake.

        Every interaction is acked with 200, refusals included (they are told privately).
        """
        payload = p.block_actions(
            person,
            action_id=action_id,
            value=value,
            channel_id=channel_id,
            message_ts=message_ts,
            response_url=self.fake.hook_url(channel=channel_id),
        )
        return acked(await self.slack.send_interaction(payload))

    async def submit(
        self,
        person: p.Person,
        callback_id: str,
        values: p.StateValues,
        *,
        metadata: str = "",
        view_id: str | None = None,
    ) -> Reply:
        payload = p.view_submission(
            person,
            callback_id=callback_id,
            values=values,
            private_metadata=metadata,
            view_id=view_id,
        )
        return acked(await self.slack.send_interaction(payload))

    async def register(
        self, person: p.Person = p.PARTNER_REP, *, channel_id: str = ACME_CHANNEL, **fields: Any
    ) -> Reply:
        """Submit the registration form from a partner channel."""
        metadata = FormContext(channel_id=channel_id).model_dump_json()
        return await self.submit(
            person, Callback.registration_submit, form_values(**fields), metadata=metadata
        )

    async def decide(self, person: p.Person, action: Action, registration: Registration) -> Reply:
        """Click a decision button on the review card."""
        assert registration.id is not None
        ref = RegistrationRef(id=registration.id, version=registration.version)
        return await self.click(person, action, ref.model_dump_json(), channel_id=DESK)

    # --- what the world looks like ---------------------------------------------------------

    async def registration(self, registration_id: int = 1) -> Registration:
        return (await self.deps.services.registrations.get(registration_id)).registration

    async def registration_count(self) -> int:
        async with self.deps.engine.connect() as connection:
            return int(
                (
                    await connection.execute(select(func.count()).select_from(RegistrationRow))
                ).scalar_one()
            )

    async def card(
        self, channel_id: str, reference: str = "AR-0001", *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The card of `reference` in a channel (a top-level bot message whose text starts
        with it: other cards may name it too), as it looks now."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for message in self.fake.messages_in(channel_id):
                text = str(message.get("text") or "")
                if not message.get("thread_ts") and text.startswith(f"{reference} "):
                    return message
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no card for {reference} in {channel_id}")
            await asyncio.sleep(0.02)

    async def thread_replies(
        self, channel_id: str, reference: str = "AR-0001"
    ) -> list[dict[str, Any]]:
        """The replies under a card."""
        card = await self.card(channel_id, reference)
        return self.fake.thread(channel_id, str(card["ts"]))

    async def settle(self) -> None:
        """Deliver everything the outbox owes now."""
        worker = OutboxWorker(
            self.deps, make_client(self.deps, retry_rate_limits=False), tuning=FAST
        )
        while await worker.drain_once():
            pass

    async def delivered(self, *, timeout: float = 5.0) -> None:
        """Wait until the outbox owes nothing (every message delivered or given up)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            uow = self.deps.uow()
            async with uow:
                pending = await uow.outbox.pending_count()
            if pending == 0:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{pending} outbox message(s) still pending after {timeout}s")
            await asyncio.sleep(0.02)

    async def eventually(
        self, check: Callable[[], Awaitable[bool]], what: str, *, timeout: float = 5.0
    ) -> None:
        """Poll `check` until it is true (work after an ack finishes after the reply)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)

    async def status_becomes(
        self, status: str, registration_id: int = 1, *, timeout: float = 5.0
    ) -> Registration:
        """Wait for the stored registration to reach `status`, then let the outbox finish."""

        async def reached() -> bool:
            return (await self.registration(registration_id)).status == status

        await self.eventually(reached, f"registration {registration_id} {status}", timeout=timeout)
        await self.delivered(timeout=timeout)
        return await self.registration(registration_id)

    async def audit_actions(self, registration_id: int = 1) -> list[tuple[str, str]]:
        """The stored audit trail of a registration as (action, actor user id), oldest first."""
        async with self.deps.engine.connect() as connection:
            rows = await connection.execute(
                select(AuditEventRow.action, AuditEventRow.actor_user_id)
                .where(AuditEventRow.registration_id == registration_id)
                .order_by(AuditEventRow.id)
            )
            return [(str(action), str(user)) for action, user in rows]

    async def outbox_rows(self) -> list[OutboxMessageRow]:
        """Every outbox row with its delivery bookkeeping, oldest first."""
        async with self.deps.engine.connect() as connection:
            result = await connection.execute(
                select(OutboxMessageRow).order_by(OutboxMessageRow.id)
            )
            return [OutboxMessageRow(**row._mapping) for row in result]

    async def link_globex(self) -> Partner:
        """A second partner, on Enterprise Grid, in its own shared channel."""
        self.fake.add_channel(
            GLOBEX_CHANNEL, connected_team_ids=[p.HOST_TEAM, p.OTHER_PARTNER_REP.team_id]
        )
        self.globex = await self.deps.services.partners.link(
            LinkPartner(
                name="Globex Corporation",
                tier="Silver",
                code="GC",
                channel_id=GLOBEX_CHANNEL,
                slack_team_id=p.OTHER_PARTNER_REP.team_id,
                slack_enterprise_id=p.OTHER_PARTNER_REP.enterprise_id,
            )
        )
        self.deps.kick_outbox()
        await self.delivered()
        return self.globex

    def views_opened(self, callback_id: str | None = None) -> list[dict[str, Any]]:
        """The views Dibs opened (views.open), optionally only those with `callback_id`."""
        return [
            call.params["view"]
            for call in self.fake.calls_to("views.open")
            if callback_id is None or call.params["view"].get("callback_id") == callback_id
        ]


def acked(reply: Reply) -> Reply:
    """Slack shows the user an error for anything but 200, so every interaction gets one."""
    assert reply.status == 200, f"HTTP {reply.status}: {reply.text[:200]}"
    return reply


def text_of(message: Mapping[str, Any]) -> str:
    """Everything readable in a message: its text and every string in its blocks."""
    return json.dumps(message, ensure_ascii=False)


ENV_NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "DIBS_DATABASE_URL",
    "DIBS_CONFIG",
)


def with_approvers(config: DibsConfig, *user_ids: SlackUserId) -> DibsConfig:
    """`config` with more approvers on the desk."""
    desk = replace(config.desk, approvers=config.desk.approvers | frozenset(user_ids))
    return config.model_copy(update={"desk": desk})


@contextlib.asynccontextmanager
async def running_dibs(
    url: str,
    fake: FakeSlack,
    *,
    config: DibsConfig | None = None,
    clock: Clock = utc_now,
    link_acme: bool = True,
) -> AsyncIterator[World]:
    """One Dibs process (app, HTTP server, outbox worker) on the database at `url`.

    Leaving the block stops it, as a process exit would; a second block on the same `url`
    is a restarted process.
    """
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        DIBS_DATABASE_URL=url,
    )
    deps = bootstrap(settings, config or dibs_config(), clock=clock)
    server = TestServer(build_web_app(deps, tuning=FAST), host="127.0.0.1")
    await server.start_server()
    try:
        async with SlackClient(str(server.make_url(EVENTS_PATH)), SECRET) as slack:
            world = World(deps, fake, slack)
            if link_acme:
                world.acme = await deps.services.partners.link(
                    LinkPartner(
                        name="Acme Resellers",
                        tier="Gold",
                        code="AR",
                        channel_id=ACME_CHANNEL,
                        slack_team_id=p.PARTNER_REP.team_id,
                    )
                )
                deps.kick_outbox()
                await world.delivered()  # the launcher is out before the test starts
            yield world
    finally:
        await server.close()


@pytest.fixture
def desk_config(request: pytest.FixtureRequest) -> DibsConfig:
    """The policy the `world` runs with; override this fixture to change it, or parametrize
    it indirectly with a DibsConfig (see `SEE_OVERLAPS`)."""
    config: DibsConfig = getattr(request, "param", None) or dibs_config()
    return config


def seeing_overlaps(config: DibsConfig | None = None) -> DibsConfig:
    """`config` with `[privacy] partners_see_overlaps = true`."""
    privacy = PrivacyPolicy(partners_see_overlaps=True)
    return (config or dibs_config()).model_copy(update={"privacy": privacy})


SEE_OVERLAPS = pytest.mark.parametrize(
    "desk_config", [seeing_overlaps()], indirect=True, ids=["partners see overlaps"]
)
"""Run a test with the policy switch that tells partners, neutrally, of other claims."""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'dibs.db'}"


@pytest.fixture
async def world(
    database_url: str, desk_config: DibsConfig, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    await upgrade(database_url)
    async with FakeSlack() as fake:
        fake.add_channel(ACME_CHANNEL, connected_team_ids=[p.HOST_TEAM, p.PARTNER_REP.team_id])
        async with running_dibs(database_url, fake, config=desk_config) as world:
            yield world
