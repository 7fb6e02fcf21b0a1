"""Internal entry points: `/dibs` (form, help, list, check, show, setup) and the global
shortcut."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.errors import Reply, reporting
from bot.handlers.context import caller, reply_for
from bot.identity import actor_from_command, host_team_id
from bot.ids import Block, Callback, Command
from bot.views.checks import USAGE, build_check_result, parse_check_text
from bot.views.common import FormContext, escape
from bot.views.help import build_help, build_pending_list
from bot.views.partner_views import build_setup_modal, parse_setup_submission
from bot.views.registration_modal import build_message_modal, build_registration_modal
from bot.views.show import USAGE as SHOW_USAGE
from bot.views.show import build_show
from domain.checks import check_company
from domain.errors import InvalidInput, NotAllowed
from domain.policy import can_administer, is_internal
from domain.registration import parse_reference
from domain.services import (
    LinkPartner,
    check_partner_code,
    find_registration,
    link_partner,
    list_partners,
    open_registrations,
    partner_for_channel,
)

logger = logging.getLogger(__name__)

EXTERNAL_REFUSAL = (
    "`/dibs` is for the vendor's team. Partners register with the *Register a deal* button "
    "in their shared channel."
)

ADMIN_ONLY = "Only Dibs admins can link a partner channel."


def register(app: AsyncApp) -> None:
    app.command(Command.dibs)(dibs_command)
    app.shortcut(Callback.register_shortcut)(register_shortcut)
    app.view(Callback.setup_submit)(submit_setup)


async def dibs_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    actor = actor_from_command(command)
    host = host_team_id(context)
    if not is_internal(actor, host_team_id=host):
        await ack(text=EXTERNAL_REFUSAL, response_type="ephemeral")
        return
    words = (command.get("text") or "").split()
    sub = words[0].lower() if words else ""
    reply = reply_for(client, command, respond)
    if sub == "help":
        help_message = build_help()
        await ack(text=help_message.text, blocks=help_message.blocks, response_type="ephemeral")
    elif sub == "list":
        await ack()
        async with reporting(reply, "/dibs list"):
            pending = await open_registrations(uow=deps.uow())
            listing = build_pending_list(pending, program=deps.config.program, now=deps.clock())
            await respond(text=listing.text, blocks=listing.blocks, response_type="ephemeral")
    elif sub == "check":
        ref = parse_check_text((command.get("text") or "").strip()[len(words[0]) :])
        if ref is None:
            await ack(text=USAGE, response_type="ephemeral")
            return
        await ack()
        async with reporting(reply, "/dibs check"):
            check = await check_company(
                ref, uow=deps.uow(), rules=deps.conflict_rules, now=deps.clock()
            )
            result = build_check_result(check)
            await respond(text=result.text, blocks=result.blocks, response_type="ephemeral")
    elif sub == "show":
        await _show(" ".join(words[1:]), ack=ack, respond=respond, reply=reply, deps=deps)
    elif sub == "setup":
        channel_id = command["channel_id"]
        if not can_administer(actor, desk=deps.config.desk, host_team_id=host):
            await ack(
                text="Only Dibs admins can link a partner channel.", response_type="ephemeral"
            )
            return
        if channel_id == deps.config.desk.channel_id:
            await ack(
                text="This is the deal-desk channel. Run `/dibs setup` in the partner's "
                "shared channel.",
                response_type="ephemeral",
            )
            return
        await ack()
        async with reporting(reply, "/dibs setup"):
            existing = await partner_for_channel(channel_id, uow=deps.uow())
            view = build_setup_modal(channel_id, existing=existing)
            await client.views_open(trigger_id=command["trigger_id"], view=view)
    elif sub in ("", "register"):
        await ack()
        async with reporting(reply, "/dibs"):
            await _open_form_with_picker(client, command["trigger_id"], deps)
    else:
        await ack(
            text=f"I don't know `/dibs {sub[:30]}`. Try `/dibs help`.", response_type="ephemeral"
        )


async def _show(
    typed: str, *, ack: AsyncAck, respond: AsyncRespond, reply: Reply, deps: Deps
) -> None:
    """`/dibs show REF`: the registration a reference names, privately."""
    reference = parse_reference(typed)
    if reference is None:
        wrong = f"`{escape(typed[:40])}` is not a registration reference. " if typed else ""
        await ack(text=wrong + SHOW_USAGE, response_type="ephemeral")
        return
    await ack()
    async with reporting(reply, "/dibs show"):
        found = await find_registration(reference, uow=deps.uow())
        shown = build_show(found, now=deps.clock())
        await respond(text=shown.text, blocks=shown.blocks, response_type="ephemeral")


async def register_shortcut(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    """The global shortcut: internal staff register for a partner they pick."""
    await ack()
    who = caller(body, context)
    async with reporting(reply_for(client, body), "register shortcut"):
        if not who.internal:
            raise NotAllowed(EXTERNAL_REFUSAL)
        await _open_form_with_picker(client, body["trigger_id"], deps)


async def _open_form_with_picker(client: AsyncWebClient, trigger_id: str, deps: Deps) -> None:
    partners = await list_partners(uow=deps.uow())
    if not partners:
        view = build_message_modal(
            "Register a deal",
            "No partner is linked yet. Run `/dibs setup` in a partner's shared channel first.",
        )
    else:
        view = build_registration_modal(
            program=deps.config.program,
            context=FormContext(),
            partners=partners,
        )
    await client.views_open(trigger_id=trigger_id, view=view)


async def submit_setup(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    deps: Deps,
) -> None:
    """Link the channel's partner; learn its Slack team from the channel's connections."""
    parsed = parse_setup_submission(view["state"]["values"])
    if isinstance(parsed, dict):
        await ack(response_action="errors", errors=parsed)
        return
    who = caller(body, context)
    if not can_administer(who.actor, desk=deps.config.desk, host_team_id=who.host_team_id):
        await ack(
            response_action="update",
            view=build_message_modal("Dibs", ADMIN_ONLY),
        )
        return
    channel_id = str(_metadata_channel(view))
    if parsed.code is not None:
        try:
            await check_partner_code(parsed.code, channel_id=channel_id, uow=deps.uow())
        except InvalidInput as error:
            await ack(response_action="errors", errors={Block.setup_code: error.message})
            return
    await ack()
    reply_body = {"user": body.get("user"), "channel": {"id": channel_id}}
    async with reporting(reply_for(client, reply_body), "/dibs setup"):
        team_id = await _partner_team(client, channel_id, host=who.host_team_id)
        partner = await link_partner(
            LinkPartner(
                name=parsed.name,
                tier=parsed.tier,
                channel_id=channel_id,
                slack_team_id=team_id,
                code=parsed.code,
            ),
            uow=deps.uow(),
            now=deps.clock(),
            desk_channel_id=deps.config.desk.channel_id,
        )
        deps.kick_outbox()
        await client.chat_postEphemeral(
            channel=channel_id,
            user=who.actor.user_id,
            text=f"Linked this channel to {escape(partner.name)} ({escape(partner.tier)}); "
            f"its registrations are numbered {partner.code}-0001, {partner.code}-0002, … "
            "The Register a deal launcher is on its way.",
        )


def _metadata_channel(view: dict[str, Any]) -> str:
    return str(json.loads(view.get("private_metadata") or "{}").get("channel_id", ""))


async def _partner_team(client: AsyncWebClient, channel_id: str, *, host: str) -> str | None:
    """The one external team connected to the channel, if Slack tells us exactly one."""
    try:
        info = await client.conversations_info(channel=channel_id)
    except Exception:
        logger.warning("conversations.info failed for %s; linking by channel only", channel_id)
        return None
    channel = info.get("channel") or {}
    teams = [t for t in channel.get("connected_team_ids") or [] if t != host]
    return teams[0] if len(teams) == 1 else None
