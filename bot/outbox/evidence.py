"""Deliverers of the evidence in the review card's thread: its head, and its follow-up pages.

The head is posted once and edited afterwards. Each follow-up page is queued as an entry of
its own (same key, so in order, recorded with the post that owes it): every entry posts at
most one message, so a retry never posts anything twice. Posted pages are remembered: when
the head is laid out again (the partner resubmitted and the findings changed), they are
edited to the new entries, missing ones are queued, and pages left over say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.outbox.courier import Courier, Undeliverable
from bot.views.evidence import build_evidence_page, build_evidence_page_gone, evidence_thread
from domain.cases import Case
from domain.deliveries import Delivery, MessageRef
from domain.messages import EvidenceHead, EvidencePage, MessageKind


async def deliver_evidence(message: EvidenceHead, courier: Courier, result: Delivery) -> None:
    """Post the head under the review card and queue its pages, or edit it and its pages to
    the case as it is now. An `edit_only` message (a rival a resolution moved) edits what was
    posted and never posts."""
    rid = message.registration_id
    registration, partner = courier.subject(rid, message.kind)
    ref = courier.snapshot.refs.get((MessageKind.evidence, rid))
    if message.edit_only and ref is None:
        return  # it never overlapped anything shown: there is no evidence to bring up to date
    review = _review_card(message.kind, rid, courier)
    case = courier.case(registration)
    if not case.findings and ref is None:
        return  # never overlapped anything that was shown: nothing to say
    now = courier.clock()
    owners = await courier.owner_users(case)
    laid_out = evidence_thread(
        case, partner_name=partner.name, program=courier.config.program, now=now, owners=owners
    )
    if ref is not None:
        await courier.edit(ref, laid_out.head)
        posted = courier.snapshot.pages.get(rid, {})
        await _relayout_pages(
            case, laid_out.pages, posted, courier=courier, result=result, now=now, owners=owners
        )
        return
    result.posted[(MessageKind.evidence, rid)] = await courier.post(
        review.channel_id, laid_out.head, thread=review
    )
    result.follow_ups = [
        EvidencePage(rid, number, first, last)
        for number, (first, last) in enumerate(laid_out.pages, start=1)
    ]


async def deliver_evidence_page(message: EvidencePage, courier: Courier, result: Delivery) -> None:
    """Post follow-up page `number` under the review card, remembering where; nothing when
    the findings changed since and it has nothing left to show."""
    rid = message.registration_id
    registration, _partner = courier.subject(rid, message.kind)
    review = _review_card(message.kind, rid, courier)
    case = courier.case(registration)
    owners = await courier.owner_users(case)
    reply = build_evidence_page(
        case,
        message.first,
        message.last,
        program=courier.config.program,
        now=courier.clock(),
        owners=owners,
    )
    if reply is not None:
        posted = await courier.post(review.channel_id, reply, thread=review)
        result.pages[(rid, message.number)] = posted


def _review_card(kind: MessageKind, registration_id: int, courier: Courier) -> MessageRef:
    review = courier.card(kind, registration_id)
    if review is None:
        # The review card goes first (same key); without it there is no thread yet.
        raise Undeliverable("evidence: the review card was never posted")
    return review


async def _relayout_pages(
    case: Case,
    pages: tuple[tuple[int, int], ...],
    posted: Mapping[int, MessageRef],
    *,
    courier: Courier,
    result: Delivery,
    now: datetime,
    owners: dict[str, str],
) -> None:
    """Bring the posted follow-up pages in line with a new layout of the evidence (laid out
    at `now`, with the owners it mentions)."""
    rid = case.registration.id
    assert rid is not None
    program = courier.config.program
    for number, (first, last) in enumerate(pages, start=1):
        where = posted.get(number)
        if where is None:
            result.follow_ups.append(EvidencePage(rid, number, first, last))
            continue
        reply = build_evidence_page(case, first, last, program=program, now=now, owners=owners)
        if reply is not None:
            await courier.edit(where, reply)
    left_over = sorted(set(posted) - set(range(1, len(pages) + 1)))
    gone = build_evidence_page_gone(case)
    for number in left_over:
        await courier.edit(posted[number], gone)
    if left_over:
        result.dropped_pages[rid] = left_over
