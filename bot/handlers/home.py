"""App Home: internal users see the registrations waiting for a decision."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.identity import host_team_id
from bot.views.home_tab import build_home
from domain.services import open_registrations, record_event

logger = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(home_opened)


async def home_opened(
    event: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    """Publish the Home tab once per delivery (Slack retries are recognised by event id)."""
    event_id = body.get("event_id")
    if event_id and not await record_event(event_id, uow=deps.uow(), now=deps.clock()):
        logger.info("event %s already handled (retry %s)", event_id, context.get("retry_num"))
        return
    if event.get("tab") != "home":
        return
    actor_team = context.actor_team_id or host_team_id(context)
    if actor_team != host_team_id(context):
        return  # partners cannot see our Home tab (Slack Connect)
    try:
        await publish_home(client, event["user"], deps)
    except Exception:
        logger.exception("publishing App Home for %s failed", event.get("user"))


async def publish_home(client: AsyncWebClient, user_id: str, deps: Deps) -> None:
    """Render the waiting list for one user; only approvers get the decision buttons."""
    pending = await open_registrations(uow=deps.uow())
    view = build_home(
        pending,
        program=deps.config.program,
        now=deps.clock(),
        can_decide=user_id in deps.config.desk.approvers,
    )
    await client.views_publish(user_id=user_id, view=view)
