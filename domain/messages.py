"""The Slack messages a transaction owes, written to the outbox with it.

An outbox message names *what* must be shown, not how: the deliverer renders the current
state when it delivers, so a card edited twice in a row still ends up showing the latest.
Each kind is a frozen payload type; its `MessageKind` says once where it goes (`side`) and
the card it lives on or under (`card`). Storage serialises them (`storage.outbox_codec`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from domain.ownership import Decision, OwnershipRule, Resolution


class Side(StrEnum):
    """Where a message goes. Messages of one side of a registration go out in order; the
    sides are independent of each other."""

    partner = "partner"  # the partner's shared channel
    desk = "desk"  # the internal desk channel (held while it is shared: bot/desk_channel.py)
    direct = "direct"  # direct messages to the vendor's direct team


class MessageKind(StrEnum):
    """A kind of message (stored in the outbox and with posted cards), with its side and the
    card it is posted as or under (None: it has none)."""

    side: Side
    _card: str | None

    def __new__(cls, value: str, side: Side = Side.partner, card: str | None = None) -> MessageKind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.side = side
        member._card = card
        return member

    launcher = "launcher", Side.partner  # the "Register a deal" message in a partner channel
    partner_card = "partner_card", Side.partner, "partner_card"  # posted, then edited
    review_card = "review_card", Side.desk, "review_card"  # posted, then edited
    partner_notice = "partner_notice", Side.partner, "partner_card"  # a reply in its thread
    desk_notice = "desk_notice", Side.desk, "review_card"  # a reply in the review thread
    evidence = "evidence", Side.desk, "review_card"  # the evidence head (review thread)
    evidence_page = "evidence_page", Side.desk, "review_card"  # a follow-up page of it
    direct_notice = "direct_notice", Side.direct  # a DM to someone on the direct team

    @property
    def card(self) -> MessageKind | None:
        return None if self._card is None else MessageKind(self._card)


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
    conflict_won = "conflict_won"  # the desk resolved an overlap for this registration
    conflict_lost = "conflict_lost"  # ... against it (the partner hears neutral words only)
    co_sell = "co_sell"  # approved as a co-sell with the direct team
    working = "disputed"  # a direct rep left a working note (desk only; stored as "disputed")


class Still(StrEnum):
    """What a partner that lost a resolution still holds on the customer (never who won, why,
    or that another claim exists at all)."""

    own_earlier = "own_earlier"  # its own earlier registration, left as it was, holds
    own_other = "own_other"  # another registration of its own holds (one the desk approved)
    nothing = "nothing"  # nothing is protected for it on this customer
    protection_ended = "protection_ended"  # its approval was withdrawn


@dataclass(frozen=True, slots=True)
class ResolutionDetail:
    """A resolution as the desk's thread reads it: what, on which registration, why, and the
    rule the recommendation pointed to."""

    resolution: Resolution
    subject_id: int
    subject_reference: str
    reason: str
    rule: OwnershipRule | None = None


@dataclass(frozen=True, slots=True)
class WorkingDetail:
    """A working note as the desk's thread reads it (`by_user_id` None: nobody named)."""

    by_user_id: str | None
    note: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Launcher:
    """The "Register a deal" message in a partner's channel."""

    kind: ClassVar[MessageKind] = MessageKind.launcher
    registration_id: ClassVar[None] = None  # it is about no registration
    partner_id: int

    @property
    def key(self) -> str:
        """A partner's launchers go out in order, apart from any registration's messages."""
        return f"partner:{self.partner_id}"


@dataclass(frozen=True, slots=True)
class _OfRegistration:
    registration_id: int
    kind: ClassVar[MessageKind]

    @property
    def key(self) -> str:
        """Messages of one key go out in order (a card before the replies in its thread);
        the sides of a registration are independent of each other."""
        return f"registration:{self.registration_id}:{self.kind.side}"


@dataclass(frozen=True, slots=True)
class PartnerCard(_OfRegistration):
    """The registration's status card in the partner channel, posted or edited."""

    kind: ClassVar[MessageKind] = MessageKind.partner_card


@dataclass(frozen=True, slots=True)
class ReviewCard(_OfRegistration):
    """The registration's review card in the desk channel, posted or edited."""

    kind: ClassVar[MessageKind] = MessageKind.review_card


@dataclass(frozen=True, slots=True)
class PartnerNotice(_OfRegistration):
    """A reply under the partner card; after a lost resolution, what the partner `still`
    holds."""

    kind: ClassVar[MessageKind] = MessageKind.partner_notice
    notice: Notice
    still: Still | None = None


@dataclass(frozen=True, slots=True)
class DeskNotice(_OfRegistration):
    """A reply under the review card: a resolution's detail, or a working note's."""

    kind: ClassVar[MessageKind] = MessageKind.desk_notice
    notice: Notice
    resolution: ResolutionDetail | None = None
    working: WorkingDetail | None = None


@dataclass(frozen=True, slots=True)
class EvidenceHead(_OfRegistration):
    """The evidence under the review card (findings, recommendation, buttons), posted once
    and edited after; `edit_only` never posts it, only brings a posted one up to date."""

    kind: ClassVar[MessageKind] = MessageKind.evidence
    edit_only: bool = False


@dataclass(frozen=True, slots=True)
class EvidencePage(_OfRegistration):
    """Follow-up page `number` of the evidence, showing its entries [`first`, `last`)."""

    kind: ClassVar[MessageKind] = MessageKind.evidence_page
    number: int
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class DirectNotice(_OfRegistration):
    """A direct message about how the desk resolved (`resolution`) or decided (`decision`) a
    registration, to a direct owner (`user`, or one the CRM knows by `email` only, looked up
    on delivery and skipped if among `told`) or to someone who left a working note
    (`working`)."""

    kind: ClassVar[MessageKind] = MessageKind.direct_notice
    user: str | None
    email: str | None = None
    working: bool = False
    resolution: Resolution | None = None
    decision: Decision | None = None
    reason: str = ""
    told: tuple[str, ...] = ()


OutboxMessage = (
    Launcher
    | PartnerCard
    | ReviewCard
    | PartnerNotice
    | DeskNotice
    | EvidenceHead
    | EvidencePage
    | DirectNotice
)
"""One message owed to Slack. Messages with the same key are delivered in order."""
MESSAGE_TYPES: dict[MessageKind, type[OutboxMessage]] = {
    message_type.kind: message_type
    for message_type in (
        Launcher,
        PartnerCard,
        ReviewCard,
        PartnerNotice,
        DeskNotice,
        EvidenceHead,
        EvidencePage,
        DirectNotice,
    )
}
"""The payload type of each kind."""


def cards_for(
    registration_id: int,
    *,
    notice: Notice,
    still: Still | None = None,
    resolution: ResolutionDetail | None = None,
) -> list[OutboxMessage]:
    """Both cards refreshed, plus the partner and desk told what happened (a lost resolution:
    what the partner `still` holds; the desk: the `resolution`)."""
    return [
        PartnerCard(registration_id),
        ReviewCard(registration_id),
        PartnerNotice(registration_id, notice, still),
        DeskNotice(registration_id, notice, resolution),
    ]


def working_notices(
    registration_id: int,
    users: Iterable[str],
    *,
    resolution: Resolution | None = None,
    decision: Decision | None = None,
    reason: str = "",
) -> list[OutboxMessage]:
    """A direct notice about the registration to each of `users` who said "I'm working this"
    (once each, however often they said it)."""
    return [
        DirectNotice(
            registration_id,
            user,
            working=True,
            resolution=resolution,
            decision=decision,
            reason=reason,
        )
        for user in dict.fromkeys(users)
    ]


def evidence_refresh(registration_id: int) -> OutboxMessage:
    """The evidence under a registration's review card edited to show where it stands now,
    if it was ever posted (a registration that never overlapped anything has none)."""
    return EvidenceHead(registration_id, edit_only=True)


def evidence_for(registration_id: int, findings: Sized) -> list[OutboxMessage]:
    """The evidence thread under the review card, when the check found anything."""
    if not len(findings):
        return []
    return [EvidenceHead(registration_id)]


def case_grew(registration_ids: Iterable[int]) -> list[OutboxMessage]:
    """The review card and evidence of registrations a new finding now names (a later
    registration overlaps them): the evidence is posted if it never was."""
    return [message for rid in registration_ids for message in (ReviewCard(rid), EvidenceHead(rid))]


def claims_moved(registration_ids: Iterable[int]) -> list[OutboxMessage]:
    """The review card and evidence (if posted) of registrations whose findings name a claim
    that just moved or went away: their counts and that claim are shown as they are now."""
    return [
        message for rid in registration_ids for message in (ReviewCard(rid), evidence_refresh(rid))
    ]
