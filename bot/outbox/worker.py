"""The outbox worker: lease due messages, deliver them, record how each went.

Each process runs one worker. It leases a batch of due messages (one per key at a time, so
a card is posted before replies go into its thread), loads what they show in one snapshot,
has each delivered by the deliverer of its kind, concurrently, and records every result in
one more transaction. Rate limits honour Retry-After; other transient failures back off
exponentially; permanent ones are set aside for the operator. A crash or a Slack outage
loses nothing: leased messages become due again when the lease runs out. Messages for the
desk channel wait while it is not known to be internal (bot/desk_channel.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.desk_channel import DeskCheck, DeskState
from bot.outbox.cards import deliver_launcher, deliver_partner_card, deliver_review_card
from bot.outbox.courier import Courier, Deliverers, Undeliverable
from bot.outbox.evidence import deliver_evidence, deliver_evidence_page
from bot.outbox.notices import deliver_desk_notice, deliver_direct_notice, deliver_partner_notice
from bot.owners import OwnerResolver
from domain.deliveries import Delivery, OutboxEntry
from domain.messages import MessageKind, Side

logger = logging.getLogger(__name__)

DELIVERERS: Deliverers = {
    MessageKind.launcher: deliver_launcher,
    MessageKind.partner_card: deliver_partner_card,
    MessageKind.review_card: deliver_review_card,
    MessageKind.partner_notice: deliver_partner_notice,
    MessageKind.desk_notice: deliver_desk_notice,
    MessageKind.evidence: deliver_evidence,
    MessageKind.evidence_page: deliver_evidence_page,
    MessageKind.direct_notice: deliver_direct_notice,
}
"""The deliverer of each kind of message."""
DESK_SIDE = frozenset(kind for kind in MessageKind if kind.side is Side.desk)
"""Messages that go to the desk channel: held while it is not known to be internal."""
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
MAX_RETRY_AFTER_SECONDS = 86_400.0
"""The longest wait a Retry-After header can ask for before we try again anyway."""


@dataclass(frozen=True, slots=True)
class OutboxTuning:
    lease: timedelta = timedelta(seconds=60)
    batch: int = 10
    poll_seconds: float = 1.0
    first_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 300.0
    desk_check_seconds: float = 60.0
    """How long a check that the desk channel is internal (or shared) is trusted."""
    desk_hold_seconds: float = 300.0
    """How often desk-side messages held for a shared desk channel are tried again."""


class OutboxWorker:
    """Runs until cancelled: claim, deliver, record; sleep until woken or the poll interval."""

    def __init__(
        self, deps: Deps, client: AsyncWebClient, *, tuning: OutboxTuning | None = None
    ) -> None:
        self._deps = deps
        self._client = client
        self._owners = OwnerResolver(client)
        self._tuning = tuning or OutboxTuning()
        self._name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._host_team_id: str | None = None

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
                # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that
                # arrives as the wake-up fires, and the worker would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._tuning.poll_seconds):
                        await self._deps.outbox_wakeup.wait()
                self._deps.outbox_wakeup.clear()

    async def drain_once(self) -> int:
        """Claim one batch, deliver it and record the results; the number of entries."""
        deliveries = self._deps.services.deliveries
        entries = await deliveries.claim(
            worker=self._name, lease=self._tuning.lease, limit=self._tuning.batch
        )
        if not entries:
            return 0
        desk = await self._desk_hold(entries)
        held = [self._held(e) for e in entries if desk and e.message.kind in DESK_SIDE]
        sending = [e for e in entries if not desk or e.message.kind not in DESK_SIDE]
        snapshot = await deliveries.snapshot([e.message for e in sending])
        courier = Courier(
            self._client,
            self._deps.config,
            self._deps.clock,
            self._owners,
            self._host_team,
            snapshot,
        )
        # return_exceptions: a cancelled worker still waits for every delivery in flight.
        outcomes = await asyncio.gather(
            *(self._attempt(entry, courier) for entry in sending), return_exceptions=True
        )
        await deliveries.record([o for o in outcomes if isinstance(o, Delivery)] + held)
        return len(entries)

    async def _desk_hold(self, entries: list[OutboxEntry]) -> DeskCheck | None:
        """Why the batch's desk-side messages must wait (the desk channel is shared with
        another organisation), or None to deliver everything. A check that cannot be made
        holds nothing: it is logged (`DeskWatch`), and posting surfaces Slack's own errors."""
        if not any(entry.message.kind in DESK_SIDE for entry in entries):
            return None
        check = await self._deps.desk_watch.current(
            self._client,
            self._deps.config.desk,
            now=self._deps.clock(),
            max_age=timedelta(seconds=self._tuning.desk_check_seconds),
        )
        return check if check.state is DeskState.shared else None

    def _held(self, entry: OutboxEntry) -> Delivery:
        """A desk-side message kept queued while the desk channel is shared: nothing is lost,
        it goes out once the channel is internal again."""
        channel = self._deps.config.desk.channel_id
        return Delivery(
            entry,
            retry_in=self._tuning.desk_hold_seconds,
            error=f"held: the desk channel {channel} is shared with another organisation",
        )

    async def _attempt(self, entry: OutboxEntry, courier: Courier) -> Delivery:
        """Deliver one entry with the deliverer of its kind; how it went."""
        result = Delivery(entry)
        message = entry.message
        try:
            await DELIVERERS[message.kind](message, courier, result)
        except SlackApiError as error:
            status = error.response.status_code
            code = str(error.response.get("error") or "")
            if status == 429:
                result.retry_in = retry_after(
                    error.response.headers.get("Retry-After"),
                    fallback=self._backoff(entry),
                    now=self._deps.clock(),
                )
                result.error = "ratelimited"
            elif code in PERMANENT_ERRORS:
                result.give_up, result.error = True, code
            else:
                result.retry_in, result.error = self._backoff(entry), f"slack: {status} {code}"
        except (ClientError, TimeoutError, OSError) as error:
            result.retry_in, result.error = self._backoff(entry), f"network: {error!r}"
        except Undeliverable as error:
            result.give_up, result.error = True, str(error)
        except Exception as error:
            logger.exception("outbox entry %s (%s) failed", entry.id, message.kind)
            result.retry_in, result.error = self._backoff(entry), f"error: {error!r}"
        return result

    def _backoff(self, entry: OutboxEntry) -> float:
        delay = self._tuning.first_backoff_seconds * 2.0**entry.attempts
        return float(min(delay, self._tuning.max_backoff_seconds))

    async def _host_team(self) -> str | None:
        """Our own workspace (from auth.test, once), so internal submitters show no team."""
        if self._host_team_id is None:
            try:
                self._host_team_id = str((await self._client.auth_test())["team_id"])
            except Exception:
                logger.warning("auth.test failed; review cards show every submitter's team")
                return None
        return self._host_team_id


def retry_after(header: str | None, *, fallback: float, now: datetime) -> float:
    """Seconds a 429's Retry-After asks us to wait: delta-seconds (what Slack sends) or an
    HTTP date (RFC 9110), at most a day; `fallback` when the header is missing or unreadable,
    so a garbled header still schedules the next attempt instead of breaking the bookkeeping."""
    text = (header or "").strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return fallback
        if when.tzinfo is None:
            return fallback
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds):
        return fallback
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)
