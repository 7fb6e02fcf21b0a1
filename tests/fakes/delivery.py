"""The delivery plumbing in memory: the outbox, the messages posted, the event receipts."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from domain.deliveries import DeliverySnapshot, MessageRef, OutboxEntry
from domain.messages import Launcher, MessageKind, OutboxMessage
from domain.ports import (
    ConflictRepository,
    FindingRepository,
    PartnerRepository,
    RegistrationRepository,
)
from tests.fakes.data import Data, OutboxRow, Transaction


class FakeOutbox:
    """Messages queued in the transaction (and logged in `FakeStorage.messages_put` at once)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def put(self, messages: Sequence[OutboxMessage], *, now: datetime) -> None:
        storage = self._tx.storage
        storage.messages_put.extend(messages)
        self._tx.extend(
            "outbox", [OutboxRow(storage.next_id("outbox"), m, now, now) for m in messages]
        )

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int, worker: str
    ) -> list[OutboxEntry]:
        leased: list[int] = []
        keys: set[str] = set()
        for row in self._tx.data.outbox:
            if not row.pending or row.message.key in keys:
                continue
            keys.add(row.message.key)  # an older unfinished message blocks its key
            free = row.locked_until is None or row.locked_until <= now
            if row.next_attempt_at <= now and free and len(leased) < limit:
                leased.append(row.id)
        self._update(leased, locked_until=now + lease)
        rows = {row.id: row for row in self._tx.data.outbox}
        return [_entry(rows[i]) for i in leased]

    async def delivered(self, entry_id: int, *, now: datetime) -> None:
        self._update([entry_id], delivered_at=now, locked_until=None)

    async def delivered_many(self, entry_ids: Collection[int], *, now: datetime) -> None:
        self._update(list(entry_ids), delivered_at=now, locked_until=None)

    async def retry_later(self, entry_id: int, *, at: datetime, error: str) -> None:
        self._update([entry_id], attempted=True, next_attempt_at=at, locked_until=None)

    async def give_up(self, entry_id: int, *, now: datetime, error: str) -> None:
        self._update([entry_id], attempted=True, failed_at=now, locked_until=None)

    async def pending_count(self) -> int:
        return sum(row.pending for row in self._tx.data.outbox)

    def _update(self, ids: Collection[int], *, attempted: bool = False, **values: object) -> None:
        def change(data: Data) -> None:
            for row in data.outbox:
                if row.id in ids:
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.attempts += attempted

        self._tx.write(change)


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(row.id, row.message, row.attempts, row.created_at)


def _page(number: int) -> str:
    return f"evidence_page:{number}"


class FakeMessageRefs:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, kind: MessageKind, registration_id: int) -> MessageRef | None:
        return self._tx.data.refs.get((kind.value, registration_id))

    async def get_many(
        self, keys: Collection[tuple[MessageKind, int]]
    ) -> dict[tuple[MessageKind, int], MessageRef]:
        refs = self._tx.data.refs
        return {(k, i): refs[(k.value, i)] for k, i in keys if (k.value, i) in refs}

    async def put(self, kind: MessageKind, registration_id: int, ref: MessageRef) -> None:
        await self.put_many({(kind, registration_id): ref})

    async def put_many(self, refs: Mapping[tuple[MessageKind, int], MessageRef]) -> None:
        self._put({(kind.value, rid): ref for (kind, rid), ref in refs.items()})

    async def evidence_pages(
        self, registration_ids: Collection[int]
    ) -> dict[int, dict[int, MessageRef]]:
        pages: dict[int, dict[int, MessageRef]] = {}
        for (kind, rid), ref in self._tx.data.refs.items():
            if rid in registration_ids and kind.startswith("evidence_page:"):
                pages.setdefault(rid, {})[int(kind.split(":")[1])] = ref
        return pages

    async def put_evidence_pages(self, refs: Mapping[tuple[int, int], MessageRef]) -> None:
        self._put({(_page(number), rid): ref for (rid, number), ref in refs.items()})

    async def drop_evidence_pages(self, registration_id: int, numbers: Collection[int]) -> None:
        for number in numbers:
            self._tx.drop("refs", (_page(number), registration_id))

    def _put(self, refs: dict[tuple[str, int], MessageRef]) -> None:
        for key, ref in refs.items():
            self._tx.put("refs", key, ref)


class FakeReceipts:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def first_time(self, event_id: str, *, now: datetime) -> bool:
        if event_id in self._tx.data.receipts:
            return False
        self._tx.put("receipts", event_id, now)
        return True


class FakeDeliveries:
    """The delivery snapshot, read through the other fake repositories of the same unit of
    work (storage reads it in a fixed number of queries; the fake has none to save)."""

    def __init__(
        self,
        *,
        registrations: RegistrationRepository,
        partners: PartnerRepository,
        conflicts: ConflictRepository,
        findings: FindingRepository,
        refs: FakeMessageRefs,
    ) -> None:
        self._registrations = registrations
        self._partners = partners
        self._conflicts = conflicts
        self._findings = findings
        self._refs = refs

    async def snapshot(self, messages: Collection[OutboxMessage]) -> DeliverySnapshot:
        shown = [m for m in messages if not isinstance(m, Launcher)]
        launched = {m.partner_id for m in messages if isinstance(m, Launcher)}
        registrations = await self._registrations.get_many({m.registration_id for m in shown})
        partners = await self._partners.get_many(
            {r.partner_id for r in registrations.values()} | launched
        )
        cases = {m.registration_id for m in shown if m.kind in _CASE} & set(registrations)
        posted = {
            (kind, m.registration_id)
            for m in shown
            for kind in (m.kind.card, MessageKind.evidence)
            if kind is not None and m.registration_id in registrations
        }
        return DeliverySnapshot(
            registrations=registrations,
            partners=partners,
            refs=await self._refs.get_many(posted),
            pages=await self._refs.evidence_pages(set(registrations)),
            counts=await self._conflicts.finding_counts(
                {m.registration_id for m in shown if m.kind is MessageKind.partner_card}
            ),
            findings=await self._findings.for_registrations(cases),
            working={rid: await self._findings.working_notes(rid) for rid in sorted(cases)},
        )


_CASE = frozenset({MessageKind.review_card, MessageKind.evidence, MessageKind.evidence_page})
"""Kinds that show the case: its findings as they are now and the working notes."""
