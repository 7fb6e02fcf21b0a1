"""Delivers the Slack messages that committed transactions owe (the outbox).

Each process runs one worker. It leases a batch of due messages (one per key at a time, so
a card is posted before replies go into its thread), loads what they show in one
transaction, calls Slack for all of them concurrently, and records every result in one
more. Rate limits honour Retry-After; other transient failures back off exponentially;
permanent ones are set aside for the operator. A crash or a Slack outage loses nothing:
leased messages become due again when the lease runs out. Messages for the desk channel wait
while it is not known to be internal (bot/desk_channel.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.desk_channel import DeskCheck, DeskState
from bot.owners import OwnerResolver
from bot.views.common import Message
from bot.views.direct_notices import build_direct_notice
from bot.views.evidence import build_evidence_page, build_evidence_page_gone, evidence_thread
from bot.views.launcher import build_launcher
from bot.views.notices import build_notice
from bot.views.partner_card import build_partner_card
from bot.views.review_card import build_review_card
from domain.cases import Case
from domain.conflicts import FindingCounts
from domain.messages import EDIT_ONLY, MessageKind, OutboxMessage
from domain.ownership import StoredFinding, recommend
from domain.partner import Partner
from domain.ports import MessageRef, OutboxEntry
from domain.registration import Registration

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
MAX_RETRY_AFTER_SECONDS = 86_400.0
"""The longest wait a Retry-After header can ask for before we try again anyway."""
CARDS = {
    MessageKind.partner_card: MessageKind.partner_card,
    MessageKind.partner_notice: MessageKind.partner_card,
    MessageKind.review_card: MessageKind.review_card,
    MessageKind.desk_notice: MessageKind.review_card,
    MessageKind.evidence: MessageKind.review_card,
}
"""The card a message lives on or under (notices and evidence go in its thread)."""
DESK_SIDE = frozenset(kind for kind, card in CARDS.items() if card is MessageKind.review_card)
"""Messages that go to the desk channel: held while it is not known to be internal."""


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


class Undeliverable(Exception):
    """The entry can never be delivered (its registration or partner is gone)."""


@dataclass(slots=True)
class Snapshot:
    """What one batch shows, loaded in one transaction."""

    registrations: dict[int, Registration]
    partners: dict[int, Partner]
    cards: dict[tuple[MessageKind, int], MessageRef]
    findings: dict[int, FindingCounts] = field(default_factory=dict)
    """What each partner card's registration overlaps, counted."""
    found: dict[int, list[StoredFinding]] = field(default_factory=dict)
    """Each review card's findings, with the claims as they are now."""
    cases: dict[int, Case] = field(default_factory=dict)
    working_by: dict[int, tuple[str, ...]] = field(default_factory=dict)
    pages: dict[int, dict[int, MessageRef]] = field(default_factory=dict)
    """Evidence follow-up pages already posted: registration → page number → where."""


@dataclass(slots=True)
class Result:
    """How one entry went: delivered, to retry at a delay, or given up; plus what to record."""

    entry: OutboxEntry
    retry_in: float | None = None
    give_up: bool = False
    error: str = ""
    posted: dict[tuple[MessageKind, int], MessageRef] = field(default_factory=dict)
    launcher_ts: str | None = None
    follow_ups: list[OutboxMessage] = field(default_factory=list)
    pages: dict[tuple[int, int], MessageRef] = field(default_factory=dict)
    dropped_pages: dict[int, list[int]] = field(default_factory=dict)


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
        uow = self._deps.uow()
        async with uow:
            entries = await uow.outbox.claim(
                now=self._deps.clock(),
                lease=self._tuning.lease,
                limit=self._tuning.batch,
                worker=self._name,
            )
            await uow.commit()
        if not entries:
            return 0
        desk = await self._desk_hold(entries)
        held = [self._held(e) for e in entries if desk and e.message.kind in DESK_SIDE]
        sending = [e for e in entries if not desk or e.message.kind not in DESK_SIDE]
        snapshot = await self._load(sending)
        # return_exceptions: a cancelled worker still waits for every delivery in flight.
        outcomes = await asyncio.gather(
            *(self._attempt(entry, snapshot) for entry in sending), return_exceptions=True
        )
        await self._record([o for o in outcomes if isinstance(o, Result)] + held)
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

    def _held(self, entry: OutboxEntry) -> Result:
        """A desk-side message kept queued while the desk channel is shared: nothing is lost,
        it goes out once the channel is internal again."""
        channel = self._deps.config.desk.channel_id
        return Result(
            entry,
            retry_in=self._tuning.desk_hold_seconds,
            error=f"held: the desk channel {channel} is shared with another organisation",
        )

    async def _load(self, entries: list[OutboxEntry]) -> Snapshot:
        registration_ids = {e.message.registration_id for e in entries} - {None}
        uow = self._deps.uow()
        async with uow:
            registrations = await uow.registrations.get_many(
                [rid for rid in registration_ids if rid is not None]
            )
            partner_ids = {r.partner_id for r in registrations.values()}
            partner_ids |= {e.message.partner_id for e in entries if e.message.partner_id}
            partners = await uow.partners.get_many(partner_ids)
            cards = await uow.message_refs.get_many(
                [
                    (CARDS[e.message.kind], e.message.registration_id)
                    for e in entries
                    if e.message.registration_id is not None and e.message.kind in CARDS
                ]
            )
            # The partner's card only learns whether anything overlaps.
            findings = await uow.conflicts.finding_counts(
                [
                    e.message.registration_id
                    for e in entries
                    if e.message.registration_id is not None
                    and e.message.kind is MessageKind.partner_card
                ]
            )
            # The desk's card and evidence show every claim found, as it is now.
            desk_side = {
                e.message.registration_id
                for e in entries
                if e.message.registration_id in registrations
                and e.message.kind in (MessageKind.review_card, MessageKind.evidence)
            }
            found = await uow.findings.for_registrations(
                [rid for rid in desk_side if rid is not None]
            )
            noted = await uow.findings.with_working_notes(
                [
                    e.message.registration_id
                    for e in entries
                    if e.message.registration_id is not None
                    and e.message.kind is MessageKind.review_card
                ]
            )
            notes = {rid: tuple(await uow.findings.working_notes(rid)) for rid in sorted(noted)}
            working_by = {
                rid: tuple(dict.fromkeys(d.by_user_id for d in items))
                for rid, items in notes.items()
            }
            cases: dict[int, Case] = {}
            for entry in entries:
                rid = entry.message.registration_id
                if entry.message.kind is MessageKind.evidence and rid in registrations:
                    assert rid is not None
                    if rid not in notes:
                        notes[rid] = tuple(await uow.findings.working_notes(rid))
                    cases[rid] = Case(
                        registrations[rid],
                        tuple(found.get(rid, ())),
                        recommend(registrations[rid], found.get(rid, ()), now=self._deps.clock()),
                        notes[rid],
                    )
            cards.update(
                await uow.message_refs.get_many([(MessageKind.evidence, rid) for rid in cases])
            )
            pages = await uow.message_refs.evidence_pages(list(cases))
        return Snapshot(registrations, partners, cards, findings, found, cases, working_by, pages)

    async def _attempt(self, entry: OutboxEntry, snapshot: Snapshot) -> Result:
        result = Result(entry)
        try:
            await self._deliver(entry, snapshot, result)
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
            logger.exception("outbox entry %s (%s) failed", entry.id, entry.message.kind)
            result.retry_in, result.error = self._backoff(entry), f"error: {error!r}"
        return result

    def _backoff(self, entry: OutboxEntry) -> float:
        delay = self._tuning.first_backoff_seconds * 2.0**entry.attempts
        return float(min(delay, self._tuning.max_backoff_seconds))

    async def _record(self, results: list[Result]) -> None:
        now = self._deps.clock()
        delivered: list[int] = []
        uow = self._deps.uow()
        async with uow:
            await uow.message_refs.put_many({k: v for r in results for k, v in r.posted.items()})
            await uow.message_refs.put_evidence_pages(
                {k: v for r in results for k, v in r.pages.items()}
            )
            for result in results:
                for rid, numbers in result.dropped_pages.items():
                    await uow.message_refs.drop_evidence_pages(rid, numbers)
            # Queued with the record of the post that owes them: once per post, never twice.
            await uow.outbox.put([m for r in results for m in r.follow_ups], now=now)
            for result in results:
                entry = result.entry
                if result.launcher_ts is not None and entry.message.partner_id is not None:
                    partner = await uow.partners.get(entry.message.partner_id)
                    if partner is not None:
                        partner.launcher_ts = result.launcher_ts
                        await uow.partners.save(partner)
                if result.give_up:
                    logger.error("outbox entry %s given up: %s", entry.id, result.error)
                    await uow.outbox.give_up(entry.id, now=now, error=result.error[:500])
                elif result.retry_in is not None:
                    logger.info(
                        "outbox entry %s: %s; retry in %.1fs",
                        entry.id,
                        result.error,
                        result.retry_in,
                    )
                    await uow.outbox.retry_later(
                        entry.id,
                        at=now + timedelta(seconds=result.retry_in),
                        error=result.error[:500],
                    )
                else:
                    delivered.append(entry.id)
            await uow.outbox.delivered_many(delivered, now=now)
            await uow.commit()

    async def _deliver(self, entry: OutboxEntry, snapshot: Snapshot, result: Result) -> None:
        message = entry.message
        program = self._deps.config.program
        if message.kind is MessageKind.launcher:
            partner = snapshot.partners.get(message.partner_id or 0)
            if partner is None:
                raise Undeliverable("the partner is gone")
            launcher = build_launcher(partner)
            response = await self._client.chat_postMessage(
                channel=partner.channel_id, text=launcher.text, blocks=launcher.block_dicts()
            )
            result.launcher_ts = str(response["ts"])
            return
        registration = snapshot.registrations.get(message.registration_id or 0)
        if registration is None or registration.id is None:
            raise Undeliverable(f"{message.kind}: the registration is gone")
        partner = snapshot.partners.get(registration.partner_id)
        if partner is None:
            raise Undeliverable(f"{message.kind}: the partner is gone")
        if message.kind is MessageKind.direct_notice:
            await self._direct_notice(registration, partner, message.data)
            return
        if message.kind is MessageKind.evidence:
            await self._evidence(registration, partner, message, snapshot, result)
            return
        to_partner = message.kind in (MessageKind.partner_card, MessageKind.partner_notice)
        channel = partner.channel_id if to_partner else self._deps.config.desk.channel_id
        card_kind = CARDS[message.kind]
        card_ref = snapshot.cards.get((card_kind, registration.id))
        if message.kind is MessageKind.partner_card:
            counts = snapshot.findings.get(registration.id, FindingCounts())
            card = build_partner_card(
                registration,
                partner,
                program=program,
                overlap=counts.total > 0,
                privacy=self._deps.config.privacy,
            )
        elif message.kind is MessageKind.review_card:
            card = build_review_card(
                registration,
                partner,
                program=program,
                now=self._deps.clock(),
                host_team_id=await self._host_team(),
                findings=snapshot.found.get(registration.id, ()),
                working_by=snapshot.working_by.get(registration.id, ()),
            )
        else:
            if message.notice is None:
                raise Undeliverable("notice without a subject")
            notice = build_notice(
                registration,
                message.notice,
                audience="partner" if to_partner else "desk",
                program=program,
                data=message.data,
            )
            await self._client.chat_postMessage(
                channel=card_ref.channel_id if card_ref else channel,
                thread_ts=card_ref.ts if card_ref else None,
                text=notice.text,
                blocks=notice.block_dicts(),
            )
            return
        posted = await self._upsert(card_ref, channel, card)
        if posted is not None:
            result.posted[(card_kind, registration.id)] = posted

    async def _evidence(
        self,
        registration: Registration,
        partner: Partner,
        message: OutboxMessage,
        snapshot: Snapshot,
        result: Result,
    ) -> None:
        """The evidence in the review card's thread. The head is posted once and edited
        afterwards. Each follow-up page is queued as an entry of its own (same key, so in
        order, recorded with the post that owes it): every entry posts at most one message,
        so a retry never posts anything twice. Posted pages are remembered: when the head is
        laid out again (the partner resubmitted and the findings changed), they are edited to
        the new entries, missing ones are queued, and pages left over say so. An `EDIT_ONLY`
        message (a rival a settlement moved) edits what was posted and never posts."""
        assert registration.id is not None
        ever_posted = (MessageKind.evidence, registration.id) in snapshot.cards
        if message.data.get(EDIT_ONLY) and not ever_posted:
            return  # it never overlapped anything shown: there is no evidence to bring up to date
        case = snapshot.cases.get(registration.id)
        review = snapshot.cards.get((MessageKind.review_card, registration.id))
        if case is None or review is None:
            # The review card goes first (same key); without it there is no thread yet.
            raise Undeliverable("evidence: the review card was never posted")
        program, now = self._deps.config.program, self._deps.clock()
        page = message.data.get("page")
        if page is not None:
            first, _, last = page.partition("-")
            if not (first.isdigit() and last.isdigit()):
                raise Undeliverable(f"evidence: bad page {page!r}")
            owners = await self._owner_users(case)
            reply = build_evidence_page(
                case, int(first), int(last), program=program, now=now, owners=owners
            )
            if reply is not None:  # None: the findings changed since; nothing left to show
                response = await self._client.chat_postMessage(
                    channel=review.channel_id,
                    thread_ts=review.ts,
                    text=reply.text,
                    blocks=reply.block_dicts(),
                )
                number = message.data.get("n", "")
                if number.isdigit():
                    result.pages[(registration.id, int(number))] = MessageRef(
                        str(response["channel"]), str(response["ts"])
                    )
            return
        ref = snapshot.cards.get((MessageKind.evidence, registration.id))
        if not case.findings and ref is None:
            return  # never overlapped anything that was shown: nothing to say
        owners = await self._owner_users(case)
        laid_out = evidence_thread(
            case, partner_name=partner.name, program=program, now=now, owners=owners
        )
        head = laid_out.head
        if ref is not None:
            await self._client.chat_update(
                channel=ref.channel_id, ts=ref.ts, text=head.text, blocks=head.block_dicts()
            )
            posted = snapshot.pages.get(registration.id, {})
            await self._relayout_pages(
                case, laid_out.pages, posted, owners=owners, now=now, result=result
            )
            return
        response = await self._client.chat_postMessage(
            channel=review.channel_id,
            thread_ts=review.ts,
            text=head.text,
            blocks=head.block_dicts(),
        )
        result.posted[(MessageKind.evidence, registration.id)] = MessageRef(
            str(response["channel"]), str(response["ts"])
        )
        result.follow_ups = [
            _page_message(registration.id, number, entries)
            for number, entries in enumerate(laid_out.pages, start=1)
        ]

    async def _relayout_pages(
        self,
        case: Case,
        pages: tuple[tuple[int, int], ...],
        posted: dict[int, MessageRef],
        *,
        owners: dict[str, str],
        now: datetime,
        result: Result,
    ) -> None:
        """Bring the posted follow-up pages in line with a new layout of the evidence (laid
        out at `now`, with the owners it mentions)."""
        rid = case.registration.id
        assert rid is not None
        program = self._deps.config.program
        for number, (first, last) in enumerate(pages, start=1):
            where = posted.get(number)
            if where is None:
                result.follow_ups.append(_page_message(rid, number, (first, last)))
                continue
            reply = build_evidence_page(case, first, last, program=program, now=now, owners=owners)
            if reply is not None:
                await self._client.chat_update(
                    channel=where.channel_id,
                    ts=where.ts,
                    text=reply.text,
                    blocks=reply.block_dicts(),
                )
        left_over = sorted(set(posted) - set(range(1, len(pages) + 1)))
        gone = build_evidence_page_gone(case)
        for number in left_over:
            await self._client.chat_update(
                channel=posted[number].channel_id,
                ts=posted[number].ts,
                text=gone.text,
                blocks=gone.block_dicts(),
            )
        if left_over:
            result.dropped_pages[rid] = left_over

    async def _direct_notice(
        self, registration: Registration, partner: Partner, data: dict[str, str]
    ) -> None:
        """Tell a direct owner (or a rep working the customer) how the desk settled a conflict
        on their customer. An owner the CRM knows by e-mail only is looked up in Slack first,
        and not told twice if that is someone the resolution tells anyway (`told`)."""
        user = await self._owners.resolve_owner(
            data.get("owner_slack_id") or None, data.get("owner_email") or None
        )
        if user is None:
            logger.info(
                "no Slack user for direct owner %s; resolution of %s not sent",
                data.get("owner_email"),
                registration.id,
            )
            return
        if user in data.get("told", "").split(","):
            logger.info("direct owner %s is told of %s already", user, registration.id)
            return
        message = build_direct_notice(registration, partner, data)
        await self._client.chat_postMessage(
            channel=user, text=message.text, blocks=message.block_dicts()
        )

    async def _owner_users(self, case: Case) -> dict[str, str]:
        """The Slack users of the direct owners the CRM names by e-mail only, to mention."""
        emails = {
            f.claim.owner_email
            for f in case.findings
            if f.claim.owner_email and not f.claim.owner_slack_id
        }
        found = {email: await self._owners.resolve_owner(None, email) for email in sorted(emails)}
        return {email: user for email, user in found.items() if user is not None}

    async def _host_team(self) -> str | None:
        """Our own workspace (from auth.test, once), so internal submitters show no team."""
        if self._host_team_id is None:
            try:
                self._host_team_id = str((await self._client.auth_test())["team_id"])
            except Exception:
                logger.warning("auth.test failed; review cards show every submitter's team")
                return None
        return self._host_team_id

    async def _upsert(
        self, ref: MessageRef | None, channel: str, card: Message
    ) -> MessageRef | None:
        """Post the card the first time (returning where), edit it in place afterwards."""
        if ref is not None:
            await self._client.chat_update(
                channel=ref.channel_id, ts=ref.ts, text=card.text, blocks=card.block_dicts()
            )
            return None
        response = await self._client.chat_postMessage(
            channel=channel, text=card.text, blocks=card.block_dicts()
        )
        return MessageRef(str(response["channel"]), str(response["ts"]))


def _page_message(registration_id: int, number: int, entries: tuple[int, int]) -> OutboxMessage:
    """The outbox entry posting follow-up page `number` (entries [first, last))."""
    first, last = entries
    return OutboxMessage(
        MessageKind.evidence,
        registration_id=registration_id,
        data={"page": f"{first}-{last}", "n": str(number)},
    )


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
