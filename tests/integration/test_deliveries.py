"""The delivery snapshot on SQLite and PostgreSQL: what a batch of outbox messages shows, read
in as many queries for twenty registrations as for two."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.cases import WorkingNote
from domain.deliveries import DeliverySnapshot, MessageRef
from domain.messages import (
    DeskNotice,
    DirectNotice,
    EvidenceHead,
    EvidencePage,
    Launcher,
    MessageKind,
    Notice,
    OutboxMessage,
    PartnerCard,
    PartnerNotice,
    ReviewCard,
)
from domain.partner import Partner
from domain.registration import Registration
from tests.builders import NOW
from tests.integration.claims import partners, register
from tests.integration.conftest import NewUow

MAX_QUERIES = 9
"""Registrations, partners, finding counts, findings (and one query per kind of claim),
working notes, posted cards and pages."""


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs inside the block."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def pairs(new_uow: NewUow, count: int) -> list[Registration]:
    """Two partners register each of `count` customers (so each registration has a finding);
    the desk posted every card, evidence head and a first page, and a direct rep left two
    notes on each."""
    first, second = await partners(new_uow, 2)
    registrations = [
        await register(new_uow, partner, f"Customer{n:02d}", at=NOW + timedelta(minutes=n))
        for n in range(count)
        for partner in (first, second)
    ]
    async with new_uow() as uow:
        for r in registrations:
            assert r.id is not None
            for minute, note in ((1, "Demo booked"), (2, "Pilot signed")):
                await uow.findings.add_working_note(
                    WorkingNote(r.id, f"U0REP{r.id}", "T0HOST", NOW + timedelta(hours=minute), note)
                )
        await uow.message_refs.put_many(
            {
                (kind, r.id or 0): MessageRef("C0", f"{kind}.{r.id}")
                for r in registrations
                for kind in (
                    MessageKind.partner_card,
                    MessageKind.review_card,
                    MessageKind.evidence,
                )
            }
        )
        await uow.message_refs.put_evidence_pages(
            {(r.id or 0, 1): MessageRef("C0", f"page.{r.id}") for r in registrations}
        )
        await uow.commit()
    return registrations


def batch(registrations: list[Registration], partner: Partner) -> list[OutboxMessage]:
    """A message of every kind about each registration, and the partner's launcher."""
    messages: list[OutboxMessage] = [Launcher(partner.id or 0)]
    for r in registrations:
        rid = r.id or 0
        messages += [
            PartnerCard(rid),
            ReviewCard(rid),
            PartnerNotice(rid, Notice.approved),
            DeskNotice(rid, Notice.approved),
            EvidenceHead(rid),
            EvidencePage(rid, 1, 0, 20),
            DirectNotice(rid, "U0OWNER"),
        ]
    return messages


async def snapshot_of(
    engine: AsyncEngine, new_uow: NewUow, messages: list[OutboxMessage]
) -> tuple[DeliverySnapshot, list[str]]:
    async with new_uow() as uow:
        with counting(engine) as statements:
            snapshot = await uow.deliveries.snapshot(messages)
    return snapshot, [s for s in statements if s.lstrip().upper().startswith("SELECT")]


async def test_twenty_registrations_take_as_many_queries_as_two(
    engine: AsyncEngine, new_uow: NewUow
) -> None:
    registrations = await pairs(new_uow, 10)
    async with new_uow() as uow:
        [partner] = (await uow.partners.get_many({registrations[0].partner_id})).values()

    _, few = await snapshot_of(engine, new_uow, batch(registrations[:2], partner))
    _, many = await snapshot_of(engine, new_uow, batch(registrations, partner))

    assert len(many) == len(few) <= MAX_QUERIES, "\n\n".join(many)


async def test_the_snapshot_holds_what_each_message_shows(
    engine: AsyncEngine, new_uow: NewUow
) -> None:
    registrations = await pairs(new_uow, 2)
    ids = [r.id or 0 for r in registrations]
    async with new_uow() as uow:
        [partner] = (await uow.partners.get_many({registrations[0].partner_id})).values()

    snapshot, _ = await snapshot_of(engine, new_uow, batch(registrations, partner))

    assert sorted(snapshot.registrations) == ids
    assert set(snapshot.partners) == {r.partner_id for r in registrations}
    found = {rid: len(findings) for rid, findings in snapshot.findings.items()}
    assert sorted(found) == ids
    assert all(found.values())
    assert {rid: c.total for rid, c in snapshot.counts.items()} == found
    assert {rid: [n.note for n in notes] for rid, notes in snapshot.working.items()} == {
        rid: ["Demo booked", "Pilot signed"] for rid in ids
    }
    assert set(snapshot.refs) == {
        (kind, rid)
        for rid in ids
        for kind in (MessageKind.partner_card, MessageKind.review_card, MessageKind.evidence)
    }
    assert snapshot.pages == {rid: {1: MessageRef("C0", f"page.{rid}")} for rid in ids}


async def test_a_batch_of_cards_alone_reads_no_case(engine: AsyncEngine, new_uow: NewUow) -> None:
    registrations = await pairs(new_uow, 1)
    rid = registrations[0].id or 0

    snapshot, statements = await snapshot_of(engine, new_uow, [PartnerCard(rid)])

    assert (snapshot.findings, snapshot.working, snapshot.pages) == ({}, {}, {})
    assert set(snapshot.refs) == {(MessageKind.partner_card, rid)}
    assert len(statements) == 4  # the registration, its partner, its counts, its card
