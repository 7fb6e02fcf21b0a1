"""Who did something: a Slack user is only unique within its workspace, so keep the team."""

from __future__ import annotations

from dataclasses import dataclass


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
