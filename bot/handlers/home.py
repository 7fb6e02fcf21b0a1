"""App Home: internal users see the registrations waiting for a decision."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.handlers.edge import Event, Listeners
from bot.identity import host_team_id
from bot.views.home_tab import build_home

listeners = Listeners()


@listeners.event("app_home_opened")
async def home_opened(opened: Event) -> None:
    """Publish the Home tab for a member of our own workspace (partners cannot see it)."""
    if opened.event.get("tab") != "home":
        return
    host = host_team_id(opened.context)
    if (opened.context.actor_team_id or host) != host:
        return
    await publish_home(opened.client, str(opened.event["user"]), opened.deps)


async def publish_home(client: AsyncWebClient, user_id: str, deps: Deps) -> None:
    """Render the waiting list for one user; only approvers get the decision buttons."""
    pending = await deps.services.decisions.queue()
    view = build_home(
        pending,
        program=deps.config.program,
        now=deps.clock(),
        can_decide=user_id in deps.config.desk.approvers,
    )
    await client.views_publish(user_id=user_id, view=view)
