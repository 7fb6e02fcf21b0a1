"""Deliverers of the messages posted once and edited in place after: the launcher in a
partner channel, the partner's status card, the desk's review card."""

from __future__ import annotations

from bot.outbox.courier import Courier, Undeliverable
from bot.views.common import Message
from bot.views.launcher import build_launcher
from bot.views.partner_card import build_partner_card
from bot.views.review_card import build_review_card
from domain.conflicts import FindingCounts
from domain.deliveries import Delivery
from domain.messages import Launcher, PartnerCard, ReviewCard


async def deliver_launcher(message: Launcher, courier: Courier, result: Delivery) -> None:
    """Post the "Register a deal" message; the partner remembers where."""
    partner = courier.snapshot.partners.get(message.partner_id)
    if partner is None:
        raise Undeliverable("the partner is gone")
    posted = await courier.post(partner.channel_id, build_launcher(partner))
    result.launched = (message.partner_id, posted.ts)


async def deliver_partner_card(message: PartnerCard, courier: Courier, result: Delivery) -> None:
    """The status card in the partner channel; it only learns whether anything overlaps."""
    registration, partner = courier.subject(message.registration_id, message.kind)
    counts = courier.snapshot.counts.get(message.registration_id, FindingCounts())
    card = build_partner_card(
        registration,
        partner,
        program=courier.config.program,
        overlap=counts.total > 0,
        privacy=courier.config.privacy,
    )
    await _upsert(message, card, channel=partner.channel_id, courier=courier, result=result)


async def deliver_review_card(message: ReviewCard, courier: Courier, result: Delivery) -> None:
    """The review card in the desk channel: every claim found as it is now, and who left a
    working note."""
    rid = message.registration_id
    registration, partner = courier.subject(rid, message.kind)
    working = courier.snapshot.working.get(rid, ())
    card = build_review_card(
        registration,
        partner,
        program=courier.config.program,
        now=courier.clock(),
        host_team_id=await courier.host_team(),
        findings=courier.snapshot.findings.get(rid, ()),
        working_by=tuple(dict.fromkeys(note.by_user_id for note in working)),
    )
    channel = courier.config.desk.channel_id
    await _upsert(message, card, channel=channel, courier=courier, result=result)


async def _upsert(
    message: PartnerCard | ReviewCard,
    card: Message,
    *,
    channel: str,
    courier: Courier,
    result: Delivery,
) -> None:
    """Post the card the first time (recording where), edit it in place afterwards."""
    ref = courier.card(message.kind, message.registration_id)
    if ref is not None:
        await courier.edit(ref, card)
    else:
        posted = await courier.post(channel, card)
        result.posted[(message.kind, message.registration_id)] = posted
