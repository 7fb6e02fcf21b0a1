"""Delivers the Slack messages that committed transactions owe (the outbox).

Each process runs one worker. It leases due messages (one per registration at a time, so a
card is posted before replies go into its thread), renders the current state, calls Slack
and records the result. Rate limits honour Retry-After; other transient failures back off
exponentially; permanent ones are set aside for the operator. A crash or a Slack outage
loses nothing: leased messages become due again when the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.views.cards import build_launcher, build_notice, build_partner_card, build_review_card
from bot.views.common import Message
from domain.errors import NotFound
from domain.messages import MessageKind
from domain.ports import MessageRef, OutboxEntry, UnitOfWork
from domain.services import get_registration

logger = logging.getLogger(__name__)

# Slack errors that retrying cannot fix: the message is set aside and logged.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "cant_update_message",
        "message_not_found",
        "edit_window_closed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "restricted_action",
    }
)


@dataclass(frozen=True, slots=True)
class OutboxTuning:
    lease: timedelta = timedelta(seconds=60)
    batch: int = 20
    poll_seconds: float = 1.0
    first_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 300.0


class Undeliverable(Exception):
    """The entry can never be delivered (its registration or partner is gone)."""


class OutboxWorker:
    """Runs until cancelled: claim, deliver, record; sleep until woken or the poll interval."""

    def __init__(
        self, deps: Deps, client: AsyncWebClient, *, tuning: OutboxTuning | None = None
    ) -> None:
        self._deps = deps
        self._client = client
        self._tuning = tuning or OutboxTuning()
        self._name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    async def run(self) -> None:
        while True:
            try:
                delivered = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox pass failed; trying again shortly")
                delivered = 0
            if delivered == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._deps.outbox_wakeup.wait(), self._tuning.poll_seconds
                    )
                self._deps.outbox_wakeup.clear()

    async def drain_once(self) -> int:
        """Claim one batch and deliver it; the number of entries handled."""
        uow = self._deps.uow()
        async with uow:
            entries = await uow.outbox.claim(
                now=self._deps.clock(),
                lease=self._tuning.lease,
                limit=self._tuning.batch,
                worker=self._name,
            )
            await uow.commit()
        await asyncio.gather(*(self._handle(entry) for entry in entries), return_exceptions=True)
        return len(entries)

    async def _handle(self, entry: OutboxEntry) -> None:
        uow = self._deps.uow()
        try:
            await self._deliver(entry)
        except SlackApiError as error:
            await self._failed(uow, entry, error)
            return
        except (ClientError, TimeoutError, OSError) as error:
            await self._retry(uow, entry, f"network: {error!r}")
            return
        except Undeliverable as error:
            await self._give_up(uow, entry, str(error))
            return
        except Exception as error:
            logger.exception("outbox entry %s (%s) failed", entry.id, entry.message.kind)
            await self._retry(uow, entry, f"error: {error!r}")
            return
        async with uow:
            await uow.outbox.delivered(entry.id, now=self._deps.clock())
            await uow.commit()

    async def _failed(self, uow: UnitOfWork, entry: OutboxEntry, error: SlackApiError) -> None:
        status = error.response.status_code
        code = str(error.response.get("error") or "")
        if status == 429:
            retry_after = float(error.response.headers.get("Retry-After", "1") or 1)
            logger.warning("outbox entry %s rate limited; retry in %ss", entry.id, retry_after)
            await self._retry(uow, entry, "ratelimited", delay=retry_after)
        elif code in PERMANENT_ERRORS:
            logger.error("outbox entry %s cannot be delivered: %s", entry.id, code)
            await self._give_up(uow, entry, code)
        else:
            await self._retry(uow, entry, f"slack: {status} {code}")

    async def _retry(
        self, uow: UnitOfWork, entry: OutboxEntry, error: str, *, delay: float | None = None
    ) -> None:
        if delay is None:
            delay = min(
                self._tuning.first_backoff_seconds * 2**entry.attempts,
                self._tuning.max_backoff_seconds,
            )
        logger.info("outbox entry %s: %s; retry in %.1fs", entry.id, error, delay)
        async with uow:
            await uow.outbox.retry_later(
                entry.id, at=self._deps.clock() + timedelta(seconds=delay), error=error[:500]
            )
            await uow.commit()

    async def _give_up(self, uow: UnitOfWork, entry: OutboxEntry, error: str) -> None:
        async with uow:
            await uow.outbox.give_up(entry.id, now=self._deps.clock(), error=error[:500])
            await uow.commit()

    async def _deliver(self, entry: OutboxEntry) -> None:
        message = entry.message
        program = self._deps.config.program
        if message.kind is MessageKind.launcher:
            await self._deliver_launcher(entry)
            return
        if message.registration_id is None:
            raise Undeliverable(f"{message.kind} without a registration")
        try:
            found = await get_registration(message.registration_id, uow=self._deps.uow())
        except NotFound as error:
            raise Undeliverable(error.message) from error
        registration, partner = found.registration, found.partner
        desk_channel = self._deps.config.desk.channel_id
        if message.kind is MessageKind.partner_card:
            card = build_partner_card(registration, partner, program=program)
            await self._upsert(message.kind, registration.id, partner.channel_id, card)
        elif message.kind is MessageKind.review_card:
            card = build_review_card(registration, partner, program=program, now=self._deps.clock())
            await self._upsert(message.kind, registration.id, desk_channel, card)
        elif message.kind in (MessageKind.partner_notice, MessageKind.desk_notice):
            if message.notice is None:
                raise Undeliverable("notice without a subject")
            to_partner = message.kind is MessageKind.partner_notice
            parent_kind = MessageKind.partner_card if to_partner else MessageKind.review_card
            channel = partner.channel_id if to_partner else desk_channel
            notice = build_notice(
                registration,
                message.notice,
                audience="partner" if to_partner else "desk",
                program=program,
            )
            parent = await self._ref(parent_kind, registration.id)
            await self._client.chat_postMessage(
                channel=parent.channel_id if parent else channel,
                thread_ts=parent.ts if parent else None,
                text=notice.text,
                blocks=notice.block_dicts(),
            )

    async def _deliver_launcher(self, entry: OutboxEntry) -> None:
        partner_id = entry.message.partner_id
        uow = self._deps.uow()
        async with uow:
            partner = await uow.partners.get(partner_id) if partner_id is not None else None
        if partner is None:
            raise Undeliverable("the partner is gone")
        launcher = build_launcher(partner)
        response = await self._client.chat_postMessage(
            channel=partner.channel_id, text=launcher.text, blocks=launcher.block_dicts()
        )
        async with uow:
            stored = await uow.partners.get(partner.id or 0)
            if stored is not None:
                stored.launcher_ts = str(response["ts"])
                await uow.partners.save(stored)
                await uow.commit()

    async def _ref(self, kind: MessageKind, registration_id: int | None) -> MessageRef | None:
        uow = self._deps.uow()
        async with uow:
            return await uow.message_refs.get(kind, registration_id or 0)

    async def _upsert(
        self, kind: MessageKind, registration_id: int | None, channel: str, card: Message
    ) -> None:
        """Post the card the first time, edit it in place afterwards."""
        assert registration_id is not None
        ref = await self._ref(kind, registration_id)
        if ref is not None:
            await self._client.chat_update(
                channel=ref.channel_id, ts=ref.ts, text=card.text, blocks=card.block_dicts()
            )
            return
        response = await self._client.chat_postMessage(
            channel=channel, text=card.text, blocks=card.block_dicts()
        )
        uow = self._deps.uow()
        async with uow:
            await uow.message_refs.put(
                kind, registration_id, MessageRef(str(response["channel"]), str(response["ts"]))
            )
            await uow.commit()
