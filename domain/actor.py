"""Who did something: a Slack user is only unique within its workspace, so keep the team."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Actor:
    """A person (or the system) acting on a registration."""

    team_id: str
    user_id: str
    enterprise_id: str | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id == SYSTEM.user_id and self.team_id == SYSTEM.team_id


SYSTEM = Actor(team_id="-", user_id="dibs")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks a use case for something, and from where: the actor, the vendor's own
    workspace (staff are its members; partners are not) and the channel of the interaction."""

    actor: Actor
    host_team_id: str
    channel_id: str | None = None

    @property
    def internal(self) -> bool:
        """A member of the vendor's own workspace (staff), not a partner's."""
        return self.actor.team_id == self.host_team_id

    def at(self, channel_id: str | None) -> Caller:
        """The same caller, acting in `channel_id` (a form remembers where it was opened)."""
        return replace(self, channel_id=channel_id)
