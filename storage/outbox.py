"""Delivery plumbing in SQL: the outbox, posted-message refs and Events API receipts."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.deliveries import MessageRef, OutboxEntry
from domain.messages import (
    MAX_EVIDENCE_PAGES,
    DeskNotice,
    Launcher,
    MessageKind,
    OutboxMessage,
    PartnerNotice,
)
from storage.models import MessageRefRow, OutboxMessageRow, SlackEventReceiptRow
from storage.outbox_codec import Unreadable, decode, encode
from storage.sql import dialect_insert, rows_affected

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000
_Row = OutboxMessageRow
_OUTBOX = cast(Table, OutboxMessageRow.__table__)
_INSERT = insert(_OUTBOX)  # built once: a new statement object costs a cache key each time
_PENDING = _OUTBOX.c.delivered_at.is_(None) & _OUTBOX.c.failed_at.is_(None)
"""Neither delivered nor given up (what the partial index `ix_outbox_message_pending` holds)."""
_DELIVERED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(delivered_at=bindparam("now"), locked_by=None, locked_until=None)
)
_MESSAGE_REF = cast(Table, MessageRefRow.__table__)
# Both columns of the primary key (kind, registration_id): on registration_id alone the
# database would read every card ever posted.
REFS_OF = select(_MESSAGE_REF).where(
    _MESSAGE_REF.c.kind.in_(bindparam("kinds", expanding=True)),
    _MESSAGE_REF.c.registration_id.in_(bindparam("ids", expanding=True)),
)


def _claim_statements() -> tuple[Select[tuple[int]], Update, Select[Any]]:
    """The claim's three statements, built once (a claim runs after every submission).

    Due, pending, lease free, and no older pending message of the same key; rows leased
    with FOR UPDATE SKIP LOCKED on PostgreSQL. The pending rows are found through the
    partial index `ix_outbox_message_pending`, however many delivered rows pile up."""
    c = _OUTBOX.c
    now = bindparam("now", type_=c.next_attempt_at.type)
    older = _OUTBOX.alias("older")
    lease_free = or_(c.locked_until.is_(None), c.locked_until <= now)
    waits = exists().where(
        older.c.key == c.key,
        older.c.id < c.id,
        older.c.delivered_at.is_(None),
        older.c.failed_at.is_(None),
    )
    ids = bindparam("ids", type_=Integer, expanding=True)
    claimable = (
        select(c.id)
        .where(_PENDING, c.next_attempt_at <= now, lease_free, ~waits)
        .order_by(c.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True, of=_OUTBOX)
    )
    lease = (
        update(_OUTBOX)
        .where(c.id.in_(ids), _PENDING, lease_free)
        .values(locked_by=bindparam("worker"), locked_until=bindparam("until"))
    )
    leased = (
        select(_OUTBOX)
        .where(
            c.id.in_(ids), c.locked_by == bindparam("worker"), c.locked_until == bindparam("until")
        )
        .order_by(c.id)
    )
    return claimable, lease, leased


_CLAIMABLE, _LEASE, _LEASED = _claim_statements()


class SqlAlchemyOutbox:
    """`domain.ports.Outbox`: rows written with the business change, leased by workers."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.queued = 0
        """How many messages this transaction queued (its commit wakes the worker if any)."""

    async def put(self, messages: Sequence[OutboxMessage], *, now: datetime) -> None:
        """Queue messages in the current transaction, due at once, in the given order."""
        if messages:
            await self._session.execute(
                _INSERT, [_columns(message, now=now) for message in messages]
            )
            self.queued += len(messages)

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int, worker: str
    ) -> list[OutboxEntry]:
        """Lease up to `limit` due messages, only the oldest unfinished one of each key.

        Safe with several processes: candidates are picked with FOR UPDATE SKIP LOCKED on
        PostgreSQL (SQLite serialises writers), and the lease is only taken where it is
        still free, so two claimers never get the same row (`_claim_statements`).
        """
        if limit <= 0:
            return []
        until = now + lease
        ids = list(await self._session.scalars(_CLAIMABLE, {"now": now, "limit": limit}))
        if not ids:
            return []
        await self._session.execute(
            _LEASE, {"ids": ids, "now": now, "worker": worker, "until": until}
        )
        claimed = await self._session.execute(
            _LEASED, {"ids": ids, "worker": worker, "until": until}
        )
        entries: list[OutboxEntry] = []
        for row in claimed.all():
            try:
                entries.append(_to_entry(row))
            except Unreadable as error:
                # No deliverer can ever read it: set aside for the operator at once.
                logger.error("outbox entry %s given up: %s", row.id, error)
                await self.give_up(row.id, now=now, error=str(error))
        return entries

    async def delivered(self, entry_id: int, *, now: datetime) -> None:
        """Mark the message sent; the next message of its key becomes due."""
        await self._update(entry_id, delivered_at=now, locked_by=None, locked_until=None)

    async def delivered_many(self, entry_ids: Collection[int], *, now: datetime) -> None:
        """Mark a batch sent in one statement."""
        if entry_ids:
            await self._session.execute(_DELIVERED, {"ids": list(entry_ids), "now": now})

    async def retry_later(self, entry_id: int, *, at: datetime, error: str) -> None:
        """Release the lease, count the attempt and make the message due again at `at`."""
        await self._update(
            entry_id,
            attempts=_Row.attempts + 1,
            next_attempt_at=at,
            locked_by=None,
            locked_until=None,
            last_error=error[:MAX_ERROR_CHARS],
        )

    async def give_up(self, entry_id: int, *, now: datetime, error: str) -> None:
        """A permanent failure: keep the row for the operator, stop blocking its key."""
        await self._update(
            entry_id,
            attempts=_Row.attempts + 1,
            failed_at=now,
            locked_by=None,
            locked_until=None,
            last_error=error[:MAX_ERROR_CHARS],
        )

    async def pending_count(self) -> int:
        """How many messages are neither delivered nor given up."""
        count = await self._session.scalar(select(func.count()).select_from(_Row).where(_PENDING))
        return count or 0

    async def _update(self, entry_id: int, **values: object) -> None:
        await self._session.execute(update(_OUTBOX).where(_Row.id == entry_id).values(**values))


class SqlAlchemyMessageRefs:
    """`domain.ports.MessageRefs`: one posted card per (kind, registration)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, kind: MessageKind, registration_id: int) -> MessageRef | None:
        """Where the card was posted, or None if it was not posted yet."""
        row = await self._session.get(
            MessageRefRow, (kind.value, registration_id), populate_existing=True
        )
        return None if row is None else MessageRef(channel_id=row.channel_id, ts=row.ts)

    async def get_many(
        self, keys: Collection[tuple[MessageKind, int]]
    ) -> dict[tuple[MessageKind, int], MessageRef]:
        """The posted cards among `keys` (kind, registration id), in one query."""
        if not keys:
            return {}
        wanted = {(kind.value, registration_id) for kind, registration_id in keys}
        rows = await self._session.execute(
            REFS_OF,
            {
                "kinds": sorted({kind for kind, _ in wanted}),
                "ids": sorted({rid for _, rid in wanted}),
            },
        )
        return {
            (MessageKind(row.kind), row.registration_id): MessageRef(row.channel_id, row.ts)
            for row in rows
            if (row.kind, row.registration_id) in wanted
        }

    async def put(self, kind: MessageKind, registration_id: int, ref: MessageRef) -> None:
        """Record (or replace) where the card was posted."""
        await self.put_many({(kind, registration_id): ref})

    async def evidence_pages(
        self, registration_ids: Collection[int]
    ) -> dict[int, dict[int, MessageRef]]:
        """Where each registration's evidence follow-up pages were posted, by page number
        (stored beside the cards, with the kind ``evidence_page:N``)."""
        if not registration_ids:
            return {}
        rows = await self._session.execute(
            REFS_OF, {"kinds": list(PAGE_KINDS), "ids": sorted(registration_ids)}
        )
        pages: dict[int, dict[int, MessageRef]] = {}
        for row in rows:
            number = PAGE_KINDS[row.kind]
            pages.setdefault(row.registration_id, {})[number] = MessageRef(row.channel_id, row.ts)
        return pages

    async def put_evidence_pages(self, refs: Mapping[tuple[int, int], MessageRef]) -> None:
        """Record posted follow-up pages, keyed (registration id, page number)."""
        await self._put_rows(
            [
                (_page_kind(number), registration_id, ref)
                for (registration_id, number), ref in refs.items()
            ]
        )

    async def drop_evidence_pages(self, registration_id: int, numbers: Collection[int]) -> None:
        """Forget pages that no longer show anything (the evidence got shorter)."""
        if numbers:
            await self._session.execute(
                _DROP_REFS,
                {"kinds": [_page_kind(n) for n in numbers], "registration_id": registration_id},
            )

    async def put_many(self, refs: Mapping[tuple[MessageKind, int], MessageRef]) -> None:
        """Record (or replace) where several cards were posted, in one statement."""
        await self._put_rows(
            [(kind.value, registration_id, ref) for (kind, registration_id), ref in refs.items()]
        )

    async def _put_rows(self, rows: Sequence[tuple[str, int, MessageRef]]) -> None:
        if not rows:
            return
        await self._session.execute(
            _upsert_refs(dialect_insert(self._session)),
            [
                {"kind": kind, "registration_id": rid, "channel_id": ref.channel_id, "ts": ref.ts}
                for kind, rid, ref in rows
            ],
        )


class SqlAlchemyEventReceipts:
    """`domain.ports.EventReceipts`: Slack retries events, so each id is handled once."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def first_time(self, event_id: str, *, now: datetime) -> bool:
        """Record the event id; False when it was already recorded (by anyone)."""
        insert = dialect_insert(self._session)
        statement = (
            insert(SlackEventReceiptRow)
            .values(event_id=event_id, received_at=now)
            .on_conflict_do_nothing(index_elements=[SlackEventReceiptRow.event_id])
        )
        result = await self._session.execute(statement)
        return rows_affected(result) == 1


# ---------------------------------------------------------------------------- helpers


_UPSERT_REFS: dict[type[Any], Any] = {}
_DROP_REFS = delete(_MESSAGE_REF).where(
    _MESSAGE_REF.c.kind.in_(bindparam("kinds", expanding=True)),
    _MESSAGE_REF.c.registration_id == bindparam("registration_id"),
)


def _page_kind(number: int) -> str:
    return f"evidence_page:{number}"


PAGE_KINDS = {_page_kind(n): n for n in range(1, MAX_EVIDENCE_PAGES + 1)}


def _upsert_refs(insert: type[postgresql.Insert] | type[sqlite.Insert]) -> Any:
    """INSERT … ON CONFLICT UPDATE of message refs, built once per dialect."""
    if insert not in _UPSERT_REFS:
        statement = insert(_MESSAGE_REF)
        _UPSERT_REFS[insert] = statement.on_conflict_do_update(
            index_elements=[_MESSAGE_REF.c.kind, _MESSAGE_REF.c.registration_id],
            set_={"channel_id": statement.excluded.channel_id, "ts": statement.excluded.ts},
        )
    return _UPSERT_REFS[insert]


def _columns(message: OutboxMessage, *, now: datetime) -> dict[str, Any]:
    """The row of `message`: the payload in `data` (storage.outbox_codec); its kind, key,
    registration or partner and notice in columns of their own, for the claim and operators."""
    return {
        "key": message.key,
        "kind": message.kind.value,
        "registration_id": message.registration_id,
        "partner_id": message.partner_id if isinstance(message, Launcher) else None,
        "notice": (
            message.notice.value if isinstance(message, PartnerNotice | DeskNotice) else None
        ),
        "data": encode(message),
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


def _to_entry(row: Any) -> OutboxEntry:
    """From an `outbox_message` row (Core row or ORM instance); Unreadable if it holds no
    message."""
    message = decode(
        row.kind,
        row.data,
        registration_id=row.registration_id,
        partner_id=row.partner_id,
        notice=row.notice,
    )
    return OutboxEntry(id=row.id, message=message, attempts=row.attempts, created_at=row.created_at)
