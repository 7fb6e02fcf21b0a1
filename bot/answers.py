"""One table: what a person is told when a use case refuses (a domain error), by audience.

Partners never learn who on the desk decided; the desk is told who moved a registration
first, and on the conflict desk that nothing of theirs was applied.
"""

from __future__ import annotations

from enum import StrEnum

from bot.views.common import moved_first_text
from domain.actor import Actor
from domain.errors import AlreadyDecided, DomainError
from domain.registration import Registration


class Audience(StrEnum):
    """Who reads the answer, and where."""

    partner = "partner"  # a partner's rep (or staff acting on the partner's side)
    desk = "desk"  # the desk's decisions on a review card or App Home
    conflict_desk = "conflict_desk"  # the desk resolving a case: nothing of theirs applied


def answer(error: DomainError, audience: Audience) -> str:
    """The text for `error`, as `audience` may read it."""
    if isinstance(error, AlreadyDecided) and audience is not Audience.partner:
        return raced_text(error.registration, error.by, audience)
    return error.message


def raced_text(
    registration: Registration, by: Actor | None, audience: Audience = Audience.conflict_desk
) -> str:
    """The desk's loser of a race: where the registration stands now and who moved it there
    (on the conflict desk, also that nothing was changed)."""
    suffix = ". Nothing was changed." if audience is Audience.conflict_desk else "."
    return moved_first_text(registration, by) + suffix
