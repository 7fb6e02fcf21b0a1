"""Partners: linking an organisation to its shared channel, its code, and who speaks for it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.actor import Caller
from domain.errors import InvalidInput, NotAllowed
from domain.messages import Launcher
from domain.partner import Partner, check_code, derive_code
from domain.policy import can_administer
from domain.ports import UnitOfWork
from domain.services._shared import acting_partner
from domain.services.context import ServiceContext
from domain.slack_ids import SlackChannelId, SlackEnterpriseId, SlackTeamId, SlackUserId

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LinkPartner:
    name: str
    tier: str
    channel_id: SlackChannelId
    slack_team_id: SlackTeamId | None = None
    slack_enterprise_id: SlackEnterpriseId | None = None
    manager_user_id: SlackUserId | None = None
    code: str | None = None
    """The partner's short code for its references (`NW`); None: a new partner gets one
    derived from its name, a partner already linked keeps its own."""


class Partners:
    """Partner organisations and their shared channels."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def link(self, cmd: LinkPartner, caller: Caller | None = None) -> Partner:
        """Link a partner to its shared channel (or update the link) and queue the launcher
        there. From Slack only admins may (`caller`); the CLI's operator is trusted (None).
        Never the desk channel: partners would read the review cards posted there. A new
        `code` numbers the partner's future registrations only."""
        if caller is not None and not can_administer(caller, self._ctx.desk):
            raise NotAllowed(NotAllowed.ADMINS_LINK)
        if cmd.channel_id == self._ctx.desk.channel_id:
            raise NotAllowed(NotAllowed.DESK_NOT_A_PARTNER)
        name, tier = cmd.name.strip(), cmd.tier.strip()
        if not name:
            raise InvalidInput("Give the partner a name.", field="name")
        if not tier:
            raise InvalidInput("Give the partner a tier.", field="tier")
        code = None if cmd.code is None else check_code(cmd.code)
        async with self._ctx.uow() as uow:
            partner = await uow.partners.get_by_channel(cmd.channel_id)
            code = await _choose_code(uow, partner, name=name, code=code)
            if partner is None:
                partner = Partner(
                    id=None,
                    name=name,
                    tier=tier,
                    channel_id=cmd.channel_id,
                    slack_team_id=cmd.slack_team_id,
                    slack_enterprise_id=cmd.slack_enterprise_id,
                    manager_user_id=cmd.manager_user_id,
                    code=code,
                )
                await uow.partners.add(partner)
            else:
                partner.code = code
                partner.name, partner.tier = name, tier
                partner.slack_team_id = cmd.slack_team_id or partner.slack_team_id
                partner.slack_enterprise_id = cmd.slack_enterprise_id or partner.slack_enterprise_id
                partner.manager_user_id = cmd.manager_user_id or partner.manager_user_id
                await uow.partners.save(partner)
            assert partner.id is not None
            launcher = Launcher(partner.id)
            await uow.outbox.put([launcher], now=self._ctx.clock())
            await uow.commit()
        logger.info("partner %s linked to channel %s", partner.id, partner.channel_id)
        return partner

    async def check_code(self, code: str, *, channel_id: str) -> str:
        """The code as it will be stored, or InvalidInput when it is malformed or another
        partner (not the one linked to `channel_id`) holds it: a form says so by the field."""
        checked = check_code(code)
        async with self._ctx.uow() as uow:
            partner = await uow.partners.get_by_channel(channel_id)
            await _choose_code(uow, partner, name="", code=checked)
        return checked

    async def all(self) -> list[Partner]:
        """Every partner, by name."""
        async with self._ctx.uow() as uow:
            return await uow.partners.list_all()

    async def for_channel(self, channel_id: str) -> Partner | None:
        """The partner linked to a shared channel, if any."""
        async with self._ctx.uow() as uow:
            return await uow.partners.get_by_channel(channel_id)

    async def acting(self, caller: Caller) -> Partner:
        """Whom the caller speaks for in its channel (UnknownPartner if nobody is linked)."""
        async with self._ctx.uow() as uow:
            return await acting_partner(uow, caller)


async def _choose_code(
    uow: UnitOfWork, partner: Partner | None, *, name: str, code: str | None
) -> str:
    """`code` if no other partner holds it, now or in its registrations' references (a code
    is never reused: references stay unique); else the partner's own code, else one derived
    from `name` that nobody holds."""
    others = {
        other.code: other
        for other in await uow.partners.list_all()
        if other.code and (partner is None or other.id != partner.id)
    }
    if code is not None:
        holder = others.get(code)
        if holder is None and (earlier := await _used_by_other(uow, code, partner)):
            holder = await uow.partners.get(earlier)
        if holder is not None:
            raise InvalidInput(
                f"The code {code} is taken by {holder.name}; pick another.", field="code"
            )
        return code
    if partner is not None and partner.code:
        return partner.code
    taken = set(others)
    while await _used_by_other(uow, candidate := derive_code(name, taken), partner):
        taken.add(candidate)
    return candidate


async def _used_by_other(uow: UnitOfWork, code: str, partner: Partner | None) -> int | None:
    """The other partner whose registrations' references were made with `code`, if any."""
    user = await uow.registrations.partner_numbered_with(code)
    return None if user is None or (partner is not None and user == partner.id) else user
