"""The setup form: an admin links a shared channel to its partner (`/dibs setup` opens it)."""

from __future__ import annotations

import json
import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.answers import Audience
from bot.errors import Reply, reporting
from bot.handlers.edge import Errors, Form, FormAnswer, Listeners, Refusals, Replace
from bot.ids import Block, Callback
from bot.views.blocks import build_message_modal
from bot.views.common import escape
from bot.views.partner_views import parse_setup_submission
from domain.errors import NotAllowed
from domain.policy import can_administer
from domain.services import LinkPartner
from domain.slack_ids import SlackChannelId, SlackTeamId

logger = logging.getLogger(__name__)


listeners = Listeners()


async def link_setup(form: Form) -> None:
    """Link the channel's partner, learning its Slack team from the channel's connections,
    and tell the admin privately in the channel."""
    parsed = parse_setup_submission(form.values)
    if isinstance(parsed, dict) or not can_administer(form.caller, form.deps.config.desk):
        return
    channel_id = _channel(form)
    reply = Reply(form.client, {"user": form.body.get("user"), "channel": {"id": channel_id}}, None)
    async with reporting(reply, "/dibs setup", audience=Audience.desk):
        team_id = await _partner_team(form.client, channel_id, host=form.caller.host_team_id)
        cmd = LinkPartner(
            name=parsed.name,
            tier=parsed.tier,
            channel_id=channel_id,
            slack_team_id=team_id,
            code=parsed.code,
        )
        partner = await form.deps.services.partners.link(cmd, form.caller)
        await form.client.chat_postEphemeral(
            channel=channel_id,
            user=form.caller.actor.user_id,
            text=f"Linked this channel to {escape(partner.name)} ({escape(partner.tier)}); "
            f"its registrations are numbered {partner.code}-0001, {partner.code}-0002, … "
            "The Register a deal launcher is on its way.",
        )


@listeners.form(
    Callback.setup_submit,
    refusals=Refusals(Audience.desk, block=Block.setup_name, fields={"code": Block.setup_code}),
    after=link_setup,
)
async def submit_setup(form: Form) -> FormAnswer:
    """Check the form (an admin, a code nobody else holds) before the ack; link after it."""
    parsed = parse_setup_submission(form.values)
    if isinstance(parsed, dict):
        return Errors(parsed)
    if not can_administer(form.caller, form.deps.config.desk):
        return Replace(build_message_modal("Dibs", NotAllowed.ADMINS_LINK))
    if parsed.code is not None:
        await form.deps.services.partners.check_code(parsed.code, channel_id=_channel(form))
    return None


def _channel(form: Form) -> SlackChannelId:
    return SlackChannelId(str(json.loads(form.carried or "{}").get("channel_id", "")))


async def _partner_team(
    client: AsyncWebClient, channel_id: SlackChannelId, *, host: SlackTeamId
) -> SlackTeamId | None:
    """The one external team connected to the channel, if Slack tells us exactly one."""
    try:
        info = await client.conversations_info(channel=channel_id)
    except Exception:
        logger.warning("conversations.info failed for %s; linking by channel only", channel_id)
        return None
    channel = info.get("channel") or {}
    teams = [t for t in channel.get("connected_team_ids") or [] if t != host]
    return SlackTeamId(teams[0]) if len(teams) == 1 else None
