"""The Slack messages a transaction owes, written to the outbox with it.

An outbox message names *what* must be shown, not how: the deliverer renders the current
state when it delivers, so a card edited twice in a row still ends up showing the latest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from dataclasses import dataclass, field
from enum import StrEnum


class MessageKind(StrEnum):
    launcher = "launcher"  # the "Register a deal" message in a partner channel
    partner_card = "partner_card"  # the status card in the partner channel (post, then edit)
    review_card = "review_card"  # the review card in the desk channel (post, then edit)
    partner_notice = "partner_notice"  # a reply in the partner card's thread
    desk_notice = "desk_notice"  # a reply in the review card's thread
    evidence = "evidence"  # the conflict evidence, recommendation and buttons (review thread)
    direct_notice = "direct_notice"  # a direct message to a direct owner about a resolution


MAX_EVIDENCE_PAGES = 8
"""Follow-up pages of one evidence thread whose posts are remembered (and edited when the
findings change): numbered 1, 2, … after the head."""


class Notice(StrEnum):
    """What a thread reply announces."""

    received = "received"
    approved = "approved"
    rejected = "rejected"
    info_requested = "info_requested"
    resubmitted = "resubmitted"
    withdrawn = "withdrawn"
    conflict_won = "conflict_won"  # the desk settled an overlap for this registration
    conflict_lost = "conflict_lost"  # ... against it (the partner hears neutral words only)
    co_sell = "co_sell"  # approved as a co-sell with the direct team
    working = "disputed"  # a direct rep left a working note (desk only; stored as "disputed")


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
            side = _SIDES.get(self.kind, "partner")
            return f"registration:{self.registration_id}:{side}"
        return f"partner:{self.partner_id}"


_SIDES = {
    MessageKind.review_card: "desk",
    MessageKind.desk_notice: "desk",
    MessageKind.evidence: "desk",
    MessageKind.direct_notice: "direct",
}


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


ROLE_WORKING = "working"
"""A direct notice's `role` for someone who said "I'm working this" (owners have none)."""


def working_notices(registration_id: int, users: Iterable[str], **data: str) -> list[OutboxMessage]:
    """A direct notice about the registration to each of `users` who said "I'm working this"
    (once each, however often they said it)."""
    return [
        OutboxMessage(
            MessageKind.direct_notice,
            registration_id=registration_id,
            data={**data, "owner_slack_id": user, "owner_email": "", "role": ROLE_WORKING},
        )
        for user in dict.fromkeys(users)
    ]


EDIT_ONLY = "edit_only"
"""Data flag of an evidence message that only brings an evidence message already posted up to
date (a settlement moved its registration) and never posts one."""


def evidence_refresh(registration_id: int) -> OutboxMessage:
    """The evidence under a registration's review card edited to show where it stands now,
    if it was ever posted (a registration that never overlapped anything has none)."""
    return OutboxMessage(
        MessageKind.evidence, registration_id=registration_id, data={EDIT_ONLY: "1"}
    )


def evidence_for(registration_id: int, findings: Sized) -> list[OutboxMessage]:
    """The evidence thread under the review card, when the check found anything."""
    if not len(findings):
        return []
    return [OutboxMessage(MessageKind.evidence, registration_id=registration_id)]


def case_grew(registration_ids: Iterable[int]) -> list[OutboxMessage]:
    """The review card and evidence of registrations a new finding now names (a later
    registration overlaps them): the evidence is posted if it never was."""
    return [
        message
        for rid in registration_ids
        for message in (
            OutboxMessage(MessageKind.review_card, registration_id=rid),
            OutboxMessage(MessageKind.evidence, registration_id=rid),
        )
    ]


def claims_moved(registration_ids: Iterable[int]) -> list[OutboxMessage]:
    """The review card and evidence (if posted) of registrations whose findings name a claim
    that just moved or went away: their counts and that claim are shown as they are now."""
    return [
        message
        for rid in registration_ids
        for message in (
            OutboxMessage(MessageKind.review_card, registration_id=rid),
            evidence_refresh(rid),
        )
    ]
