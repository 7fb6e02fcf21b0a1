"""The outbox's side of the use cases: lease what is due, read what it shows, record how
each delivery went. Slack itself is the caller's (bot/outbox), never this module's."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import timedelta

from domain.deliveries import Delivery, DeliverySnapshot, OutboxEntry
from domain.messages import OutboxMessage
from domain.services.context import ServiceContext

logger = logging.getLogger(__name__)

ERROR_LIMIT = 500
"""Characters of a failure's error kept on its outbox row."""


class Deliveries:
    """The outbox messages the committed changes owe, on their way to Slack."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def claim(self, *, worker: str, lease: timedelta, limit: int) -> list[OutboxEntry]:
        """Lease up to `limit` due messages for `lease` (one per card at a time, so a card is
        posted before the replies under it)."""
        async with self._ctx.uow() as uow:
            entries = await uow.outbox.claim(
                now=self._ctx.clock(), lease=lease, limit=limit, worker=worker
            )
            await uow.commit()
        return entries

    async def snapshot(self, messages: Collection[OutboxMessage]) -> DeliverySnapshot:
        """What `messages` show, as it is now, read in one go."""
        async with self._ctx.uow() as uow:
            return await uow.deliveries.snapshot(messages)

    async def record(self, deliveries: Sequence[Delivery]) -> None:
        """How each delivery went, in one transaction: where cards and pages were posted,
        the messages the posts owe, the launchers' ts; each entry delivered, due again
        later, or given up."""
        now = self._ctx.clock()
        async with self._ctx.uow() as uow:
            refs = uow.message_refs
            await refs.put_many({k: v for d in deliveries for k, v in d.posted.items()})
            await refs.put_evidence_pages({k: v for d in deliveries for k, v in d.pages.items()})
            for delivery in deliveries:
                for registration_id, numbers in delivery.dropped_pages.items():
                    await refs.drop_evidence_pages(registration_id, numbers)
            await uow.outbox.put([m for d in deliveries for m in d.follow_ups], now=now)
            delivered: list[int] = []
            for delivery in deliveries:
                entry, error = delivery.entry, delivery.error[:ERROR_LIMIT]
                if delivery.launched is not None:
                    partner_id, ts = delivery.launched
                    partner = await uow.partners.get(partner_id)
                    if partner is not None:
                        partner.launcher_ts = ts
                        await uow.partners.save(partner)
                if delivery.give_up:
                    logger.error("outbox entry %s given up: %s", entry.id, delivery.error)
                    await uow.outbox.give_up(entry.id, now=now, error=error)
                elif delivery.retry_in is not None:
                    logger.info(
                        "outbox entry %s: %s; retry in %.1fs",
                        entry.id,
                        delivery.error,
                        delivery.retry_in,
                    )
                    at = now + timedelta(seconds=delivery.retry_in)
                    await uow.outbox.retry_later(entry.id, at=at, error=error)
                else:
                    delivered.append(entry.id)
            await uow.outbox.delivered_many(delivered, now=now)
            await uow.commit()

    async def pending(self) -> int:
        """Messages not yet delivered nor given up (the health check reports it)."""
        async with self._ctx.uow() as uow:
            return await uow.outbox.pending_count()
