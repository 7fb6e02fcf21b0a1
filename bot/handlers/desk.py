"""The desk channel's sharing changed (`channel_shared` / `channel_unshared`): check it again
at once, so the outbox holds or releases desk-side messages from its next batch, and the
admins hear about a change to shared without waiting for the next review card."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from domain.services import record_event

logger = logging.getLogger(__name__)

SHARING_EVENTS = ("channel_shared", "channel_unshared")


def register(app: AsyncApp) -> None:
    for event in SHARING_EVENTS:
        app.event(event)(sharing_changed)


async def sharing_changed(
    event: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    """Re-check the desk channel when an organisation joined or left it (once per delivery);
    other channels (partners' shared channels) are none of this handler's business."""
    desk = deps.config.desk
    if event.get("channel") != desk.channel_id:
        return
    event_id = body.get("event_id")
    if event_id and not await record_event(event_id, uow=deps.uow(), now=deps.clock()):
        logger.info("event %s already handled (retry %s)", event_id, context.get("retry_num"))
        return
    logger.info(
        "%s on the desk channel %s (team %s); checking it again",
        event.get("type"),
        desk.channel_id,
        event.get("connected_team_id") or event.get("previously_connected_team_id"),
    )
    await deps.desk_watch.recheck(client, desk, now=deps.clock())
    deps.kick_outbox()
