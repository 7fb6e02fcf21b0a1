"""Deliverers of the replies in a card's thread (the partner's, the desk's) and of the direct
messages to the direct team."""

from __future__ import annotations

import logging

from bot.outbox.courier import Courier
from bot.views.direct_notices import build_direct_notice
from bot.views.notices import build_notice
from domain.deliveries import Delivery
from domain.messages import DeskNotice, DirectNotice, PartnerNotice

logger = logging.getLogger(__name__)


async def deliver_partner_notice(message: PartnerNotice, courier: Courier, _: Delivery) -> None:
    """A reply under the partner card, in neutral words (what the partner still holds)."""
    registration, partner = courier.subject(message.registration_id, message.kind)
    reply = build_notice(
        registration,
        message.notice,
        audience="partner",
        program=courier.config.program,
        still=message.still,
    )
    card = courier.card(message.kind, message.registration_id)
    await courier.post(partner.channel_id, reply, thread=card)


async def deliver_desk_notice(message: DeskNotice, courier: Courier, _: Delivery) -> None:
    """A reply under the review card (a resolution's reason and rule, a working note)."""
    registration, _partner = courier.subject(message.registration_id, message.kind)
    reply = build_notice(
        registration,
        message.notice,
        audience="desk",
        program=courier.config.program,
        resolution=message.resolution,
        working=message.working,
    )
    card = courier.card(message.kind, message.registration_id)
    await courier.post(courier.config.desk.channel_id, reply, thread=card)


async def deliver_direct_notice(message: DirectNotice, courier: Courier, _: Delivery) -> None:
    """Tell a direct owner (or a rep working the customer) how the desk resolved a conflict
    on their customer. An owner the CRM knows by e-mail only is looked up in Slack first,
    and not told twice if that is someone the resolution tells anyway (`told`)."""
    registration, partner = courier.subject(message.registration_id, message.kind)
    user = await courier.owners.resolve_owner(message.user, message.email)
    if user is None:
        logger.info(
            "no Slack user for direct owner %s; resolution of %s not sent",
            message.email,
            registration.id,
        )
        return
    if user in message.told:
        logger.info("direct owner %s is told of %s already", user, registration.id)
        return
    await courier.post(user, build_direct_notice(registration, partner, message))
