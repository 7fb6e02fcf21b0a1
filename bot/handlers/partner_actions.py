"""What partners do from their channel besides registering: withdraw, answer, look up."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import Deps
from bot.errors import reporting
from bot.handlers.context import caller, channel_of, reply_for
from bot.ids import Action
from bot.views.common import FormContext, RegistrationRef
from bot.views.partner_views import build_my_registrations_modal
from bot.views.registration_modal import build_message_modal, build_registration_modal
from domain.errors import DomainError
from domain.services import (
    Withdraw,
    acting_partner,
    open_for_partner,
    partner_registrations,
    withdraw_registration,
)


def register(app: AsyncApp) -> None:
    app.action(Action.card_withdraw)(withdraw)
    app.action(Action.card_provide_info)(provide_info)
    app.action(Action.launcher_mine)(my_registrations)


async def withdraw(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    """The partner takes a registration back; the cards change through the outbox."""
    await ack()
    who = caller(body, context)
    async with reporting(reply_for(client, body, respond), "withdraw"):
        ref = RegistrationRef.model_validate_json(action["value"])
        await withdraw_registration(
            Withdraw(registration_id=ref.id, by=who.actor),
            uow=deps.uow(),
            now=deps.clock(),
            host_team_id=who.host_team_id,
            desk=deps.config.desk,
        )
        deps.kick_outbox()


async def provide_info(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    """Reopen the form, prefilled, with the desk's question on top."""
    await ack()
    who = caller(body, context)
    async with reporting(reply_for(client, body, respond), "provide info"):
        ref = RegistrationRef.model_validate_json(action["value"])
        found = await open_for_partner(
            ref.id,
            actor=who.actor,
            uow=deps.uow(),
            host_team_id=who.host_team_id,
            desk=deps.config.desk,
        )
        registration = found.registration
        form = build_registration_modal(
            program=deps.config.program,
            context=FormContext(
                channel_id=channel_of(body),
                partner_id=found.partner.id,
                registration_id=registration.id,
                version=registration.version,
            ),
            prefill=registration.details,
            info_request=registration.info_request,
        )
        await client.views_open(trigger_id=body["trigger_id"], view=form)


async def my_registrations(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    deps: Deps,
) -> None:
    """Open a modal at once, then fill it with this partner's registrations (only theirs)."""
    await ack()
    who = caller(body, context)
    async with reporting(reply_for(client, body, respond), "my registrations"):
        opened = await client.views_open(
            trigger_id=body["trigger_id"],
            view=build_message_modal("My registrations", "Loading…"),
        )
        try:
            partner = await acting_partner(
                who.actor,
                channel_id=channel_of(body),
                host_team_id=who.host_team_id,
                uow=deps.uow(),
            )
            registrations = await partner_registrations(partner.id or 0, uow=deps.uow())
            view = build_my_registrations_modal(partner, registrations, program=deps.config.program)
        except DomainError as error:
            view = build_message_modal("My registrations", error.message)
        await client.views_update(view_id=opened["view"]["id"], view=view)
