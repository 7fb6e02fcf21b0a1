"""The desk channel's sharing changed (`channel_shared` / `channel_unshared`): check it again
at once, so the outbox holds or releases desk-side messages from its next batch, and the
admins hear about a change to shared without waiting for the next review card."""

from __future__ import annotations

import logging

from bot.handlers.edge import Event, Listeners

logger = logging.getLogger(__name__)

SHARING_EVENTS = ("channel_shared", "channel_unshared")


listeners = Listeners()


@listeners.event(*SHARING_EVENTS)
async def sharing_changed(changed: Event) -> None:
    """Re-check the desk channel when an organisation joined or left it; other channels
    (partners' shared channels) are none of this handler's business."""
    deps, event = changed.deps, changed.event
    desk = deps.config.desk
    if event.get("channel") != desk.channel_id:
        return
    logger.info(
        "%s on the desk channel %s (team %s); checking it again",
        event.get("type"),
        desk.channel_id,
        event.get("connected_team_id") or event.get("previously_connected_team_id"),
    )
    await deps.desk_watch.recheck(changed.client, desk, now=deps.clock())
    deps.kick_outbox()
