"""The outbox (ordering per key, leases, retries, concurrent workers), message refs, receipts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.views.evidence_layout import MAX_MESSAGES
from domain.deliveries import MessageRef, OutboxEntry
from domain.messages import (
    MAX_EVIDENCE_PAGES,
    DeskNotice,
    Launcher,
    MessageKind,
    Notice,
    OutboxMessage,
    PartnerCard,
    PartnerNotice,
    ResolutionDetail,
    ReviewCard,
)
from domain.ownership import OwnershipRule, Resolution
from storage.models import OutboxMessageRow
from storage.outbox import _CLAIMABLE, REFS_OF
from tests.builders import NOW
from tests.integration.conftest import NewUow

LEASE = timedelta(minutes=1)
Sessions = async_sessionmaker[AsyncSession]


def card(registration_id: int, kind: MessageKind = MessageKind.partner_card) -> OutboxMessage:
    """A card of the registration, or (`partner_notice`) a reply in its thread."""
    if kind is MessageKind.partner_notice:
        return PartnerNotice(registration_id, Notice.approved)
    return (
        PartnerCard(registration_id)
        if kind is MessageKind.partner_card
        else ReviewCard(registration_id)
    )


async def put(new_uow: NewUow, *messages: OutboxMessage) -> None:
    async with new_uow() as uow:
        await uow.outbox.put(messages, now=NOW)
        await uow.commit()


async def claim(
    new_uow: NewUow, *, worker: str = "w1", after: timedelta = timedelta(0), limit: int = 10
) -> list[OutboxEntry]:
    async with new_uow() as uow:
        entries = await uow.outbox.claim(now=NOW + after, lease=LEASE, limit=limit, worker=worker)
        await uow.commit()
    return entries


async def delivered(new_uow: NewUow, entry: OutboxEntry, *, after: timedelta) -> None:
    async with new_uow() as uow:
        await uow.outbox.delivered(entry.id, now=NOW + after)
        await uow.commit()


class TestClaimOrder:
    async def test_claims_only_the_oldest_unfinished_message_of_each_key(
        self, new_uow: NewUow
    ) -> None:
        await put(new_uow, card(1), card(2), card(1, MessageKind.partner_notice), card(2))

        entries = await claim(new_uow)

        assert [(e.message.registration_id, e.message.kind) for e in entries] == [
            (1, MessageKind.partner_card),
            (2, MessageKind.partner_card),
        ]

    async def test_next_message_of_a_key_is_due_once_the_previous_is_delivered(
        self, new_uow: NewUow
    ) -> None:
        await put(new_uow, card(1), card(1, MessageKind.partner_notice), card(2))
        first, _ = await claim(new_uow)

        await delivered(new_uow, first, after=timedelta(seconds=1))
        entries = await claim(new_uow, worker="w2", after=timedelta(seconds=2))

        assert [e.message.kind for e in entries] == [MessageKind.partner_notice]

    async def test_entry_carries_the_message_as_queued(self, new_uow: NewUow) -> None:
        reason = "Duplicate <registration> & more"
        resolved = ResolutionDetail(
            Resolution.duplicate, 7, "AR-0007", reason, OwnershipRule.first_registered
        )
        message = DeskNotice(7, Notice.conflict_lost, resolution=resolved)
        launcher = Launcher(3)
        await put(new_uow, message, launcher)

        entries = await claim(new_uow)

        assert [e.message for e in entries] == [message, launcher]
        assert [e.attempts for e in entries] == [0, 0]
        assert entries[0].created_at == NOW

    async def test_claims_at_most_the_limit_in_id_order(self, new_uow: NewUow) -> None:
        await put(new_uow, *(card(n) for n in range(1, 6)))

        entries = await claim(new_uow, limit=3)

        assert [e.message.registration_id for e in entries] == [1, 2, 3]
        assert entries == sorted(entries, key=lambda e: e.id)

    async def test_nothing_due_claims_nothing(self, new_uow: NewUow) -> None:
        assert await claim(new_uow) == []
        await put(new_uow, card(1))
        assert await claim(new_uow, limit=0) == []

    async def test_a_claim_reads_pending_rows_through_the_partial_index(
        self, engine: AsyncEngine
    ) -> None:
        # Delivered rows pile up for ever; a claim runs after every submission.
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                await connection.exec_driver_sql("SET enable_seqscan = off")
            compiled = _CLAIMABLE.compile(dialect=connection.dialect)
            values = compiled.construct_params({"now": NOW, "limit": 10})
            params = tuple(values[name] for name in compiled.positiontup or ())
            explain = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
            plan = await connection.exec_driver_sql(explain + str(compiled), params)
            assert "ix_outbox_message_pending" in str(plan.all())


async def test_cards_are_found_by_their_primary_key_not_a_scan(engine: AsyncEngine) -> None:
    # Every outbox pass looks up the cards of its batch; cards posted pile up for ever.
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET enable_seqscan = off")
        expanded = REFS_OF.compile(dialect=connection.dialect).construct_expanded_state(
            {"kinds": ["partner_card", "review_card"], "ids": [1, 2]}
        )
        explain = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
        result = await connection.exec_driver_sql(
            explain + expanded.statement, expanded.positional_parameters
        )
        plan = str(result.all())
        assert "SCAN" not in plan
        assert "Seq Scan" not in plan


class TestLeases:
    async def test_a_leased_message_is_not_claimed_again_before_the_lease_ends(
        self, new_uow: NewUow
    ) -> None:
        await put(new_uow, card(1))
        await claim(new_uow, worker="w1")

        assert await claim(new_uow, worker="w2", after=LEASE - timedelta(seconds=1)) == []

    async def test_an_expired_lease_lets_another_worker_claim_it(self, new_uow: NewUow) -> None:
        await put(new_uow, card(1))
        (first,) = await claim(new_uow, worker="w1")

        (again,) = await claim(new_uow, worker="w2", after=LEASE)

        assert again.id == first.id

    async def test_a_delivered_message_is_never_claimed_again(self, new_uow: NewUow) -> None:
        await put(new_uow, card(1))
        (entry,) = await claim(new_uow)
        await delivered(new_uow, entry, after=timedelta(seconds=1))

        assert await claim(new_uow, worker="w2", after=LEASE * 10) == []
        async with new_uow() as uow:
            assert await uow.outbox.pending_count() == 0


class TestRetries:
    async def test_retry_later_counts_the_attempt_and_waits_until_the_given_time(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        await put(new_uow, card(1))
        (entry,) = await claim(new_uow)
        retry_at = NOW + timedelta(seconds=30)

        async with new_uow() as uow:
            await uow.outbox.retry_later(entry.id, at=retry_at, error="ratelimited")
            await uow.commit()

        assert await claim(new_uow, worker="w2", after=timedelta(seconds=29)) == []
        (again,) = await claim(new_uow, worker="w2", after=timedelta(seconds=30))
        assert again.id == entry.id
        assert again.attempts == 1
        row = await stored_row(session_factory, entry.id)
        assert row.last_error == "ratelimited"
        assert row.next_attempt_at == retry_at

    async def test_retry_later_blocks_the_rest_of_its_key(self, new_uow: NewUow) -> None:
        await put(new_uow, card(1), card(1, MessageKind.partner_notice))
        (entry,) = await claim(new_uow)

        async with new_uow() as uow:
            await uow.outbox.retry_later(entry.id, at=NOW + LEASE * 10, error="timeout")
            await uow.commit()

        assert await claim(new_uow, worker="w2", after=LEASE * 2) == []

    async def test_give_up_keeps_the_row_and_unblocks_its_key(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        await put(new_uow, card(1), card(1, MessageKind.partner_notice))
        (entry,) = await claim(new_uow)

        async with new_uow() as uow:
            await uow.outbox.give_up(entry.id, now=NOW, error="channel_not_found")
            await uow.commit()

        (following,) = await claim(new_uow, worker="w2", after=timedelta(seconds=1))
        assert following.message.kind is MessageKind.partner_notice
        row = await stored_row(session_factory, entry.id)
        assert row.failed_at == NOW
        assert row.last_error == "channel_not_found"
        assert row.attempts == 1
        async with new_uow() as uow:
            assert await uow.outbox.pending_count() == 1

    async def test_long_errors_are_clipped(
        self, new_uow: NewUow, session_factory: Sessions
    ) -> None:
        await put(new_uow, card(1))
        (entry,) = await claim(new_uow)

        async with new_uow() as uow:
            await uow.outbox.retry_later(entry.id, at=NOW, error="x" * 10_000)
            await uow.commit()

        row = await stored_row(session_factory, entry.id)
        assert row.last_error is not None
        assert len(row.last_error) == 2000


class TestConcurrentWorkers:
    async def test_concurrent_claimers_never_get_the_same_message(self, new_uow: NewUow) -> None:
        await put(new_uow, *(card(n) for n in range(1, 31)))

        batches = await asyncio.gather(
            *(claim(new_uow, worker=f"w{n}", limit=10) for n in range(5))
        )

        claimed = [entry.id for batch in batches for entry in batch]
        assert len(claimed) == len(set(claimed))
        assert len(claimed) == 30

    async def test_concurrent_claimers_keep_one_message_per_key_in_flight(
        self, new_uow: NewUow
    ) -> None:
        await put(new_uow, *(card(n % 3) for n in range(12)))

        batches = await asyncio.gather(*(claim(new_uow, worker=f"w{n}") for n in range(4)))

        keys = [entry.message.key for batch in batches for entry in batch]
        assert sorted(keys) == [f"registration:{n}:partner" for n in range(3)]


class TestMessageRefs:
    async def test_put_then_get(self, new_uow: NewUow, registration_id: int) -> None:
        async with new_uow() as uow:
            await uow.message_refs.put(
                MessageKind.review_card, registration_id, MessageRef("C0DESK", "1700.1")
            )
            await uow.commit()

        async with new_uow() as uow:
            ref = await uow.message_refs.get(MessageKind.review_card, registration_id)
            other = await uow.message_refs.get(MessageKind.partner_card, registration_id)

        assert ref == MessageRef("C0DESK", "1700.1")
        assert other is None

    async def test_put_again_replaces_the_ref(self, new_uow: NewUow, registration_id: int) -> None:
        for ts in ("1700.1", "1800.2"):
            async with new_uow() as uow:
                await uow.message_refs.put(
                    MessageKind.partner_card, registration_id, MessageRef("C0ACME", ts)
                )
                await uow.commit()

        async with new_uow() as uow:
            ref = await uow.message_refs.get(MessageKind.partner_card, registration_id)

        assert ref == MessageRef("C0ACME", "1800.2")

    async def test_evidence_pages_are_kept_beside_the_cards_and_dropped_by_number(
        self, new_uow: NewUow, registration_id: int
    ) -> None:
        async with new_uow() as uow:
            await uow.message_refs.put(
                MessageKind.evidence, registration_id, MessageRef("C0DESK", "1700.1")
            )
            await uow.message_refs.put_evidence_pages(
                {(registration_id, n): MessageRef("C0DESK", f"1700.{n + 1}") for n in (1, 2, 3)}
            )
            await uow.commit()
        async with new_uow() as uow:
            await uow.message_refs.drop_evidence_pages(registration_id, [2, 3])
            await uow.commit()

        async with new_uow() as uow:
            pages = await uow.message_refs.evidence_pages([registration_id, registration_id + 1])
            head = await uow.message_refs.get(MessageKind.evidence, registration_id)

        assert pages == {registration_id: {1: MessageRef("C0DESK", "1700.2")}}
        assert head == MessageRef("C0DESK", "1700.1")

    def test_every_page_a_thread_can_have_is_remembered(self) -> None:
        assert MAX_MESSAGES - 1 <= MAX_EVIDENCE_PAGES


class TestEventReceipts:
    async def test_an_event_is_new_only_the_first_time(self, new_uow: NewUow) -> None:
        async with new_uow() as uow:
            first = await uow.receipts.first_time("Ev01", now=NOW)
            again_same_transaction = await uow.receipts.first_time("Ev01", now=NOW)
            await uow.commit()
        async with new_uow() as uow:
            again_later = await uow.receipts.first_time("Ev01", now=NOW)
            other = await uow.receipts.first_time("Ev02", now=NOW)

        assert (first, again_same_transaction, again_later, other) == (True, False, False, True)

    async def test_concurrent_deliveries_of_one_event_are_new_once(self, new_uow: NewUow) -> None:
        async def record() -> bool:
            async with new_uow() as uow:
                first = await uow.receipts.first_time("Ev03", now=NOW)
                await uow.commit()
            return first

        results = await asyncio.gather(*(record() for _ in range(4)))

        assert sorted(results) == [False, False, False, True]


async def stored_row(sessions: Sessions, entry_id: int) -> OutboxMessageRow:
    """The raw row, for bookkeeping the port does not expose (last error, failure time)."""
    async with sessions() as session:
        row = await session.get(OutboxMessageRow, entry_id)
    assert row is not None
    return row


class TestKeys:
    async def test_partner_and_desk_cards_of_one_registration_go_out_in_parallel(
        self, new_uow: NewUow
    ) -> None:
        await put(new_uow, card(1), card(1, MessageKind.review_card))

        entries = await claim(new_uow)

        assert {e.message.kind for e in entries} == {
            MessageKind.partner_card,
            MessageKind.review_card,
        }


class TestDeliveredMany:
    async def test_marks_a_whole_batch_delivered_and_frees_the_next_of_each_key(
        self, new_uow: NewUow
    ) -> None:
        await put(new_uow, card(1), card(1, MessageKind.partner_notice), card(2))
        first = await claim(new_uow)
        async with new_uow() as uow:
            await uow.outbox.delivered_many([e.id for e in first], now=NOW)
            await uow.commit()

        following = await claim(new_uow)

        assert [e.message.kind for e in following] == [MessageKind.partner_notice]
        async with new_uow() as uow:
            assert await uow.outbox.pending_count() == 1
