"""The Slack messages a transaction owes, written to the outbox with it.

An outbox message names *what* must be shown, not how: the deliverer renders the current
state when it delivers, so a card edited twice in a row still ends up showing the latest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MessageKind(StrEnum):
    launcher = "launcher"  # the "Register a deal" message in a partner channel
    partner_card = "partner_card"  # the status card in the partner channel (post, then edit)
    review_card = "review_card"  # the review card in the desk channel (post, then edit)
    partner_notice = "partner_notice"  # a reply in the partner card's thread
    desk_notice = "desk_notice"  # a reply in the review card's thread


class Notice(StrEnum):
    """What a thread reply announces."""

    received = "received"
    approved = "approved"
    rejected = "rejected"
    info_requested = "info_requested"
    resubmitted = "resubmitted"
    withdrawn = "withdrawn"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message owed to Slack. Messages with the same key are delivered in order."""

    kind: MessageKind
    registration_id: int | None = None
    partner_id: int | None = None
    notice: Notice | None = None
    data: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Messages of one key go out in order (a card before the replies in its thread);
        the partner's side and the desk's side of a registration are independent."""
        if self.registration_id is not None:
            side = "desk" if self.kind in _DESK_SIDE else "partner"
            return f"registration:{self.registration_id}:{side}"
        return f"partner:{self.partner_id}"


_DESK_SIDE = frozenset({MessageKind.review_card, MessageKind.desk_notice})


def cards_for(registration_id: int, *, notice: Notice, **data: str) -> list[OutboxMessage]:
    """Both cards refreshed, plus the partner and desk told what happened."""
    return [
        OutboxMessage(MessageKind.partner_card, registration_id=registration_id),
        OutboxMessage(MessageKind.review_card, registration_id=registration_id),
        OutboxMessage(
            MessageKind.partner_notice, registration_id=registration_id, notice=notice, data=data
        ),
        OutboxMessage(
            MessageKind.desk_notice, registration_id=registration_id, notice=notice, data=data
        ),
    ]
