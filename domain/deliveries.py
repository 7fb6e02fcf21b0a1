"""What delivering the outbox deals in: where a posted message lives, a message as leased,
what a batch shows, and how one delivery went."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.cases import WorkingNote
from domain.conflicts import FindingCounts
from domain.messages import MessageKind, OutboxMessage
from domain.ownership import StoredFinding
from domain.partner import Partner
from domain.registration import Registration


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a posted message lives, so it can be edited or replied to."""

    channel_id: str
    ts: str


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An outbox message as stored, with its delivery bookkeeping."""

    id: int
    message: OutboxMessage
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliverySnapshot:
    """What a batch of outbox messages shows, as it is now (absent: none)."""

    registrations: Mapping[int, Registration]
    partners: Mapping[int, Partner]
    """The partners of those registrations, and of the launchers."""
    refs: Mapping[tuple[MessageKind, int], MessageRef]
    """The cards and evidence heads posted, by (kind, registration)."""
    pages: Mapping[int, Mapping[int, MessageRef]]
    """Evidence follow-up pages posted: registration → page number → where."""
    counts: Mapping[int, FindingCounts]
    """What each partner card's registration overlaps, counted."""
    findings: Mapping[int, Sequence[StoredFinding]]
    """The desk side's findings, strongest first, with the claims as they are now."""
    working: Mapping[int, Sequence[WorkingNote]]
    """The desk side's working notes, oldest first."""


@dataclass(slots=True)
class Delivery:
    """How one leased entry went: delivered, to retry after `retry_in` seconds, or given up
    (`error` says why); and what its posting leaves to record."""

    entry: OutboxEntry
    retry_in: float | None = None
    give_up: bool = False
    error: str = ""
    posted: dict[tuple[MessageKind, int], MessageRef] = field(default_factory=dict)
    """Cards and evidence heads posted, by (kind, registration)."""
    launched: tuple[int, str] | None = None
    """The partner whose launcher was posted, and the message's ts."""
    follow_ups: list[OutboxMessage] = field(default_factory=list)
    """Messages the post owes (queued with its record: once per post, never twice)."""
    pages: dict[tuple[int, int], MessageRef] = field(default_factory=dict)
    """Evidence follow-up pages posted, by (registration, page number)."""
    dropped_pages: dict[int, list[int]] = field(default_factory=dict)
    """Pages that no longer show anything, by registration."""
