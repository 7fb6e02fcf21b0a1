"""Who did something: a Slack user is only unique within its workspace, so keep the team."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.slack_ids import SlackChannelId, SlackEnterpriseId, SlackTeamId, SlackUserId


@dataclass(frozen=True, slots=True)
class Actor:
    """A person (or the system) acting on a registration."""

    team_id: SlackTeamId
    user_id: SlackUserId
    enterprise_id: SlackEnterpriseId | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id == SYSTEM.user_id and self.team_id == SYSTEM.team_id


SYSTEM = Actor(team_id=SlackTeamId("-"), user_id=SlackUserId("dibs"))


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks a use case for something, and from where: the actor, the vendor's own
    workspace (staff are its members; partners are not) and the channel of the interaction."""

    actor: Actor
    host_team_id: SlackTeamId
    channel_id: SlackChannelId | None = None

    @property
    def internal(self) -> bool:
        """A member of the vendor's own workspace (staff), not a partner's."""
        return self.actor.team_id == self.host_team_id

    def at(self, channel_id: SlackChannelId | None) -> Caller:
        """The same caller, acting in `channel_id` (a form remembers where it was opened)."""
        return replace(self, channel_id=channel_id)
