"""Partner organisations and how a Slack actor maps to one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.actor import Actor


@dataclass(slots=True)
class Partner:
    """A reseller organisation linked to its Slack Connect channel."""

    id: int | None
    name: str
    tier: str
    channel_id: str
    slack_team_id: str | None = None
    slack_enterprise_id: str | None = None
    launcher_ts: str | None = None
    manager_user_id: str | None = None
    """The partner's channel manager on our side (mentioned when its claims conflict)."""


def resolve_partner(
    actor: Actor, *, channel_id: str | None, partners: Iterable[Partner]
) -> Partner | None:
    """Map an external actor to its partner: by enterprise, then team, then the channel.

    The channel only vouches for an organisation when the partner linked to it has no
    recorded Slack team (a third organisation in the same channel is not that partner).
    """
    candidates = list(partners)
    if actor.enterprise_id:
        for partner in candidates:
            if partner.slack_enterprise_id == actor.enterprise_id:
                return partner
    for partner in candidates:
        if partner.slack_team_id == actor.team_id:
            return partner
    if channel_id:
        for partner in candidates:
            if (
                partner.channel_id == channel_id
                and partner.slack_team_id is None
                and partner.slack_enterprise_id is None
            ):
                return partner
    return None
