"""Internal entry points: `/dibs` (form, help, list, check, show, setup), the global
shortcut, and the setup form."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers import Audience
from bot.bootstrap import Deps
from bot.errors import Reply, reporting
from bot.handlers.edge import (
    Click,
    Errors,
    Form,
    FormAnswer,
    Refusals,
    Replace,
    on_click,
    on_form,
)
from bot.identity import actor_from_command, host_team_id
from bot.ids import Block, Callback, Command
from bot.views.blocks import build_message_modal
from bot.views.checks import USAGE, build_check_result, parse_check_text
from bot.views.common import FormContext, escape
from bot.views.help import build_help, build_pending_list
from bot.views.partner_views import build_setup_modal, parse_setup_submission
from bot.views.registration_modal import build_registration_modal
from bot.views.show import USAGE as SHOW_USAGE
from bot.views.show import build_show
from domain.actor import Caller
from domain.errors import NotAllowed
from domain.policy import can_administer
from domain.registration import parse_reference
from domain.services import LinkPartner
from domain.services.partners import ADMINS_ONLY

logger = logging.getLogger(__name__)

EXTERNAL_REFUSAL = (
    "`/dibs` is for the vendor's team. Partners register with the *Register a deal* button "
    "in their shared channel."
)
DESK_SETUP = "This is the deal-desk channel. Run `/dibs setup` in the partner's shared channel."


def register(app: AsyncApp) -> None:
    app.command(Command.dibs)(dibs_command)
    on_click(
        app, [Callback.register_shortcut], register_shortcut, audience=Audience.desk, shortcut=True
    )
    on_form(
        app,
        Callback.setup_submit,
        submit_setup,
        refusals=Refusals(Audience.desk, block=Block.setup_name, fields={"code": Block.setup_code}),
        after=link_setup,
    )


@dataclass(frozen=True, slots=True)
class Slash:
    """One `/dibs` run: what was typed after the subcommand, and how to answer."""

    caller: Caller
    rest: str
    command: dict[str, Any]
    ack: AsyncAck
    respond: AsyncRespond
    client: AsyncWebClient
    deps: Deps

    @property
    def reply(self) -> Reply:
        return Reply(self.client, self.command, self.respond)

    async def privately(self, text: str, blocks: Any = None) -> None:
        """Answer in the ack, seen only by the person who typed it."""
        await self.ack(text=text, blocks=blocks, response_type="ephemeral")


async def dibs_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    """`/dibs [subcommand …]`, for the vendor's own team only."""
    caller = Caller(actor_from_command(command), host_team_id(context), command.get("channel_id"))
    if not caller.internal:
        await ack(text=EXTERNAL_REFUSAL, response_type="ephemeral")
        return
    text = (command.get("text") or "").strip()
    sub, _, rest = text.partition(" ")
    run = SUBCOMMANDS.get(sub.lower())
    slash = Slash(caller, rest.strip(), command, ack, respond, client, deps)
    if run is None:
        await slash.privately(f"I don't know `/dibs {sub.lower()[:30]}`. Try `/dibs help`.")
        return
    await run(slash)


async def _help(slash: Slash) -> None:
    shown = build_help()
    await slash.privately(shown.text, shown.blocks)


async def _list(slash: Slash) -> None:
    await slash.ack()
    async with reporting(slash.reply, "/dibs list", audience=Audience.desk):
        pending = await slash.deps.services.decisions.queue()
        listing = build_pending_list(
            pending, program=slash.deps.config.program, now=slash.deps.clock()
        )
        await slash.respond(text=listing.text, blocks=listing.blocks, response_type="ephemeral")


async def _check(slash: Slash) -> None:
    ref = parse_check_text(slash.rest)
    if ref is None:
        await slash.privately(USAGE)
        return
    await slash.ack()
    async with reporting(slash.reply, "/dibs check", audience=Audience.desk):
        check = await slash.deps.services.checks.company(ref, slash.caller)
        result = build_check_result(check)
        await slash.respond(text=result.text, blocks=result.blocks, response_type="ephemeral")


async def _show(slash: Slash) -> None:
    """`/dibs show REF`: the registration a reference names, privately."""
    reference = parse_reference(slash.rest)
    if reference is None:
        typed = slash.rest
        wrong = f"`{escape(typed[:40])}` is not a registration reference. " if typed else ""
        await slash.privately(wrong + SHOW_USAGE)
        return
    await slash.ack()
    async with reporting(slash.reply, "/dibs show", audience=Audience.desk):
        found = await slash.deps.services.registrations.find(reference)
        shown = build_show(found, now=slash.deps.clock())
        await slash.respond(text=shown.text, blocks=shown.blocks, response_type="ephemeral")


async def _setup(slash: Slash) -> None:
    channel_id = slash.command["channel_id"]
    if not can_administer(slash.caller, slash.deps.config.desk):
        await slash.privately(ADMINS_ONLY)
        return
    if channel_id == slash.deps.config.desk.channel_id:
        await slash.privately(DESK_SETUP)
        return
    await slash.ack()
    async with reporting(slash.reply, "/dibs setup", audience=Audience.desk):
        existing = await slash.deps.services.partners.for_channel(channel_id)
        view = build_setup_modal(channel_id, existing=existing)
        await slash.client.views_open(trigger_id=slash.command["trigger_id"], view=view)


async def _register(slash: Slash) -> None:
    await slash.ack()
    async with reporting(slash.reply, "/dibs", audience=Audience.desk):
        await _open_form_with_picker(slash.client, slash.command["trigger_id"], slash.deps)


SUBCOMMANDS: dict[str, Callable[[Slash], Awaitable[None]]] = {
    "": _register,
    "register": _register,
    "help": _help,
    "list": _list,
    "check": _check,
    "show": _show,
    "setup": _setup,
}


async def register_shortcut(click: Click) -> None:
    """The global shortcut: internal staff register for a partner they pick."""
    if not click.caller.internal:
        raise NotAllowed(EXTERNAL_REFUSAL)
    await _open_form_with_picker(click.client, click.trigger_id, click.deps)


async def _open_form_with_picker(client: AsyncWebClient, trigger_id: str, deps: Deps) -> None:
    partners = await deps.services.partners.all()
    if not partners:
        view = build_message_modal(
            "Register a deal",
            "No partner is linked yet. Run `/dibs setup` in a partner's shared channel first.",
        )
    else:
        view = build_registration_modal(
            program=deps.config.program, context=FormContext(), partners=partners
        )
    await client.views_open(trigger_id=trigger_id, view=view)


async def submit_setup(form: Form) -> FormAnswer:
    """Check the form (an admin, a code nobody else holds) before the ack; link after it."""
    parsed = parse_setup_submission(form.values)
    if isinstance(parsed, dict):
        return Errors(parsed)
    if not can_administer(form.caller, form.deps.config.desk):
        return Replace(build_message_modal("Dibs", ADMINS_ONLY))
    if parsed.code is not None:
        await form.deps.services.partners.check_code(parsed.code, channel_id=_channel(form))
    return None


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


def _channel(form: Form) -> str:
    return str(json.loads(form.metadata or "{}").get("channel_id", ""))


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
