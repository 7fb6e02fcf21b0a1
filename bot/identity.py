"""Who is acting, read from a Slack payload the Slack Connect way (the user's own team)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from domain.actor import Actor


def actor_from_body(body: Mapping[str, Any]) -> Actor:
    """The clicking or submitting user: `user.team_id`, never the host team in context.

    Interactivity payloads carry `user.team_id`; enterprise ids (Grid) come from the user,
    the view's team or the top-level `enterprise`.
    """
    user = body.get("user") or {}
    team_id = user.get("team_id") or (body.get("team") or {}).get("id") or ""
    enterprise = body.get("enterprise") or {}
    enterprise_id = (
        user.get("enterprise_id")
        or (body.get("team") or {}).get("enterprise_id")
        or (enterprise.get("id") if isinstance(enterprise, Mapping) else None)
    )
    return Actor(team_id=team_id, user_id=user.get("id", ""), enterprise_id=enterprise_id)


def actor_from_command(command: Mapping[str, Any]) -> Actor:
    """The user who ran a slash command (only host-workspace users can)."""
    return Actor(
        team_id=command.get("team_id", ""),
        user_id=command.get("user_id", ""),
        enterprise_id=command.get("enterprise_id") or None,
    )


def host_team_id(context: AsyncBoltContext) -> str:
    """The vendor's workspace: the team our bot token belongs to (from auth.test)."""
    result = context.authorize_result
    if result is not None and result.team_id:
        return str(result.team_id)
    return str(context.team_id or "")
