"""Small helpers every handler uses: the acting user, the host team, private replies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import Reply
from bot.identity import actor_from_body, host_team_id
from domain.actor import Actor
from domain.policy import is_internal


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent an interaction, and whether they belong to the vendor's workspace."""

    actor: Actor
    host_team_id: str

    @property
    def internal(self) -> bool:
        return is_internal(self.actor, host_team_id=self.host_team_id)


def caller(body: Mapping[str, Any], context: AsyncBoltContext) -> Caller:
    return Caller(actor_from_body(body), host_team_id(context))


def reply_for(
    client: AsyncWebClient, body: Mapping[str, Any], respond: AsyncRespond | None = None
) -> Reply:
    return Reply(client, body, respond)


def channel_of(body: Mapping[str, Any]) -> str | None:
    """The channel a message button was clicked in."""
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    return channel.get("id") or container.get("channel_id")
