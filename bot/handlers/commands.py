"""Internal entry points: `/dibs` (form, help, list, check, show, setup), the global
shortcut, and the setup form."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers import Audience
from bot.bootstrap import Deps
from bot.errors import Reply, reporting
from bot.handlers.edge import Click, Listeners
from bot.identity import actor_from_command, channel_of, host_team_id
from bot.ids import Callback, Command
from bot.views.blocks import build_message_modal
from bot.views.checks import USAGE, build_check_result, parse_check_text
from bot.views.common import FormContext, escape
from bot.views.help import build_help, build_pending_list
from bot.views.partner_views import build_setup_modal
from bot.views.registration_modal import build_registration_modal
from bot.views.show import USAGE as SHOW_USAGE
from bot.views.show import build_show
from domain.actor import Caller
from domain.errors import NotAllowed
from domain.policy import can_administer
from domain.references import parse_reference

logger = logging.getLogger(__name__)

EXTERNAL_REFUSAL = (
    "`/dibs` is for the vendor's team. Partners register with the *Register a deal* button "
    "in their shared channel."
)
DESK_SETUP = "This is the deal-desk channel. Run `/dibs setup` in the partner's shared channel."


listeners = Listeners()


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


@listeners.command(Command.dibs)
async def dibs_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    """`/dibs [subcommand …]`, for the vendor's own team only."""
    channel = channel_of(command.get("channel_id"))
    caller = Caller(actor_from_command(command), host_team_id(context), channel)
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
        await slash.privately(NotAllowed.ADMINS_LINK)
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


@listeners.click(Callback.register_shortcut, audience=Audience.desk, shortcut=True)
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
