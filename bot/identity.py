"""Who is acting, read from a Slack payload the Slack Connect way (the user's own team).

Ids in a signed Slack request are Slack's own: they are typed as Slack ids here, at the
edge, without a second check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from domain.actor import Actor
from domain.slack_ids import SlackChannelId, SlackEnterpriseId, SlackTeamId, SlackUserId


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
    return Actor(
        team_id=SlackTeamId(team_id),
        user_id=SlackUserId(user.get("id", "")),
        enterprise_id=SlackEnterpriseId(enterprise_id) if enterprise_id else None,
    )


def actor_from_command(command: Mapping[str, Any]) -> Actor:
    """The user who ran a slash command (only host-workspace users can)."""
    enterprise_id = command.get("enterprise_id")
    return Actor(
        team_id=SlackTeamId(command.get("team_id", "")),
        user_id=SlackUserId(command.get("user_id", "")),
        enterprise_id=SlackEnterpriseId(enterprise_id) if enterprise_id else None,
    )


def channel_of(channel_id: str | None) -> SlackChannelId | None:
    """The channel a request came from, if it names one."""
    return SlackChannelId(channel_id) if channel_id else None


def host_team_id(context: AsyncBoltContext) -> SlackTeamId:
    """The vendor's workspace: the team our bot token belongs to (from auth.test)."""
    result = context.authorize_result
    if result is not None and result.team_id:
        return SlackTeamId(str(result.team_id))
    return SlackTeamId(str(context.team_id or ""))
